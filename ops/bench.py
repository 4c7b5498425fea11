"""`make bench`: what the coach costs on this machine.

1. analysis throughput and the peak memory of the analysis process (measured first, so the peak belongs to it);
2. `rasa train` time for the coach, in a temporary folder;
3. per-turn latency through the REST channel, one leader and 20 leaders at once, side by side with a plain
   `rasa init` assistant trained in a temporary folder — the framework's floor on this machine — both serving
   at once and measured in alternating rounds;
4. resident memory of the Rasa server and the action server;
5. the review app's list, transcript and organisation pages with 10,000 conversations on PostgreSQL
   (ops/review_bench.py).
"""
from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

from bot.settings import ROOT

RASA = str(Path(sys.executable).parent / "rasa")

LEADER_TURNS = [
    "hej",
    "Vi skal spare to millioner på plejecentret, og jeg er bange for at trivslen blandt personalet styrtdykker.",
    "ja det rammer",
    "Måske kan vi prøve noget nyt sammen med frivillige og pårørende.",
    "Lige nu 60/40 til økonomien, men trivslen må ikke glemmes.",
    "Det gode ville være at være ærlig om hvad vi kan og ikke kan.",
    "Jeg vil tage en snak med MED-udvalget på mandag.",
    "vis opsummeringen",
    "hvad er pligtetik?",
    "start forfra",
]
FLOOR_TURNS = ["hi", "great", "bye", "hello", "I am sad", "yes", "no", "goodbye", "hey", "very good"]
ROUNDS = 3
ONE_LEADER_ROUNDS = 10
"""One leader's turns are quick and few, so they are measured in more rounds than the 20 leaders' turns."""


def _percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def _post(url: str, sender: str, message: str, headers: Dict[str, str]) -> None:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=60) as response:
        json.loads(response.read())


def _open(url: str):
    """A conversation the server issues (the coach's session contract), or a random id for plain Rasa REST."""
    import urllib.error

    request = urllib.request.Request(url.rsplit("/", 1)[0] + "/session", b"{}", {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            opened = json.loads(response.read())
        return opened["sender"], {"Authorization": f"Bearer {opened['token']}"}
    except urllib.error.HTTPError as error:
        if error.code not in (404, 405):
            raise
        return uuid.uuid4().hex, {}


def _load(url: str, turns: List[str], leaders: int, per_leader: int = 20) -> Dict[str, Any]:
    """`leaders` conversations at once, `per_leader` turns each; the raw latencies, for pooling across rounds."""
    latencies: List[float] = []
    errors = [0]
    lock = threading.Lock()

    def leader():
        sender, headers = _open(url)
        for i in range(per_leader):
            started = time.perf_counter()
            try:
                _post(url, sender, turns[i % len(turns)], headers)
                with lock:
                    latencies.append(time.perf_counter() - started)
            except Exception:
                with lock:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=leader) for _ in range(leaders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "wall": time.perf_counter() - started, "errors": errors[0]}


def _summary(runs: List[Dict[str, Any]]) -> Dict[str, float]:
    latencies = [x for run in runs for x in run["latencies"]]
    return {
        "p50_ms": round(_percentile(latencies, 0.5), 1) if latencies else None,
        "p95_ms": round(_percentile(latencies, 0.95), 1) if latencies else None,
        "turns_per_s": round(len(latencies) / sum(run["wall"] for run in runs), 1),
        "errors": sum(run["errors"] for run in runs),
    }


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (Rasa's server forks none, but be safe)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def analysis_throughput() -> Dict[str, float]:
    from bot.classifier import load_examples

    texts = [e.tekst for e in load_examples()] * 2
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "analyse"], input="\n".join(texts) + "\n", text=True,
                   capture_output=True, check=True, cwd=ROOT)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"texts": len(texts), "seconds_incl_startup": round(wall, 1), "texts_per_s": round(len(texts) / wall, 1),
            "peak_rss_mb": round(peak, 1)}


