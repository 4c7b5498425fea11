"""The data gate: a change to data/ that makes the coach understand leaders worse fails `make test`.

Both figures come from training `make test` already does (the analysis classifier's cross-validation in
`make train`, and one held-out NLU training in models/nlu_rapport.json), so the gate trains nothing itself.
"""
import json
from pathlib import Path

import yaml

from ops.evaluation import analysis_figures, below_floors, nlu_fingerprint

ROOT = Path(__file__).resolve().parent.parent
FLOORS = yaml.safe_load((ROOT / "tests" / "gulve.yml").read_text(encoding="utf-8"))
REPORT = ROOT / "models" / "nlu_rapport.json"


def test_intent_figures_are_measured_on_the_current_data_and_hold_their_floors():
    assert REPORT.exists(), "models/nlu_rapport.json mangler: kør 'make test' (den bygger rapporten)"
    figures = json.loads(REPORT.read_text())
    assert figures["fingerprint"] == nlu_fingerprint(), "the intent report is older than data/nlu: run make test"
    assert below_floors(figures, FLOORS["intent"]) == []


def test_the_analysis_figures_hold_their_floors():
    assert below_floors(analysis_figures(), FLOORS["analyse"]) == []


def test_a_figure_below_its_floor_or_missing_is_reported():
    floors = {"intent_macro_f1": 0.84, "intent_accuracy": 0.85}
    assert below_floors({"intent_macro_f1": 0.83, "intent_accuracy": 0.9}, floors) == ["intent_macro_f1: 0.83 < 0.84"]
    assert below_floors({"intent_accuracy": 0.9}, floors) == ["intent_macro_f1: None < 0.84"]
