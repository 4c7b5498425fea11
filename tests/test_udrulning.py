"""The gate, the figures and the deploy history of HR's candidates (review/udrulning.py), without training;
review/training.py's export of labels. The training itself is shown in tests/test_hr_model.py."""
import json

import pytest
import yaml

from review import training, udrulning


def test_a_figure_falling_more_than_the_tolerance_refuses_the_candidate():
    now = {"intent_macro_f1": 0.86, "intent_accuracy": 0.88, "kvadrant_cv_f1": 0.82}
    assert udrulning.refusals({"nuvaerende": now, "kandidat": dict(now, intent_macro_f1=0.845)}, 0.02) == []
    refused = udrulning.refusals({"nuvaerende": now, "kandidat": dict(now, intent_accuracy=0.85)}, 0.02)
    assert refused == ["intent_accuracy: 0.850 mod 0.880 nu (fald 0.030 > 0.020)"]
    assert udrulning.refusals({"nuvaerende": now, "kandidat": {}}, 0.02), "a missing figure counts as fallen"


def test_figures_per_intent_and_for_quadrants():
    per, macro, accuracy = udrulning._f1(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert per == {"a": 0.667, "b": 0.8} and macro == 0.733 and accuracy == 0.75
    assert udrulning._quadrant_f1([["relationer", "resultater"]], [["resultater"]]) == 0.667


def test_deploy_needs_an_approved_candidate_evaluated_against_what_runs(tmp_path):
    here = udrulning.candidate_dir(tmp_path, "k1")
    here.mkdir()
    with pytest.raises(udrulning.Afvist, match="ikke færdig"):
        udrulning.deploy(tmp_path, "k1", "http://127.0.0.1:1", "x", "hr1")
    (here / "rapport.json").write_text(json.dumps({"godkendt": False, "afvisninger": ["intent_macro_f1: …"]}))
    with pytest.raises(udrulning.Afvist, match="afvist: intent_macro_f1"):
        udrulning.deploy(tmp_path, "k1", "http://127.0.0.1:1", "x", "hr1")
    (here / "rapport.json").write_text(json.dumps({"godkendt": True, "reference": "k0", "tal": {}}))
    with pytest.raises(udrulning.Afvist, match="En anden model"):
        udrulning.deploy(tmp_path, "k1", "http://127.0.0.1:1", "x", "hr1")
    with pytest.raises(udrulning.Afvist, match="ukendt"):
        udrulning.candidate_dir(tmp_path, "../../etc")
    assert udrulning.running(tmp_path) == udrulning.BUILT and udrulning.history(tmp_path) == []


def test_rollback_offers_earlier_artifacts_newest_first_and_the_built_one(tmp_path):
    for kid in ("k1", "k2"):
        udrulning.candidate_dir(tmp_path, kid).mkdir()
        (udrulning.candidate_dir(tmp_path, kid) / "model.tar.gz").write_bytes(b"x")
    udrulning._record(tmp_path, {"artefakt": "k1", "handling": "udrul", "foer": "bygget"})
    udrulning._record(tmp_path, {"artefakt": "k2", "handling": "udrul", "foer": "k1"})
    assert udrulning.running(tmp_path) == "k2"
    assert udrulning.current_model(tmp_path) == udrulning.candidate_dir(tmp_path, "k2") / "model.tar.gz"
    assert udrulning.rollback_targets(tmp_path) == ["k1", "bygget"]
    with pytest.raises(udrulning.Afvist):
        udrulning.rollback(tmp_path, "k9", "http://127.0.0.1:1", "x", "hr1")


class Row:
    def __init__(self, id, tekst, intent=None, hensyn=None):
        self.id, self.tekst, self.maerke_intent = id, tekst, intent
        self.maerke_hensyn = json.dumps(hensyn) if hensyn is not None else None


def test_export_skips_known_examples_keeps_the_newest_label_and_writes_valid_files(tmp_path):
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "styring.yml").write_text('version: "3.1"\nnlu:\n- intent: fortsaette\n  examples: |\n'
                                                  "    - lad os fortsætte\n", encoding="utf-8")
    rows = [Row(1, "kør en runde mere", "springe_til_opsummering"), Row(2, "Kør en  runde mere", "fortsaette"),
            Row(3, "Lad os fortsætte", "fortsaette"),
            Row(4, "vi skal spare og [navn](x) er syg", "beskriv_dilemma", {"kvadranter": ["resultater"]})]
    examples, dilemmas = training.training_data(rows, training.existing_examples(tmp_path))
    assert examples == {"fortsaette": ["Kør en runde mere"], "beskriv_dilemma": ["vi skal spare og [navn] (x) er syg"]}
    assert dilemmas[0]["kvadranter"] == ["resultater"] and dilemmas[0]["t"] is None
    counts = training.write(tmp_path, examples, dilemmas)
    assert counts == {"eksempler": 2, "dilemmaer": 1}
    written = yaml.safe_load((tmp_path / training.NLU_FILE).read_text(encoding="utf-8"))
    assert {b["intent"] for b in written["nlu"]} == {"fortsaette", "beskriv_dilemma"}
    training.write(tmp_path, {}, [])
    assert not (tmp_path / training.NLU_FILE).exists() and not (tmp_path / training.ANALYSIS_FILE).exists()
