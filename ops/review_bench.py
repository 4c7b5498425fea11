"""`make bench`, the review app's part: its list, transcript and organisation pages with 10,000 stored
conversations on PostgreSQL.

The conversations are made through the bot's own storage path: a few leaders talk to the running coach
(REST, as the widget does), and their stored events are replayed — under new conversation ids, spread over a
year — through the coach's tracker store (`SletbarSQLTrackerStore.save`), which writes the events and the review
app's rows exactly as in service. Then the review app is started on that database and its pages are timed.
"""
from __future__ import annotations

import asyncio
import json
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import sqlalchemy as sa

from bot.settings import ROOT

CONVERSATIONS = 10_000

LEADERS = [
    ["Vi skal spare 1,2 mio. i hjemmeplejen, og mine medarbejdere løber allerede stærkt.", "ja",
     "Vi kunne prøve en ny måde at planlægge ruterne på sammen med medarbejderne.", "60/40 til økonomien",
     "spring til opsummeringen", "ja, uden mit navn", "nej", "4", "at se økonomien og trivslen side om side"],
    ["Forældrene vil have flere lærere i indskolingen, men budgettet er lagt, og byrådet har besluttet det.", "ja",
     "Vi kunne invitere forældrerådet ind i arbejdet.", "spring til opsummeringen", "ja, uden mit navn", "nej", "5",
     "spring over"],
    ["Jobcentret skal nå flere i job, men sagsbehandlerne drukner i dokumentationskrav.", "ja",
     "Vi kunne afprøve en ny digital løsning sammen med borgerne.", "spring til opsummeringen", "nej tak", "nej tak", "3",
     "spring over"],
    ["To af mine teamledere samarbejder dårligt, og det går ud over resultaterne.", "ja",
     "jeg kunne tale med dem hver for sig", "det er vigtigst at samarbejdet fungerer",
     "jeg tager en snak med dem på mandag", "spring til opsummeringen", "ja, uden mit navn", "ja", "2", "ikke meget"],
    ["Vi har 14 borgere på venteliste og for få pladser, og personalet siger, at de ikke kan mere.", "ja"],
]


def templates(url: str, state: Path) -> List[List[dict]]:
    """The leaders' conversations as the coach stored them."""
    from .evaluation import isolated_settings
    from .stack import Stack

    settings = isolated_settings(5405, 5455, state, BALANCECOACH_DATABASE_URL=url)
    with Stack(settings, log_dir=state / "logs") as stack:
        senders = []
        for turns in LEADERS:
            conversation = stack.conversation()
            for turn in turns:
                conversation.say(turn)
            senders.append(conversation.sender)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        stored = [[json.loads(data) for (data,) in connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})]
            for sender in senders]
    engine.dispose()
    return stored


def replay(url: str, stored: List[List[dict]], count: int) -> float:
    """Save `count` conversations through the tracker store; returns the seconds it took."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.domain_parts import merged_domain
    from rasa_addons.tracker_store import SletbarSQLTrackerStore

    domain = Domain.from_dict(merged_domain())  # the domain the coach is trained on (build/domain)
    store = SletbarSQLTrackerStore(domain=domain, database_url=url, retention_days=3650)
    rng = random.Random(11)
    now = time.time()
    started = time.time()

    async def save_all() -> None:
        for i in range(count):
            events = rng.choice(stored)
            shift = now - rng.uniform(0, 365 * 86400) - events[0]["timestamp"]
            moved = [dict(e, timestamp=e["timestamp"] + shift) for e in events]
            tracker = DialogueStateTracker.from_dict(f"web-{secrets.token_hex(16)}", moved, domain.slots)
            await store.save(tracker)

    asyncio.run(save_all())
    store.close()
    return time.time() - started


def main(count: int = CONVERSATIONS) -> Dict[str, object]:
    from review import bench as review_bench

    from . import postgres

    url = postgres.create("balancecoach_bench")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp)
            stored = templates(url, state)
            seconds = replay(url, stored, count - len(stored))
            print(f"Gennemsynet: {count} samtaler gemt gennem trackerstoren på {seconds:.0f} s", flush=True)
            figures = review_bench.run(url, state)
    finally:
        postgres.drop(url)
    print("Gennemsynet, sider med", count, "samtaler (PostgreSQL):", json.dumps(figures), flush=True)
    return figures


if __name__ == "__main__":
    sys.exit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else CONVERSATIONS) else 1)
