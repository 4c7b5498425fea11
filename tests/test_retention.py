"""Retention in the running service: conversations driven through the bot, then days pass on the service's
clock (BALANCECOACH_CLOCK_FILE, rasa_addons/clock.py) and the retention job — not a restart — deletes what is
older than the retention period, session by session. The SQLite file keeps no trace of a deleted sentence."""
import os
import signal
import sqlite3
import time

import pytest

from ops.evaluation import isolated_settings
from ops.stack import Stack

OLD = "Vi skal lukke bostedet på Gullestrupvej, og beboernes pårørende er rasende på os."
GONE = "Min souschef og jeg er uenige om vagtplanen i Hammerum, og det slider på teamet."
NEW = "Vi har fået lov at ansætte to nye sygeplejersker, men hvem skal oplære dem midt i travlheden?"


@pytest.fixture(scope="module")
def coach(tmp_path_factory):
    state = tmp_path_factory.mktemp("retention")
    clock = state / "clock"
    clock.write_text("0")
    settings = isolated_settings(5955, 5965, state, BALANCECOACH_RETENTION_DAYS="1",
                                 BALANCECOACH_RETENTION_INTERVAL_SECONDS="2", BALANCECOACH_CLOCK_FILE=str(clock))
    with Stack(settings, log_dir=state / "logs") as stack:
        stack.db, stack.clock = state / "tracker.db", clock
        yield stack


def rows(coach, sender):
    with sqlite3.connect(coach.db) as db:
        return [data for (data,) in db.execute("select data from events where sender_id = ? order by id", (sender,))]


def days_pass(coach, days):
    coach.clock.write_text(str(days * 86400))
    os.kill(coach.processes[1].pid, signal.SIGUSR1)  # the Rasa server rereads its clock


def test_old_sessions_go_without_a_restart_and_a_returning_leaders_new_session_stays(coach):
    returning, gone = coach.conversation(), coach.conversation()
    returning.say(OLD)
    gone.say(GONE)
    rasa_pid = coach.processes[1].pid
    assert any("Gullestrupvej" in r for r in rows(coach, returning.sender))
    assert (coach.settings.state_dir / "session_secret").exists()

    days_pass(coach, 2)
    reply = returning.say(NEW)  # the same leader, two days later: a new session of the same conversation
    assert "sygeplejersker" in " ".join(r.get("text") or "" for r in reply)

    deadline = time.time() + 30
    while time.time() < deadline and (rows(coach, gone.sender) or any("Gullestrupvej" in r
                                                                         for r in rows(coach, returning.sender))):
        time.sleep(0.5)
    assert rows(coach, gone.sender) == [], "a conversation older than the retention period is deleted"
    kept = rows(coach, returning.sender)
    assert not any("Gullestrupvej" in r for r in kept), "the old session goes"
    assert any("sygeplejersker" in r for r in kept), "the returning leader's new session stays"
    assert coach.processes[1].pid == rasa_pid and coach.processes[1].poll() is None, "no restart"

    content = coach.db.read_bytes()
    assert b"Gullestrupvej" not in content and b"souschef" not in content
    assert b"sygeplejersker" in content
