"""A SQL tracker store that honours a leader's request to delete the conversation.

Rasa saves the tracker *after* an action has run, so rows deleted from inside the action would come back.
The deletion action therefore only sets the slot `slet_samtale`; when this store sees that event among the
events it is about to save, it deletes every stored event of the conversation and saves nothing.

Retention runs inside the service: a thread deletes every conversation session whose last event is older than
the retention period, when the store starts and then every BALANCECOACH_RETENTION_INTERVAL_SECONDS. It goes by
each session's own age, so a leader who comes back keeps the new session and loses the old one on time. With
several servers on PostgreSQL one purge runs at a time (an advisory lock); SQLite has one writer anyway.
SQLite overwrites deleted content (`secure_delete`), so a deleted sentence does not linger in free pages.

The same transaction keeps the review app's conversation row (review/record.py) in step: facts and consent
as of this turn, a withdrawal reaching all the leader's conversations, deletion and retention reaching the
rows. Messages arrive redacted (rasa_addons/patches.py); only a contact a leader writes on purpose is
recorded as written, in its one column.
"""
from __future__ import annotations

import rasa_addons.patches  # noqa: F401  (the Rasa 3.6 fixes, before Rasa runs anything of ours)

import itertools
import json
import logging
import threading
import time
from typing import Any, Iterable, List, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine.url import make_url

from bot import facts as facts_module
from bot import identity
from bot import settings as settings_module
from rasa_addons.patches import ORIGINALS
from review import record

logger = logging.getLogger(__name__)

DELETE_SLOT = "slet_samtale"
WITHDRAW_SLOT = "samtykke_tilbage"
SESSION_START = "action_session_start"
PURGE_LOCK_KEY = 4_207_310_001  # PostgreSQL advisory lock: one retention purge at a time across servers
STORED = "_balancecoach_stored_events"
"""Attribute on a tracker: how many of its `events`, counted from the first, are already in the store."""


