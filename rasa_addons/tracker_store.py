"""A SQL tracker store that honours a leader's request to delete the conversation.

Rasa saves the tracker *after* an action has run, so rows deleted from inside the action would come back.
The deletion action therefore only sets the slot `slet_samtale`; when this store sees that event among the
events it is about to save, it deletes every stored event of the conversation and saves nothing.
Old conversations are removed when the store starts, after the retention period in the settings.
"""
from __future__ import annotations

import itertools
import json
import logging
import time
from typing import Any, List, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine.url import make_url

from bot import settings as settings_module

logger = logging.getLogger(__name__)

DELETE_SLOT = "slet_samtale"
STORED = "_balancecoach_stored_events"
"""Attribute on a tracker: how many of its `events`, counted from the first, are already in the store."""


class SletbarSQLTrackerStore(SQLTrackerStore):
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
        self.retention_days = retention_days or settings.retention_days
        self.delete_older_than(time.time() - self.retention_days * 86400)

    def delete_older_than(self, timestamp: float) -> int:
        """Remove whole conversations whose last event is older than `timestamp`."""
        with self.session_scope() as session:
            stale = (
                session.query(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(sa.func.max(self.SQLEvent.timestamp) < timestamp)
            )
            ids = [row[0] for row in stale]
            count = 0
            if ids:
                count = (
                    session.query(self.SQLEvent)
                    .filter(self.SQLEvent.sender_id.in_(ids))
                    .delete(synchronize_session=False)
                )
            session.commit()
        return count

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
            session.commit()
        setattr(tracker, STORED, len(tracker.events))
