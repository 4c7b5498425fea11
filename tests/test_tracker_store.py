"""The deleting tracker store against SQLite (the embedded default) and PostgreSQL (production), and the
production endpoints with the Redis lock store — real servers on this machine, no mocks."""
import asyncio
import os
import time
import uuid

import pytest
from rasa.core.lock_store import LockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.domain_parts import merged_domain
from conftest import ROOT
from rasa_addons.tracker_store import SletbarSQLTrackerStore, first_recent_session

DOMAIN = Domain.from_dict(merged_domain())  # the domain Rasa trains on (build/domain)
POSTGRES = os.environ.get("BALANCECOACH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_up() -> bool:
    import sqlalchemy as sa

    try:
        with sa.create_engine(POSTGRES).connect():
            return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, monkeypatch):
    if request.param == "postgresql" and not _postgres_up():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    url = f"sqlite:///{tmp_path / 'tracker.db'}" if request.param == "sqlite" else POSTGRES
    monkeypatch.setenv("BALANCECOACH_STATE_DIR", str(tmp_path))
    return SletbarSQLTrackerStore(domain=DOMAIN, database_url=url)


def _rows(store, sender):
    with store.session_scope() as session:
        return session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).count()


def _tracker(sender, *events):
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for event in events:
        tracker.update(event)
    return tracker


def test_conversation_is_stored_and_deleted_for_real(store):
    sender = uuid.uuid4().hex
    tracker = _tracker(sender, ActionExecuted("action_listen"), UserUttered("Vi skal spare på budgettet", {"name": "beskriv_dilemma"}))
    asyncio.run(store.save(tracker))
    assert _rows(store, sender) == 2
    tracker.update(UserUttered("slet mine data", {"name": "slet_data"}))
    tracker.update(SlotSet("sletning_afventer", True))
    asyncio.run(store.save(tracker))
    assert _rows(store, sender) == 4
    tracker.update(SlotSet("slet_samtale", True))
    asyncio.run(store.save(tracker))
    assert _rows(store, sender) == 0
    assert asyncio.run(store.retrieve(sender)) is None


def _session(days_ago, text):
    at = time.time() - days_ago * 86400
    return [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
            ActionExecuted("action_listen", timestamp=at), UserUttered(text, timestamp=at + 1),
            ActionExecuted("action_listen", timestamp=at + 2)]


def test_retention_goes_by_each_sessions_own_age(store):
    gone, returning, recent = (uuid.uuid4().hex for _ in range(3))
    asyncio.run(store.save(_tracker(gone, *_session(40, "en gammel samtale om budgettet"))))
    asyncio.run(store.save(_tracker(returning, *_session(40, "det gamle dilemma om vagtplanen"),
                                    *_session(2, "et nyt dilemma om rekruttering"))))
    asyncio.run(store.save(_tracker(recent, *_session(29, "stadig inden for de 30 dage"))))
    assert store.purge() == 10
    assert _rows(store, gone) == 0 and _rows(store, returning) == 5 and _rows(store, recent) == 5
    kept = asyncio.run(store.retrieve_full_tracker(returning))
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["et nyt dilemma om rekruttering"]
    assert store.purge() == 0


def test_the_first_recent_session_decides_what_stays():
    rows = [(1, 10.0, "action_session_start"), (2, 11.0, None), (3, 50.0, "action_session_start"), (4, 51.0, None),
            (5, 90.0, "action_session_start"), (6, 91.0, None)]
    assert first_recent_session(rows, 0.0) == 1
    assert first_recent_session(rows, 40.0) == 3
    assert first_recent_session(rows, 51.5) == 5
    assert first_recent_session(rows, 100.0) is None


def test_sqlite_overwrites_deleted_text(tmp_path, monkeypatch):
    monkeypatch.setenv("BALANCECOACH_STATE_DIR", str(tmp_path))
    store = SletbarSQLTrackerStore(domain=DOMAIN, database_url=f"sqlite:///{tmp_path / 'tracker.db'}")
    secret = "Min medarbejder Karen har fået en advarsel"
    sender = uuid.uuid4().hex
    asyncio.run(store.save(_tracker(sender, *_session(40, secret))))
    needle = b"Min medarbejder Karen"  # as stored: JSON with non-ASCII escaped
    assert needle in (tmp_path / "tracker.db").read_bytes()
    store.purge()
    assert needle not in (tmp_path / "tracker.db").read_bytes()