def train_time(tmp: Path) -> float:
    """`rasa train` as `make train` runs it, the generated domain included (its writing is part of the time)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "domain", "--knowledge", "bot/knowledge.yml", "--out",
                    str(tmp / "domain")], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([RASA, "train", "--domain", str(tmp / "domain"), "--data", "data/nlu", "data/rules", "data/stories",
                    "--out", str(tmp / "models"), "--force"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return round(time.perf_counter() - started, 1)


def floor_server(tmp: Path, port: int):
    """A plain `rasa init` assistant, trained and serving REST: Rasa's own floor on this machine."""
    project = tmp / "floor"
    project.mkdir(parents=True, exist_ok=True)
    subprocess.run([RASA, "init", "--no-prompt", "--init-dir", str(project)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    process = subprocess.Popen([RASA, "run", "--port", str(port), "--interface", "127.0.0.1"], cwd=project,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except Exception:
            time.sleep(0.5)
    process.kill()
    raise TimeoutError("rasa init-assistenten startede ikke")


def latency(targets: Dict[str, Tuple[str, List[str]]], rounds: int = ROUNDS,
            one_leader_rounds: int = ONE_LEADER_ROUNDS) -> Dict[str, Dict[str, Dict]]:
    """Both assistants serve at once and are measured in turn, the order flipped every round, so a machine that
    speeds up or slows down during the run weighs on both alike. Latencies are pooled over the rounds. Each
    assistant first has one whole conversation, so what it loads on first use is not counted as a turn."""
    runs: Dict[str, Dict[str, List]] = {name: {"1 leder": [], "20 ledere": []} for name in targets}
    for name, (url, turns) in targets.items():
        _load(url, turns, 1, len(turns))
    for label, leaders, count in (("1 leder", 1, one_leader_rounds), ("20 ledere", 20, rounds)):
        for round_ in range(count):
            order = list(targets) if round_ % 2 == 0 else list(reversed(list(targets)))
            for name in order:
                url, turns = targets[name]
                runs[name][label].append(_load(url, turns, leaders))
    return {name: {k: _summary(v) for k, v in row.items()} for name, row in runs.items()}


def main(only_review: bool = False) -> int:
    from . import review_bench
    from .evaluation import isolated_settings
    from .stack import Stack

    if only_review:
        review_bench.main()
        return 0

    print("Analyse:", json.dumps(analysis_throughput()), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("rasa train (coachen, fra bunden):", train_time(tmp), "s", flush=True)
        # 20 simulated leaders share one client address here, and each sends its turns back to back.
        unlimited = {"BALANCECOACH_CLIENT_MESSAGES_PER_MINUTE": "1000000", "BALANCECOACH_MESSAGES_PER_MINUTE": "100000",
                     "BALANCECOACH_MESSAGE_BURST": "1000"}
        with Stack(isolated_settings(5205, 5255, tmp, **unlimited)) as stack:
            floor = floor_server(tmp, 5305)
            try:
                rows = latency({
                    "balancecoach": (f"{stack.url}/webhooks/rest/webhook", LEADER_TURNS),
                    "rasa init (gulv)": ("http://127.0.0.1:5305/webhooks/rest/webhook", FLOOR_TURNS),
                })
            finally:
                floor.terminate()
                floor.wait(timeout=30)
            rasa_pid, action_pid = stack.processes[1].pid, stack.processes[0].pid
            memory = {"rasa_server_rss_mb": _rss_mb(rasa_pid), "action_server_rss_mb": _rss_mb(action_pid)}
        shutil.rmtree(tmp / "floor", ignore_errors=True)
    print(f"\nLatens pr. tur gennem REST (20 ture pr. leder; skiftevis {ONE_LEADER_ROUNDS} runder med 1 leder, "
          f"{ROUNDS} med 20):")
    print(f"  {'':18s} {'1: p50':>8s} {'1: p95':>8s} {'20: p50':>8s} {'20: p95':>8s} {'20: ture/s':>10s} {'fejl':>5s}")
    for name, row in rows.items():
        one, many = row["1 leder"], row["20 ledere"]
        print(f"  {name:18s} {one['p50_ms']:8.1f} {one['p95_ms']:8.1f} {many['p50_ms']:8.1f} {many['p95_ms']:8.1f}"
              f" {many['turns_per_s']:10.1f} {one['errors'] + many['errors']:5d}")
    coach, base = rows["balancecoach"], rows["rasa init (gulv)"]
    ratio = {k: round(coach[k]["p50_ms"] / base[k]["p50_ms"], 2) for k in coach}
    print("p50 i forhold til gulvet:", json.dumps(ratio))
    print("Hukommelse:", json.dumps(memory))
    print(json.dumps({"latency": rows, "p50_ratio": ratio, "memory": memory}))
    review_bench.main()
    return 0
