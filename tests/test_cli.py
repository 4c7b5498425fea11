"""The analysis contract as coaches, HR and the evaluation use it: `python -m bot analyse`."""
import json
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT

KEYS = {"kvadranter", "negligeret", "etikker", "borgersyn", "roller", "t_ledelse", "oversaettelse", "fremtid"}


def run_cli(*args, stdin=None):
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "analyse", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_one_text_argument_gives_one_json_object():
    [result] = run_cli("Vi skal spare på vikarbudgettet, men trivslen i teamet er allerede lav.")
    assert KEYS <= set(result)
    assert {h["id"] for h in result["kvadranter"]} >= {"resultater", "relationer"}
    assert result["negligeret"] in {"stabilitet", "fornyelse"}


def test_stdin_gives_one_line_per_text_including_bad_input():
    texts = [
        "Forvaltningen vil have os til at afprøve en ny robot, men reglerne om hygiejne er strenge.",
        "",
        "   \t  ",
        "😀😀😀 🙈",
        "kontrol\x01tegn\x07og\x1b[2Jescape",
        "We need to cut the budget but staff wellbeing is already low.",
        "ord " * 12500,
    ]
    results = run_cli(stdin="\n".join(texts) + "\n")
    assert len(results) == len(texts)
    for result in results:
        assert KEYS <= set(result)
    assert {h["id"] for h in results[0]["kvadranter"]} >= {"fornyelse", "stabilitet"}
    for empty in results[1:4]:
        assert empty["kvadranter"] == [] and empty["borgersyn"] == [] and empty["negligeret"] is None
    assert results[6]["afkortet"] is True


def test_cli_and_conversation_share_one_code_path(analyser):
    text = "Borgerne klager over ventetiden i borgerservice, og vi kunne digitalisere mere."
    [from_cli] = run_cli(text)
    assert from_cli == json.loads(json.dumps(analyser.analyse(text).to_dict()))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_valid_answer(analyser, text):
    data = analyser.analyse(text).to_dict()
    json.dumps(data)
    assert KEYS <= set(data)
    assert all(h["id"] in {"relationer", "stabilitet", "fornyelse", "resultater"} for h in data["kvadranter"])
    assert (data["negligeret"] is None) == (data["kvadranter"] == [])
