"""Every path the README names is real, and every make target it shows exists."""
import re

from conftest import ROOT

_SHARED_NAMES = {"dilemmas_dev.yml", "behaviour_dev.yml", "dialogues_dev.yml", "pii_dev.yml", "score_behaviour.py",
                 "score_dialogues.py", "score_dilemmas.py", "score_redaction.py", "restclient.py"}
GENERATED = ("var/", ".venv", "models/", "results/", "artifacts/", "build/", "node_modules")


def _paths():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for token in re.findall(r"`([^`\s]+)`", text):
        if token.startswith(("http", "/", "-", "$")) or "<" in token or "*" in token or "=" in token:
            continue
        if "/" in token or re.search(r"\.(py|yml|yaml|md|json|txt|lock|js|css|html)$", token):
            yield token


def test_readme_paths_exist():
    missing = []
    shared = (ROOT.parent / "shared").exists()  # the evaluation folder beside the checkout, when it is there
    for token in _paths():
        path = token.split(":")[0].rstrip(".,")
        if path.startswith(GENERATED) or path.startswith("webhooks/") or "." == path:
            continue
        if path.startswith("../shared/") and not shared:
            continue
        if "/" not in path:  # a bare file name in a sentence about its folder: it must exist somewhere
            found = any(ROOT.rglob(path)) or (shared and any((ROOT.parent / "shared").rglob(path)))
            if not found and (shared or path not in _SHARED_NAMES):
                missing.append(token)
        elif not (ROOT / path).exists():
            missing.append(token)
    assert missing == []


def test_readme_make_targets_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M))
    shown = set(re.findall(r"`make ([a-z-]+)`", readme))
    assert shown and shown <= targets, shown - targets


def test_every_variable_the_settings_read_is_documented_in_env_example():
    source = "".join((ROOT / path).read_text(encoding="utf-8") for path in (
        "bot/settings.py", "bot/classifier.py", "ops/production.py"))  # the settings, the embedding cache, the proxy
    retired = {"BALANCECOACH_AUTH_TOKEN"}  # read only to refuse it with a message saying what replaced it
    retired |= {"RASA_TELEMETRY_ENABLED"}  # set for the child processes, not read
    read = set(re.findall(r'"((?:BALANCECOACH|RASA|ACTION)_[A-Z_]+)"', source)) - retired
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), flags=re.M))
    assert read - documented == set()
    assert documented - read <= {"GOMP_SPINCOUNT"}, documented - read


def test_docs_name_only_real_files():
    for doc in (ROOT / "docs").glob("*.md"):
        text = doc.read_text(encoding="utf-8")
        for path in re.findall(r"`((?:bot|rasa_addons|actions|web|tests)/[\w./-]+\.(?:py|js|json|yml|md))`", text):
            assert (ROOT / path).exists(), f"{doc.name}: {path}"
