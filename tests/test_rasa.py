"""Rasa's own test of the dialogue: the end-to-end test stories must pass without a single prediction error."""
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_stories_pass_with_fail_on_prediction_errors(tmp_path):
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "test", "core", "--stories", "tests/test_stories.yml",
         "--model", "models/balancecoach.tar.gz", "--fail-on-prediction-errors", "--e2e", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    failed = (tmp_path / "failed_test_stories.yml")
    assert not failed.exists() or "story:" not in failed.read_text(encoding="utf-8"), failed.read_text(encoding="utf-8")
