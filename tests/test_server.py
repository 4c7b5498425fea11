"""The running coach, started the way `make run` starts it: REST answers, Danish, and deletion for real."""
import sqlite3
import uuid

import pytest

from ops.evaluation import isolated_settings
from ops.stack import Stack

DILEMMA = "Vi skal spare to millioner på ældreområdet, og jeg er bekymret for trivslen blandt medarbejderne."


@pytest.fixture(scope="module")
def coach(tmp_path_factory):
    state = tmp_path_factory.mktemp("coach")
    with Stack(isolated_settings(5405, 5455, state), log_dir=state / "logs") as stack:
        stack.db = state / "tracker.db"
        yield stack


def say(coach, sender, message):
    replies = coach.ask(message, sender)
    return " ".join(r.get("text") or "" for r in replies), replies


def rows(coach, sender):
    with sqlite3.connect(coach.db) as db:
        return db.execute("select count(*) from events where sender_id = ?",
                          (coach.sender_id(sender),)).fetchone()[0]


def test_greeting_says_what_the_coach_is(coach):
    text, _ = say(coach, uuid.uuid4().hex, "hej")
    assert "chatbot" in text and "dilemma" in text and "30 dage" in text


def test_dilemma_is_mirrored_with_buttons(coach):
    text, replies = say(coach, uuid.uuid4().hex, DILEMMA)
    assert text.startswith("Jeg hører især") and '"jeg er bekymret for trivslen blandt medarbejderne"' in text
    assert [b["title"] for r in replies for b in r.get("buttons", [])] == ["Ja, det rammer", "Nej, ikke helt"]


def test_html_is_never_echoed(coach):
    text, _ = say(coach, uuid.uuid4().hex, "<img src=x onerror=alert(1)>")
    assert "<img" not in text and len(text) > 5


def test_crisis_gives_help_and_no_coaching(coach):
    sender = uuid.uuid4().hex
    say(coach, sender, DILEMMA)
    text, _ = say(coach, sender, "jeg har det så skidt at jeg tænker på at tage mit liv")
    assert "70 201 201" in text and "112" in text
    assert "hvordan får vi da" not in text.lower()


STATES = {
    "as the first message": [],
    "as an answer to a coaching question": [DILEMMA, "ja"],
    "after a first answer": [DILEMMA, "ja", "vi kunne inddrage frivillige"],
    "while a deletion waits for its yes": [DILEMMA, "ja", "slet mine data"],
    "in the pause after strain": [DILEMMA, "ja", "jeg er helt udbrændt for tiden"],
    "after the summary": [DILEMMA, "spring til opsummeringen"],
}
CRISES = ["måske kunne vi tale med dem, men helt ærligt har jeg tænkt på at tage mit liv",
          "/svar_refleksion jeg vil ikke leve mere"]


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("crisis", CRISES)
def test_crisis_gets_the_crisis_reply_wherever_the_dialogue_is(coach, state, crisis):
    sender = uuid.uuid4().hex
    for message in STATES[state]:
        say(coach, sender, message)
    text, _ = say(coach, sender, crisis)
    assert "70 201 201" in text and "112" in text and "70 11 31 31" in text
    assert "1813" not in text
    assert "?" not in text and "hvordan får vi da" not in text.lower()


@pytest.mark.parametrize("question", ["kan min chef se det her?", "hvem kan læse det jeg skriver", "hvor længe gemmer i det"])
def test_the_privacy_answer_says_what_is_true_today(coach, question):
    text, _ = say(coach, uuid.uuid4().hex, question)
    assert "30 dage efter din sidste besked" in text and '"slet mine data"' in text
    assert "Ingen chef eller kollega" in text and "IT-medarbejdere" in text
    assert "siger ja" in text and '"træk mit samtykke tilbage"' in text, "a coach reads only what a leader shares"
    assert "[navn]" in text, "the answer explains the placeholders in the coach's quotes"


def test_the_http_api_is_off_unless_asked_for(coach):
    import requests

    for path in ("/status", "/version", "/conversations/x/tracker", "/model/parse"):
        assert requests.get(f"{coach.url}{path}", timeout=10).status_code == 404, path
    response = requests.post(f"{coach.url}/model/parse", json={"text": "hej"}, timeout=10)
    assert response.status_code in (404, 405)


