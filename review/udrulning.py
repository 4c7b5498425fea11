"""Candidates, their evaluation beside the running model, deploy and rollback.

A candidate is trained from the project's data as it is now plus HR's labels (review/training.py) and the
balance model as HR left it. Its artifact is one Rasa model that also carries the analysis classifier and the
balance model (rasa_addons/balance_analysis.py), so deploy and rollback swap everything that understands a
message at once, through Rasa's own `PUT /model`.

Evaluation is fair to both sides: the held-out set is the fifth of the data the *running* model was trained on
that `make test`'s intent report holds out (stratified by intent, fixed seed), with its labels — a candidate
trained on damaged labels is judged against the labels that were trusted — and each side's twin is trained on
its own data without those texts. HR's
labelled messages are a regression set for the full models. The dilemma figures are each analysis
classifier's cross-validated figures, and its quadrant F1 on the dilemmas HR marked. A deploy is refused when
any figure drops by more than the tolerance (BALANCECOACH_DEPLOY_TOLERANCE).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple


from review import training

ROOT = Path(__file__).resolve().parent.parent
BUILT_MODEL = ROOT / "models" / "balancecoach.tar.gz"
BUILT = "bygget"
"""The artifact `make train` built: what runs until HR deploys a candidate, and what a rollback can return to."""
RASA_DATA = ("nlu", "rules", "stories")


class Afvist(RuntimeError):
    """A deploy the gate or the state of things does not allow; the message says why, in Danish."""


# --- Where things are ---------------------------------------------------------------------------------------


def models_dir(state_dir: Path) -> Path:
    path = Path(state_dir) / "modeller"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def candidate_dir(state_dir: Path, kid: str) -> Path:
    if not kid.replace("-", "").isalnum():
        raise Afvist("ukendt kandidat")
    return models_dir(state_dir) / kid


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _write_json(path: Path, value) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def history(state_dir: Path) -> List[dict]:
    """Every deploy and rollback, oldest first; the last entry is what runs."""
    return _read_json(models_dir(state_dir) / "udrulninger.json", [])


def running(state_dir: Path) -> str:
    entries = history(state_dir)
    return entries[-1]["artefakt"] if entries else BUILT


def model_of(state_dir: Path, artefakt: str) -> Path:
    return BUILT_MODEL if artefakt == BUILT else candidate_dir(state_dir, artefakt) / "model.tar.gz"


def current_model(state_dir: Path) -> Path:
    """The model a (re)starting Rasa server loads: the last one deployed, else the built one."""
    path = model_of(state_dir, running(state_dir))
    return path if path.exists() else BUILT_MODEL


def _data_of(state_dir: Path, artefakt: str, project: Path) -> Path:
    """The data an artifact was trained from (the built model's: the project's, as `make train` found it)."""
    return project / "data" if artefakt == BUILT else candidate_dir(state_dir, artefakt) / "data"


def packed(model: Path) -> Dict[str, bytes]:
    """The analysis classifier and balance model a Rasa model carries (rasa_addons/balance_analysis.py)."""
    import tarfile

    from rasa_addons.balance_analysis import CLASSIFIER_FILE, KNOWLEDGE_FILE

    found: Dict[str, bytes] = {}
    with tarfile.open(model, "r:gz") as archive:
        for member in archive.getmembers():
            name = Path(member.name).name
            if "BalanceAnalysis" in member.name and name in (CLASSIFIER_FILE, KNOWLEDGE_FILE):
                found[name] = archive.extractfile(member).read()
    if len(found) != 2:
        raise Afvist(f"{model.name} bærer ikke analysen: træn den igen med 'make train'.")
    return found


def candidates(state_dir: Path) -> List[dict]:
    """Every candidate with its status and report, newest first."""
    found = []
    for path in sorted(models_dir(state_dir).glob("k*"), reverse=True):
        if path.is_dir():
            found.append({"id": path.name, "status": status(state_dir, path.name),
                          "rapport": _read_json(path / "rapport.json", None)})
    return found


def status(state_dir: Path, kid: str) -> dict:
    return _read_json(candidate_dir(state_dir, kid) / "status.json", {"trin": "ukendt", "procent": 0})


def new_id() -> str:
    return "k" + dt.datetime.now().strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(2).hex()


def busy(state_dir: Path) -> Optional[str]:
    """The candidate being trained now, if any: one at a time, the machine has two cores."""
    for c in candidates(state_dir):
        st = c["status"]
        if not st.get("faerdig") and not st.get("fejl"):
            pid = st.get("pid")
            try:
                if pid:
                    os.kill(int(pid), 0)
                    return c["id"]
            except (OSError, ValueError):
                continue
    return None


def start(state_dir: Path, project: Path, bruger: str, env: Dict[str, str]) -> str:
    """Train a candidate in the background (its own process); returns its id at once."""
    if busy(state_dir):
        raise Afvist("Der trænes allerede en kandidat. Vent, til den er færdig.")
    kid = new_id()
    here = candidate_dir(state_dir, kid)
    here.mkdir(mode=0o700)
    log = open(here / "log.txt", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "review", "candidate", "--id", kid, "--bruger", bruger, "--projekt", str(project)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _write_json(here / "status.json", {"trin": "Starter", "procent": 1, "pid": process.pid, "bruger": bruger,
                                       "start": time.time()})
    return kid


# --- Building a candidate -----------------------------------------------------------------------------------


def _run(args: List[str], env: Optional[Dict[str, str]] = None, cwd: Path = ROOT) -> None:
    result = subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(args[:3]))} fejlede:\n{tail}")


def _start(args: List[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, stdout=open(log, "wb"), stderr=subprocess.STDOUT)


def _finish(process: subprocess.Popen, log: Path) -> None:
    if process.wait() != 0:
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-15:])
        raise RuntimeError(f"analysens træning fejlede:\n{tail}")


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def build(state_dir: Path, kid: str, project: Path, engine, bruger: str, tolerance: float) -> dict:
    """Train, evaluate and judge one candidate; its status file follows each step for the progress bar.
    A candidate whose held-out figures already fall too far is refused before its artifact is built (there
    would be nothing to deploy)."""
    here = candidate_dir(state_dir, kid)
    here.mkdir(exist_ok=True, mode=0o700)
    st = {**status(state_dir, kid), "pid": os.getpid(), "bruger": bruger}
    st.setdefault("start", time.time())

    def step(text: str, percent: int) -> None:
        st.update(trin=text, procent=percent)
        st.setdefault("tider", []).append([text, round(time.time() - st["start"], 1)])
        _write_json(here / "status.json", st)

    training_analysis: Optional[subprocess.Popen] = None
    try:
        step("Samler data og HR's mærkninger", 5)
        if (here / "data").exists():
            shutil.rmtree(here / "data")
        shutil.copytree(project / "data", here / "data")
        shutil.copy2(project / "bot" / "knowledge.yml", here / "knowledge.yml")
        shutil.copy2(project / "config.yml", here / "config.yml")
        exported = training.export(engine, here / "data")
        reference = running(state_dir)
        running_analysis = packed(model_of(state_dir, reference))
        (here / "nuvaerende-analyse.pkl").write_bytes(running_analysis["analyse.pkl"])
        if _same_analysis(here, running_analysis):
            step("Analysens data og balancemodellen er uændrede: genbruger den kørende analyse", 10)
            shutil.copy2(here / "nuvaerende-analyse.pkl", here / "analyse.pkl")
        else:  # on the second core, beside the twin: intents do not depend on the analysis
            step("Træner analysen af hensyn og kandidatens tvilling", 10)
            training_analysis = _start([sys.executable, "-m", "bot", "train", "--data", str(here / "data" / "analyse"),
                                        "--knowledge", str(here / "knowledge.yml"), "--out", str(here / "analyse.pkl")],
                                       here / "analyse.log")
        packed_env = {"BALANCECOACH_ANALYSE_MODEL": str(here / "analyse.pkl"),
                      "BALANCECOACH_KNOWLEDGE": str(here / "knowledge.yml")}
        held_out, current_twin = reference_split(state_dir, reference, project)
        if training_analysis is None:
            step("Træner kandidatens tvilling uden de udeholdte eksempler", 25)
        candidate_twin = _twin(here / "data" / "nlu", held_out, here / "tvilling", here / "config.yml",
                               {**packed_env, "BALANCECOACH_ANALYSE_MODEL": str(here / "nuvaerende-analyse.pkl")})
        if training_analysis is not None:
            step("Træner analysen af hensyn færdig", 45)
            _finish(training_analysis, here / "analyse.log")
        step("Sammenligner på de udeholdte eksempler", 50)
        report = evaluate({"nuvaerende": current_twin, "kandidat": candidate_twin},
                          {"nuvaerende": here / "nuvaerende-analyse.pkl", "kandidat": here / "analyse.pkl"}, held_out)
        report.update(kandidat=kid, reference=reference, eksporteret=exported, tolerance=tolerance, bruger=bruger)
        if not refusals(report["tal"], tolerance):
            step("Træner kandidaten på alle data", 60)
            _run([sys.executable, "-m", "bot", "domain", "--knowledge", str(here / "knowledge.yml"),
                  "--domain", str(project / "domain.yml"), "--out", str(here / "domain")])
            _run([_bin("rasa"), "train", "--config", str(here / "config.yml"), "--domain", str(here / "domain"),
                  "--data", *[str(here / "data" / d) for d in RASA_DATA], "--out", str(here),
                  "--fixed-model-name", "model"], env=packed_env)
            step("Prøver kandidaten på HR's mærkede beskeder", 90)
            regression_figures(report, {"nuvaerende": model_of(state_dir, reference),
                                        "kandidat": here / "model.tar.gz"}, training.regression_set(engine))
        report["tid"] = time.time()
        report["afvisninger"] = refusals(report["tal"], tolerance)
        report["godkendt"] = not report["afvisninger"]
        _write_json(here / "rapport.json", report)
        st.setdefault("tider", []).append(["Færdig", round(time.time() - st["start"], 1)])
        st.update(trin="Færdig", procent=100, faerdig=True)
        _write_json(here / "status.json", st)
        return report
    except Exception as error:  # the page shows what failed; the log has the rest
        if training_analysis is not None and training_analysis.poll() is None:
            training_analysis.kill()
        st.update(fejl=str(error)[:3000], trin="Fejlede")
        _write_json(here / "status.json", st)
        raise


def _same_analysis(here: Path, running_analysis: Dict[str, bytes]) -> bool:
    """Whether the candidate's dilemmas and balance model are the running model's: then its analysis is too."""
    import pickle

    from bot import classifier

    trained = pickle.loads(running_analysis["analyse.pkl"])
    return trained.fingerprint == classifier.data_fingerprint(here / "data" / "analyse") \
        and running_analysis["knowledge.yml"] == (here / "knowledge.yml").read_bytes()


def reference_split(state_dir: Path, reference: str, project: Path) -> Tuple[List[Tuple[str, str]], Path]:
    """(held-out examples with the running model's labels, the running model's twin trained without them).

    For the built model these are what `make test` made (models/tvilling, from the data the model was built
    from); for a deployed candidate, its own data split the same way, trained once and kept."""
    from ops.evaluation import TWIN, split_and_twin

    if reference == BUILT and (TWIN / "nlu.tar.gz").exists():
        out = TWIN
    else:
        ref_data = _data_of(state_dir, reference, project)
        digest = hashlib.sha256()
        for path in sorted((ref_data / "nlu").glob("*.yml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        digest.update((project / "config.yml").read_bytes())
        out = models_dir(state_dir) / f"tvilling-{digest.hexdigest()[:12]}"
        if not (out / "nlu.tar.gz").exists():
            split_and_twin(ref_data / "nlu", project / "config.yml", out)
    held_out = [(training.plain(t), i) for t, i in training.nlu_examples(out / "split" / "test_data.yml")]
    return held_out, out / "nlu.tar.gz"


def _twin(nlu_dir: Path, held_out: List[Tuple[str, str]], out: Path, config: Path,
          env: Optional[Dict[str, str]] = None) -> Path:
    """An NLU model trained on `nlu_dir` without the held-out texts."""
    hidden = {training.normal(t) for t, _ in held_out}
    rest: Dict[str, List[str]] = {}
    for text, intent in training.nlu_examples(nlu_dir):
        if training.normal(training.plain(text)) not in hidden:
            rest.setdefault(intent, []).append(text)
    training.write_nlu(rest, out / "nlu.yml")
    _run([_bin("rasa"), "train", "nlu", "--nlu", str(out / "nlu.yml"), "--config", str(config), "--out", str(out),
          "--fixed-model-name", "nlu"], env=env)
    return out / "nlu.tar.gz"


# --- Evaluation ---------------------------------------------------------------------------------------------


def _parse_all(model: Path, texts: List[str]) -> List[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse():
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(parse())


def _f1(gold: List[str], predicted: List[str]) -> Tuple[Dict[str, float], float, float]:
    """Per-intent F1, macro F1 over the gold intents, accuracy."""
    per = {}
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        per[label] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    macro = round(sum(per.values()) / len(per), 3) if per else 0.0
    per = {label: round(value, 3) for label, value in per.items()}
    accuracy = round(sum(g == p for g, p in zip(gold, predicted)) / len(gold), 3) if gold else 0.0
    return per, macro, accuracy


def _quadrant_f1(gold: List[List[str]], heard: List[List[str]]) -> float:
    tp = sum(len(set(g) & set(h)) for g, h in zip(gold, heard))
    fp = sum(len(set(h) - set(g)) for g, h in zip(gold, heard))
    fn = sum(len(set(g) - set(h)) for g, h in zip(gold, heard))
    return round(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn), 3)


def analysis_cv(path: Path) -> Dict[str, float]:
    import pickle

    report = pickle.loads(Path(path).read_bytes()).report

    def mean(prefix: str) -> float:
        values = [v for k, v in report.items() if k.startswith(prefix)]
        return round(sum(values) / len(values), 3)

    return {"kvadrant_cv_f1": mean("kvadrant:"), "borgersyn_cv_f1": mean("borgersyn:"),
            "linse_cv_f1": mean("linse:"), "t_ledelse_cv_accuracy": report["t_ledelse"]}


def evaluate(twins: Dict[str, Path], analyses: Dict[str, Path], held_out: List[Tuple[str, str]]) -> dict:
    """Held-out figures for both twins side by side, every held-out message whose reading changed, and each
    analysis classifier's cross-validated figures."""
    texts = [t for t, _ in held_out]
    gold = [i for _, i in held_out]
    figures: Dict[str, Dict[str, float]] = {}
    per_intent: Dict[str, Dict[str, float]] = {}
    readings: Dict[str, List[str]] = {}
    for side in ("nuvaerende", "kandidat"):
        predicted = [(p.get("intent") or {}).get("name") or "" for p in _parse_all(twins[side], texts)]
        per, macro, accuracy = _f1(gold, predicted)
        figures[side] = {"intent_macro_f1": macro, "intent_accuracy": accuracy, **analysis_cv(analyses[side])}
        per_intent[side] = per
        readings[side] = predicted
    changed = [{"tekst": text, "rigtig": expected, "foer": readings["nuvaerende"][n], "nu": readings["kandidat"][n],
                "kilde": "udeholdt"} for n, (text, expected) in enumerate(held_out)
               if readings["nuvaerende"][n] != readings["kandidat"][n]]
    return {"tal": figures, "per_intent": per_intent, "aendret": changed,
            "antal": {"udeholdt": len(held_out), "hr": 0}}