class SletbarSQLTrackerStore(SQLTrackerStore):
    _current: Optional["SletbarSQLTrackerStore"] = None
    """The store serving this process. A model deployed through `PUT /model` gets a new agent and with it a
    new store (for the new domain); the one it replaces stops its retention job and lets go of its pool."""

    def __init__(self, domain=None, database_url: Optional[str] = None, retention_days: Optional[int] = None,
                 event_broker=None, **kwargs: Any) -> None:
        settings = settings_module.load()
        url = make_url(database_url or settings.database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database or "",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query) or None,
        )
        self._check_connections_before_use()
        self.retention_days = retention_days or settings.retention_days
        self.pseudonym_secret = settings.pseudonym_secret
        from review import db as review_db

        review_db.upgrade(self.engine)
        self.retention_interval = settings.retention_interval_seconds
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_secure_delete)
            with self.engine.connect() as connection:  # connections made before the listener
                connection.exec_driver_sql("PRAGMA secure_delete = ON")
        self._stop = threading.Event()
        self.purge()
        self._job = threading.Thread(target=self._retention_job, name="retention", daemon=True)
        self._job.start()
        previous, SletbarSQLTrackerStore._current = SletbarSQLTrackerStore._current, self
        if previous is not None:  # a turn in flight keeps its connection; it closes when returned
            previous.close()
            previous.engine.dispose()

    def _check_connections_before_use(self) -> None:
        """Rasa's engine hands out pooled connections as they are; after PostgreSQL restarts each of them fails
        once, so the first turns after an outage would fail too. With pre-ping a dead connection is replaced
        before use, and service returns by itself."""
        from rasa.core.tracker_store import create_engine_kwargs

        first = self.engine
        self.engine = sa.create_engine(first.url, pool_pre_ping=True, **create_engine_kwargs(first.url))
        first.dispose()
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _retention_job(self) -> None:
        while not self._stop.wait(self.retention_interval):
            try:
                if self.retention_due():
                    self.purge()
            except Exception:  # a failed purge (database restarting) is retried at the next interval
                logger.exception("Retention purge failed; retrying in %s s", self.retention_interval)

    def retention_due(self) -> bool:
        """Every replica wakes each interval; the first to find the last run an interval old claims this one
        (its row in bc_koersler is locked while it decides), the others go back to sleep."""
        from review.models import Koersel

        now = time.time()
        table = Koersel.__table__
        with self.engine.begin() as connection:  # SQLite: one writer at a time anyway, and no FOR UPDATE
            connection.execute(sa.text("INSERT INTO bc_koersler (navn, sidst) VALUES ('retention', 0) "
                                       "ON CONFLICT (navn) DO NOTHING"))
            last = connection.execute(sa.select(table.c.sidst).where(table.c.navn == "retention")
                                      .with_for_update()).scalar()
            if now - last < self.retention_interval * 0.9:
                return False
            connection.execute(sa.update(table).where(table.c.navn == "retention").values(sidst=now))
        return True

    def purge(self) -> int:
        """Delete sessions older than the retention period; returns the number of events deleted."""
        count = self.delete_sessions_older_than(time.time() - self.retention_days * 86400)
        if count:
            logger.info("Retention: deleted %d events of sessions older than %d days", count, self.retention_days)
        return count

    def delete_sessions_older_than(self, cutoff: float) -> int:
        """Remove every conversation session whose newest event is older than `cutoff`.

        Sessions follow each other, so the old ones are a prefix of a conversation: everything before the
        first session with an event at or after `cutoff` goes, and the whole conversation if there is none."""
        with self.session_scope() as session:
            if self.engine.dialect.name == "postgresql":
                locked = session.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PURGE_LOCK_KEY})
                if not locked.scalar():
                    return 0  # another server is purging right now
            table = self.SQLEvent
            senders = [row[0] for row in session.query(table.sender_id).group_by(table.sender_id)
                       .having(sa.func.min(table.timestamp) < cutoff)]
            count = 0
            for sender in senders:
                rows = session.query(table.id, table.timestamp, table.action_name) \
                    .filter(table.sender_id == sender).order_by(table.id).all()
                keep_from = first_recent_session(rows, cutoff)
                query = session.query(table).filter(table.sender_id == sender)
                if keep_from is not None:
                    query = query.filter(table.id < keep_from)
                count += query.delete(synchronize_session=False)
                kept = next((stamp for event_id, stamp, _ in rows if event_id == keep_from), None)
                record.expire(session.connection(), sender, kept)
            session.commit()
        return count

    def close(self) -> None:
        self._stop.set()

    async def _retrieve(self, sender_id, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """Rasa's `_retrieve`, reading only the `data` column instead of whole ORM rows, and remembering on the
        tracker how many of its events are stored, so `save` needs no count query. The number is only kept for
        the latest session, the one `save` compares with; the lock store keeps other writers out meanwhile."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions) \
                .with_entities(self.SQLEvent.data).all()
        events = [json.loads(data) for (data,) in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            setattr(tracker, STORED, len(events))
        return tracker

    def _new_events(self, session, tracker) -> List[Event]:
        stored = getattr(tracker, STORED, None)
        if stored is None or stored > len(tracker.events):
            return list(self._additional_events(session, tracker))
        return list(itertools.islice(tracker.events, stored, len(tracker.events)))

    async def save(self, tracker) -> None:
        """Rasa's own `save`, with the deletion check in the same pass, and the new events written in one
        statement rather than one ORM object each."""
        with self.session_scope() as session:
            new_events = self._new_events(session, tracker)
            if any(isinstance(e, SlotSet) and e.key == DELETE_SLOT and e.value for e in new_events):
                count = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id).delete()
                record.forget(session.connection(), tracker.sender_id)
                session.commit()
                setattr(tracker, STORED, None)
                logger.info("Deleted conversation %s (%d events) at the leader's request", tracker.sender_id, count)
                return
            await self.stream_events(tracker)
            rows = []
            for event in new_events:
                data = event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
                self._record(session.connection(), tracker, new_events)
            session.commit()
        setattr(tracker, STORED, len(tracker.events))

    def _record(self, connection, tracker, new_events: List[Event]) -> None:
        events = [e.as_dict() for e in tracker.events]
        latest = next((e for e in reversed(events) if e.get("event") == "user"), None)
        original = ORIGINALS.get(tracker.sender_id)
        facts = facts_module.of_events(tracker.sender_id, events,
                                       original_of=lambda e: original if e is latest else None)
        if facts is None:
            return
        session_start = session_start_of(events)
        record.record(connection, tracker.sender_id, session_start, facts,
                      identity.pseudonym(tracker.sender_id, self.pseudonym_secret),
                      changed={e.key for e in new_events if isinstance(e, SlotSet)})
        if any(isinstance(e, SlotSet) and e.key == WITHDRAW_SLOT and e.value for e in new_events):
            record.withdraw(connection, tracker.sender_id, facts.senest)


def session_start_of(events: List[dict]) -> Optional[float]:
    """When the latest session started: its `session_started` event, which is where Rasa's own query for the
    latest session begins (the `action_session_start` before it is not read back)."""
    for event in reversed(events):
        if event.get("event") == "session_started":
            return event.get("timestamp")
    return events[0].get("timestamp") if events else None


def _sqlite_secure_delete(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def first_recent_session(rows: Iterable[Tuple[int, float, Optional[str]]], cutoff: float) -> Optional[int]:
    """The id of the first event of the first session (rows of (id, timestamp, action name) in id order,
    sessions starting at `action_session_start`) that has an event at or after `cutoff`; None if none has."""
    start = None
    for event_id, timestamp, action in rows:
        if start is None or action == SESSION_START:
            start = event_id
        if timestamp is not None and timestamp >= cutoff:
            return start
    return None
