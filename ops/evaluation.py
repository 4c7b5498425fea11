"""`make eval`'s NLU half: an intent report on a held-out split of data/nlu.

Rasa trains an NLU-only model on 80 % of the examples (stratified by intent, fixed seed) and is scored on
the other 20 %, which it has never seen. Runs Rasa as a command, so this module imports no Rasa.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
import sys
from pathlib import Path
from typing import Dict, List, Optional

from bot.settings import ROOT

RESULTS = ROOT / "results"


def _rasa(*args: str, cwd: Path = ROOT) -> None:
    subprocess.run([str(Path(sys.executable).parent / "rasa"), *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


NLU_INPUTS = ("config.yml", "data/nlu")
TWIN = ROOT / "models" / "tvilling"
"""The held-out split and the NLU model trained without it: HR's candidates are compared on the same split
against this twin of the built model (review/udrulning.py), so `make test` trains it once for both."""


def nlu_fingerprint(root: Path = ROOT) -> str:
    """A hash of what the intent figures depend on: the NLU data and the pipeline."""
    import hashlib

    digest = hashlib.sha256()
    for name in NLU_INPUTS:
        path = root / name
        for file in sorted(path.rglob("*.yml")) if path.is_dir() else [path]:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def split_and_twin(nlu: Path, config: Path, out: Path, env: Optional[Dict[str, str]] = None) -> Path:
    """Split `nlu` 80/20 (stratified by intent, fixed seed) into out/split and train out/nlu.tar.gz on the 80 %."""
    import os

    _rasa("data", "split", "nlu", "--nlu", str(nlu), "--training-fraction", "0.8", "--random-seed", "7",
          "--out", str(out / "split"))
    subprocess.run([str(Path(sys.executable).parent / "rasa"), "train", "nlu", "--nlu",
                    str(out / "split" / "training_data.yml"), "--config", str(config), "--out", str(out),
                    "--fixed-model-name", "nlu"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    return out / "nlu.tar.gz"


def nlu_report(out: Optional[Path] = None) -> int:
    """The intent report on a held-out 20 % (one training); `out` keeps the figures, with the fingerprint of the
    data they were measured on, for the quality gate in `make test`."""
    import shutil

    RESULTS.mkdir(exist_ok=True)
    shutil.rmtree(TWIN, ignore_errors=True)
    split_and_twin(ROOT / "data" / "nlu", ROOT / "config.yml", TWIN)
    (TWIN / "fingerprint").write_text(nlu_fingerprint() + "\n")
    _rasa("test", "nlu", "--nlu", str(TWIN / "split" / "test_data.yml"), "--model", str(TWIN / "nlu.tar.gz"),
          "--out", str(RESULTS / "nlu"))
    report = json.loads((RESULTS / "nlu" / "intent_report.json").read_text())
    print("\nNLU intent report (held-out 20 %, never seen in training):")
    print(f"  {'intent':18s} {'precision':>9s} {'recall':>7s} {'f1':>6s} {'n':>4s}")
    for intent, row in sorted(report.items()):
        if isinstance(row, dict) and "support" in row and intent not in ("macro avg", "weighted avg", "micro avg"):
            print(f"  {intent:18s} {row['precision']:9.3f} {row['recall']:7.3f} {row['f1-score']:6.3f} {row['support']:4d}")
    macro = report["macro avg"]
    figures = {"intent_macro_f1": round(macro["f1-score"], 3), "intent_accuracy": round(report.get("accuracy", 0), 3),
               "test_examples": report["macro avg"]["support"]}
    print(json.dumps(figures))
    if out is not None:
        Path(out).write_text(json.dumps({**figures, "fingerprint": nlu_fingerprint()}) + "\n")
    return 0


def below_floors(figures: Dict[str, float], floors: Dict[str, float]) -> List[str]:
    """Each figure under its floor, as a readable line; a figure that is missing counts as under."""
    return [f"{name}: {figures.get(name)} < {floor}" for name, floor in sorted(floors.items())
            if figures.get(name) is None or figures[name] < floor]


def analysis_figures() -> Dict[str, float]:
    """The analysis classifier's own cross-validated figures (5 folds over data/analyse/, computed when
    `make train` trains it), averaged per kind."""
    from bot import classifier

    report = classifier.load().report

    def mean(prefix: str) -> float:
        values = [v for k, v in report.items() if k.startswith(prefix)]
        return round(sum(values) / len(values), 3)

    return {"kvadrant_cv_f1": mean("kvadrant:"), "borgersyn_cv_f1": mean("borgersyn:"),
            "linse_cv_f1": mean("linse:"), "t_ledelse_cv_accuracy": report["t_ledelse"]}


def isolated_settings(rasa_port: int, action_port: int, state_dir: Path, **extra: str):
    """Settings for a throw-away coach on its own ports, SQLite file and secrets, beside any `make run`.
    `extra` sets further variables (BALANCECOACH_… names)."""
    import os

    from bot import settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCECOACH_")}
    env.update({
        "RASA_PORT": str(rasa_port), "ACTION_PORT": str(action_port), "BALANCECOACH_HOST": "127.0.0.1",
        "BALANCECOACH_STATE_DIR": str(state_dir),
        "BALANCECOACH_DATABASE_URL": f"sqlite:///{state_dir / 'tracker.db'}",
    })
    env.update(extra)
    return settings.load(env)


def scorer_for(gold: Path) -> Path:
    """The shared scorer beside a gold file: whole conversations (cases with `turns`) or single messages."""
    import yaml

    cases = yaml.safe_load(gold.read_text(encoding="utf-8")) or []
    name = "score_dialogues.py" if cases and "turns" in cases[0] else "score_behaviour.py"
    return gold.parent / name


def conversation_report(golds: List[Path]) -> int:
    """Start the coach once and run each gold file's shared scorer against its REST channel."""
    from .stack import Stack

    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        with Stack(isolated_settings(5105, 5155, Path(tmp))) as stack:
            for gold in golds:
                print(f"\n{gold.name}:", flush=True)
                proc = subprocess.run([sys.executable, str(scorer_for(gold)), str(gold),
                                       f"{stack.url}/webhooks/rest/webhook"])
                worst = max(worst, proc.returncode)
    return worst
