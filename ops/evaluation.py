"""`make eval`'s NLU half: an intent report on a held-out split of data/nlu.

Rasa trains an NLU-only model on 80 % of the examples (stratified by intent, fixed seed) and is scored on
the other 20 %, which it has never seen. Runs Rasa as a command, so this module imports no Rasa.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List

from bot.settings import ROOT

RESULTS = ROOT / "results"


def _rasa(*args: str, cwd: Path = ROOT) -> None:
    subprocess.run([str(Path(sys.executable).parent / "rasa"), *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def nlu_report() -> int:
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _rasa("data", "split", "nlu", "--nlu", str(ROOT / "data" / "nlu"), "--training-fraction", "0.8",
              "--random-seed", "7", "--out", str(tmp / "split"))
        _rasa("train", "nlu", "--nlu", str(tmp / "split" / "training_data.yml"), "--config", str(ROOT / "config.yml"),
              "--out", str(tmp / "models"), "--fixed-model-name", "nlu")
        _rasa("test", "nlu", "--nlu", str(tmp / "split" / "test_data.yml"), "--model", str(tmp / "models" / "nlu.tar.gz"),
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
    return 0


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