def regression_figures(report: dict, full: Dict[str, Path], regression: List[dict]) -> None:
    """HR's labelled messages read by the two full models: their intents, and the quadrants of the dilemmas."""
    report["antal"]["hr"] = len(regression)
    if not regression:
        return
    texts = [r["tekst"] for r in regression]
    readings = {}
    for side in ("nuvaerende", "kandidat"):
        parsed = _parse_all(full[side], texts)
        readings[side] = [(p.get("intent") or {}).get("name") or "" for p in parsed]
        labelled = [(r, p) for r, p in zip(regression, parsed) if r.get("intent")]
        if labelled:
            hits = [(p.get("intent") or {}).get("name") == r["intent"] for r, p in labelled]
            report["tal"][side]["hr_intent_accuracy"] = round(sum(hits) / len(hits), 3)
        dilemmas = [(r, p) for r, p in zip(regression, parsed) if r.get("hensyn") is not None]
        if dilemmas:
            heard = [[h.get("id") for h in (p.get("balance") or {}).get("kvadranter") or []] for _, p in dilemmas]
            report["tal"][side]["hr_kvadrant_f1"] = _quadrant_f1(
                [r["hensyn"].get("kvadranter") or [] for r, _ in dilemmas], heard)
    for n, row in enumerate(regression):
        if readings["nuvaerende"][n] != readings["kandidat"][n]:
            report["aendret"].append({"tekst": row["tekst"], "rigtig": row.get("intent") or "",
                                      "foer": readings["nuvaerende"][n], "nu": readings["kandidat"][n], "kilde": "hr"})


