"""A SQL tracker store that honours a leader's request to delete the conversation.

Rasa saves the tracker *after* an action has run, so rows deleted from inside the action would come back.
The deletion action therefore only sets the slot `slet_samtale`; when this store sees that event among the
events it is about to save, it deletes every stored event of the conversation and saves nothing.
Old conversations are removed when the store starts, after the retention period in the settings.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet
from sqlalchemy.engine.url import make_url

from bot import settings as settings_module

logger = logging.getLogger(__name__)

DELETE_SLOT = "slet_samtale"


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
        import sqlalchemy as sa

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

    async def save(self, tracker) -> None:
        """Rasa's own `save`, with the deletion check in the same pass: the events not yet stored are counted
        once (Rasa's query is the dearest part of a save)."""
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            if any(isinstance(e, SlotSet) and e.key == DELETE_SLOT and e.value for e in new_events):
                count = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id).delete()
                session.commit()
                logger.info("Deleted conversation %s (%d events) at the leader's request", tracker.sender_id, count)
                return
            await self.stream_events(tracker)
            for event in new_events:
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
