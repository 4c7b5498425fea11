"""Training data hygiene and Rasa's own validation."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SHARED


def _norm(text):
    return re.sub(r"\W+", " ", text.lower()).strip()


def _training_texts():
    texts = []
    for path in (ROOT / "data").rglob("*.yml"):
        raw = path.read_text(encoding="utf-8")
        texts.append(_norm(raw))
    return " ".join(texts)


@pytest.mark.skipif(not (SHARED / "eval").exists(), reason="../shared/eval is not beside this checkout")
def test_no_evaluation_text_is_in_the_training_data():
    corpus = _training_texts()
    leaked = []
    for path in (SHARED / "eval").glob("*.yml"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            texts = [case["tekst"]] if "tekst" in case else [turn["leder"] for turn in case.get("turns") or []]
            for text in texts:
                words = _norm(text).split()
                if len(words) < 4:
                    continue  # "hej", "goddag": too short to be a leak, and greetings must be trainable
                windows = [" ".join(words[i : i + 8]) for i in range(0, max(1, len(words) - 7), 4)]
                if any(w in corpus for w in windows):
                    leaked.append(case["id"])
    assert leaked == []


def test_dilemma_corpus_is_labelled_with_known_ids():
    from bot.classifier import load_examples

    examples = load_examples()
    assert len(examples) >= 300
    assert len({e.tekst for e in examples}) == len(examples)


def test_rasa_data_validate_is_clean(tmp_path):
    """On the domain Rasa trains on: domain.yml and the responses made from bot/knowledge.yml, as `make train`
    and `make validate` build it."""
    from bot.domain_parts import write

    domain = write(ROOT / "bot" / "knowledge.yml", tmp_path / "domain")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "data", "validate", "--domain", str(domain),
         "--data", "data/nlu", "data/rules", "data/stories"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert "No story structure conflicts found" in output
    # Rasa cannot see responses that custom actions dispatch; every one it lists must really be used there.
    unused = re.findall(r"The utterance '(\w+)' is not used in any story or rule", output)
    code = "".join(p.read_text(encoding="utf-8") for p in [*(ROOT / "actions").glob("*.py"), *(ROOT / "bot").glob("*.py"),
                                                   *(ROOT / "rasa_addons").glob("*.py"), *(ROOT / "channels").glob("*.py")])
    rasa_defaults = {"utter_restart", "utter_default"}  # dispatched by Rasa's own action_restart / fallback
    from bot.domain_parts import FRAME, PART  # frames and their parts: read when the domain is built, never said

    not_dispatched = [
        u for u in unused
        if u not in code and u not in rasa_defaults and not u.startswith((FRAME, PART))
        and not any(u.startswith(p) for p in _dynamic_prefixes(code))
    ]
    assert not_dispatched == []
    other_warnings = [
        line for line in output.splitlines()
        if "UserWarning" in line and "is not used in any story or rule" not in line
    ]
    assert other_warnings == []


def _dynamic_prefixes(code):
    """Responses named with an f-string in the actions (utter_ask_{slot}, utter_del_t_{t}, ...)."""
    return [m for m in re.findall(r'f"(utter_[a-z_]+)\{', code)]