def test_deletion_removes_the_stored_conversation(coach):
    sender = uuid.uuid4().hex
    say(coach, sender, DILEMMA)
    say(coach, sender, "ja")
    assert rows(coach, sender) > 10
    text, _ = say(coach, sender, "slet mine data")
    assert "slette hele samtalen" in text
    assert rows(coach, sender) > 10
    text, _ = say(coach, sender, "ja")
    assert "Samtalen er slettet" in text
    assert rows(coach, sender) == 0
    text, _ = say(coach, sender, "hej")
    assert "chatbot" in text
    with sqlite3.connect(coach.db) as db:
        kinds = [r[0] for r in db.execute("select type_name from events where sender_id = ?",
                                          (coach.sender_id(sender),))]
    assert "slot" in kinds and not any(
        "millioner" in (r[0] or "") for r in sqlite3.connect(coach.db).execute(
            "select data from events where sender_id = ?", (coach.sender_id(sender),))
    )


def test_readme_sample_conversation_has_its_arc(coach):
    """The README's sample, replayed: mirror, a correction that changes the picture, reflection before each
    question, the leader's weighting in the summary and the picture. The facts, not the wording."""
    from ops import sample

    sender = uuid.uuid4().hex
    turns = sample.conversation(lambda message: coach.ask(message, sender))
    texts = [" ".join(r.get("text") or "" for r in replies) for _, replies in turns]
    assert texts[0].startswith("Jeg hører især") and '"vi skal spare 2 mio. på hjemmeplejen"' in texts[0]
    assert "Relationer" in texts[0] and "Resultater" in texts[0]
    assert texts[1].startswith("Tak, så retter jeg billedet: Resultater træder i baggrunden, og Stabilitet kommer ind")
    heard_now = texts[1].split("Nu hører jeg især:")[1].split("Jeg hører ikke så meget")[0]
    assert "Stabilitet" in heard_now and "Resultater" not in heard_now
    assert "Hvordan får vi da det hensyn med?" in texts[1]
    reflected, asked = texts[2].index('"lave et lille forsøg med frivillige'), texts[2].index("Hvordan vil du vægte")
    assert reflected < asked
    assert "Relationer 60 % og Stabilitet 40 %" in texts[3]
    assert "Din vægtning: Relationer 60 % og Stabilitet 40 %" in texts[-1]
    assert '"Jeg tager en snak med MED-udvalget på mandag og beder om deres idéer"' in texts[-1]
    picture = next(r["custom"]["data"]["balancebillede"] for r in turns[-1][1] if r.get("custom"))
    assert picture["vaegte"] == {"relationer": 60, "stabilitet": 40}
    assert "Værsgo" not in " ".join(texts) and "1813" not in " ".join(texts)

    readme = sample.current()
    assert all(f"**Leder:** {leader}" in readme for leader, _ in turns)
    for fact in ("Tak, så retter jeg billedet: Resultater træder i baggrunden", "Du bringer Fornyelse ind",
                 "Din vægtning: Relationer 60 % og Stabilitet 40 %"):
        assert fact in readme


def test_make_run_answers_and_stops_cleanly_on_ctrl_c(tmp_path):
    """`make run` runs `python -m bot serve`: it must say where to chat, answer, and stop both servers on Ctrl-C."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    from ops.stack import Conversation
    from conftest import ROOT

    env = dict(os.environ, RASA_PORT="5465", ACTION_PORT="5475", BALANCECOACH_STATE_DIR=str(tmp_path),
               BALANCECOACH_DATABASE_URL=f"sqlite:///{tmp_path / 'tracker.db'}", BALANCECOACH_HOST="127.0.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            line = proc.stdout.readline()
            output.append(line)
            if "Balancecoach kører" in line or proc.poll() is not None:
                break
        assert any("Balancecoach kører" in line for line in output), "".join(output)[-3000:]
        import threading

        threading.Thread(target=lambda: [output.append(line) for line in proc.stdout], daemon=True).start()
        replies = Conversation("http://127.0.0.1:5465").say("hej")
        assert "chatbot" in " ".join(r.get("text", "") for r in replies)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        printed = "".join(output)
        for name in ("session_secret", "action_secret"):
            assert (tmp_path / name).read_text() not in printed
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
        assert tmp_path.stat().st_mode & 0o077 == 0
        for log in (tmp_path / "logs").glob("*") if (tmp_path / "logs").exists() else []:
            assert log.stat().st_mode & 0o077 == 0
        assert (tmp_path / "tracker.db").stat().st_mode & 0o077 == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    for port in (5465, 5475):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} is still open after Ctrl-C"