def test_production_endpoints_use_redis_locks(monkeypatch):
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except Exception:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    monkeypatch.setenv("ACTION_PORT", "5055")
    monkeypatch.setenv("BALANCECOACH_ACTION_SECRET", "x" * 40)
    monkeypatch.setenv("BALANCECOACH_REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("BALANCECOACH_REDIS_PORT", "6379")
    config = read_endpoint_config(str(ROOT / "endpoints.production.yml"), "lock_store")
    lock_store = LockStore.create(config)
    assert type(lock_store).__name__ == "RedisLockStore"
    conversation = uuid.uuid4().hex

    client = redis.Redis(host="127.0.0.1", port=6379, db=1)

    async def hold_lock():
        async with lock_store.lock(conversation, lock_lifetime=5):
            held = [k for k in client.keys("balancecoach*") if conversation.encode() in k]
            assert held, "the lock is not in Redis while it is held"
        return lock_store.get_lock(conversation)

    after = asyncio.run(hold_lock())
    assert after is None or not after.tickets


def test_saved_events_read_back_whole_and_indexed_as_rasa_does(store):
    """The store writes events itself (one count query per save); what comes back must be what went in."""
    sender = uuid.uuid4().hex
    events = [ActionExecuted("action_listen"), UserUttered("Vi skal spare på budgettet", {"name": "beskriv_dilemma"}),
              SlotSet("trin", "spejling"), ActionExecuted("action_analysere_dilemma")]
    tracker = _tracker(sender, *events[:2])
    asyncio.run(store.save(tracker))
    for event in events[2:]:
        tracker.update(event)
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))  # nothing new: nothing written twice
    assert list(asyncio.run(store.retrieve(sender)).events) == events
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).order_by(store.SQLEvent.id)
        assert [(r.type_name, r.intent_name, r.action_name) for r in rows] == [
            ("action", None, "action_listen"), ("user", "beskriv_dilemma", None), ("slot", None, "trin"),
            ("action", None, "action_analysere_dilemma")]


def test_a_retrieved_conversation_saves_without_counting_and_across_a_new_session(store):
    """`retrieve` remembers how many events are stored, so `save` writes the new ones without a count query;
    a new session started on that tracker is stored once, and reading back gives that session alone."""
    import sqlalchemy as sa
    from rasa.shared.core.events import SessionStarted

    sender = uuid.uuid4().hex
    asyncio.run(store.save(_tracker(sender, ActionExecuted("action_listen"), UserUttered("hej", {"name": "hilse"}))))
    tracker = asyncio.run(store.retrieve(sender))
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement.lower())  # noqa: E731
    sa.event.listen(store.engine, "before_cursor_execute", listener)
    try:
        new_session = [SessionStarted(), SlotSet("trin", "start"), ActionExecuted("action_listen")]
        for event in new_session:
            tracker.update(event)
        asyncio.run(store.save(tracker))
        asyncio.run(store.save(tracker))
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", listener)
    assert statements and not any("count(" in s for s in statements)
    assert _rows(store, sender) == 5
    assert list(asyncio.run(store.retrieve(sender)).events) == new_session


def test_on_postgresql_one_purge_runs_at_a_time(monkeypatch, tmp_path):
    import sqlalchemy as sa

    from rasa_addons.tracker_store import PURGE_LOCK_KEY

    if not _postgres_up():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    monkeypatch.setenv("BALANCECOACH_STATE_DIR", str(tmp_path))
    store = SletbarSQLTrackerStore(domain=DOMAIN, database_url=POSTGRES)
    sender = uuid.uuid4().hex
    asyncio.run(store.save(_tracker(sender, *_session(40, "en gammel samtale"))))
    other_server = sa.create_engine(POSTGRES)
    with other_server.connect() as connection:
        transaction = connection.begin()
        assert connection.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PURGE_LOCK_KEY}).scalar()
        assert store.purge() == 0 and _rows(store, sender) == 5, "another server's purge holds the lock"
        transaction.rollback()
    assert store.purge() >= 5 and _rows(store, sender) == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_replicas_run_the_retention_job_once_per_interval_between_them(monkeypatch, tmp_path, database):
    """Two Rasa servers on one database wake at the same interval: one of them purges, the other sleeps; an
    interval later it is due again, for whichever wakes first."""
    if database == "postgresql" and not _postgres_up():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    monkeypatch.setenv("BALANCECOACH_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("BALANCECOACH_RETENTION_INTERVAL_SECONDS", "3600")
    url = POSTGRES if database == "postgresql" else f"sqlite:///{tmp_path / 'tracker.db'}"
    first = SletbarSQLTrackerStore(domain=DOMAIN, database_url=url)
    second = SletbarSQLTrackerStore(domain=DOMAIN, database_url=url)
    with first.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM bc_koersler")
    try:
        claims = [first.retention_due(), second.retention_due(), first.retention_due()]
        assert claims.count(True) == 1 and claims[0]
        with first.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE bc_koersler SET sidst = sidst - 3600")
        assert second.retention_due() and not first.retention_due()
    finally:
        for store in (first, second):
            store.close()