def refusals(figures: Dict[str, Dict[str, float]], tolerance: float) -> List[str]:
    """Each figure the candidate loses more than `tolerance` on, as a readable Danish line."""
    now, new = figures["nuvaerende"], figures["kandidat"]
    return [f"{name}: {new.get(name, 0.0):.3f} mod {now[name]:.3f} nu (fald {now[name] - new.get(name, 0.0):.3f} "
            f"> {tolerance:.3f})" for name in sorted(now) if now[name] - new.get(name, 0.0) > tolerance + 1e-9]


# --- Deploy and rollback ------------------------------------------------------------------------------------


def _put_model(rasa_urls, api_secret: str, model: Path, bruger: str, timeout: float = 300.0) -> None:
    """Every replica loads the model (the file must be where each can read it: one machine, or a shared
    volume). A replica that refuses stops the deploy; those before it already run the new model, and the
    message says which, so HR rolls back or tries again."""
    import jwt
    import requests

    if not api_secret:
        raise Afvist("Rasas HTTP API er slået fra (BALANCECOACH_API=1 mangler), så modellen kan ikke skiftes.")
    token = jwt.encode({"user": {"username": bruger, "role": "admin"}, "exp": int(time.time()) + 600},
                       api_secret, algorithm="HS256")
    done: List[str] = []
    for rasa_url in ([rasa_urls] if isinstance(rasa_urls, str) else rasa_urls):
        try:
            response = requests.put(f"{rasa_url}/model", json={"model_file": str(model)},
                                    headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
            problem = None if response.status_code == 204 else f"{response.status_code}: {response.text[:300]}"
        except requests.RequestException as error:
            problem = str(error)
        if problem:
            raise Afvist(f"Rasa-serveren {rasa_url} ville ikke skifte model ({problem})"
                         + (f"; {', '.join(done)} kører allerede den nye" if done else ""))
        done.append(rasa_url)


def _record(state_dir: Path, entry: dict) -> None:
    entries = history(state_dir)
    entries.append(entry)
    _write_json(models_dir(state_dir) / "udrulninger.json", entries)


def deploy(state_dir: Path, kid: str, rasa_url, api_secret: str, bruger: str) -> dict:
    """Put an approved candidate into service; the running server swaps model and analysis in one load."""
    report = _read_json(candidate_dir(state_dir, kid) / "rapport.json", None)
    if report is None:
        raise Afvist("Kandidaten er ikke færdig.")
    if not report.get("godkendt"):
        raise Afvist("Kandidaten er afvist: " + "; ".join(report.get("afvisninger") or []))
    if report.get("reference") != running(state_dir):
        raise Afvist("En anden model er udrullet siden kandidaten blev evalueret. Træn en ny kandidat.")
    _put_model(rasa_url, api_secret, model_of(state_dir, kid), bruger)
    entry = {"artefakt": kid, "handling": "udrul", "bruger": bruger, "tid": time.time(),
             "tal": report["tal"]["kandidat"], "foer": report["reference"]}
    _record(state_dir, entry)
    return entry


def rollback_targets(state_dir: Path) -> List[str]:
    """Earlier artifacts one click can return to, newest first (the built model last)."""
    seen, targets = {running(state_dir)}, []
    for entry in reversed(history(state_dir)):
        for artefakt in (entry.get("foer"), entry["artefakt"]):
            if artefakt and artefakt not in seen and model_of(state_dir, artefakt).exists():
                seen.add(artefakt)
                targets.append(artefakt)
    if BUILT not in seen:
        targets.append(BUILT)
    return targets


def rollback(state_dir: Path, artefakt: str, rasa_url, api_secret: str, bruger: str) -> dict:
    if artefakt not in rollback_targets(state_dir):
        raise Afvist("Den model kan der ikke rulles tilbage til.")
    _put_model(rasa_url, api_secret, model_of(state_dir, artefakt), bruger)
    report = _read_json(candidate_dir(state_dir, artefakt) / "rapport.json", None) if artefakt != BUILT else None
    entry = {"artefakt": artefakt, "handling": "rul_tilbage", "bruger": bruger, "tid": time.time(),
             "tal": (report or {}).get("tal", {}).get("kandidat"), "foer": running(state_dir)}
    _record(state_dir, entry)
    return entry
