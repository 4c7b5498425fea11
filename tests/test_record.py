"""The review app's conversation rows kept in step by the Rasa server (review/record.py), SQLite and PostgreSQL."""
import datetime as dt

import pytest
import sqlalchemy as sa

from bot import facts as facts_module
from review import db, record
from review.models import Samtale, SamtaleHensyn, Samtykke
from tests.test_facts import CONVERSATION, original, slot


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, fresh_database):
    engine = db.engine_for(fresh_database(request.param))
    db.upgrade(engine)
    db.upgrade(engine)  # a second start migrates nothing
    yield engine
    engine.dispose()


def rec(c, sender, start, facts, pseudonym, changed=None) -> str:
    """Record a turn and return the conversation's id."""
    record.record(c, sender, start, facts, pseudonym, changed)
    return c.execute(sa.select(Samtale.id).where(Samtale.sender_id == sender, Samtale.session_start == start)).scalar()


def rows(engine, table, **where):
    with engine.connect() as c:
        query = sa.select(table)
        for k, v in where.items():
            query = query.where(table.c[k] == v)
        return [dict(r._mapping) for r in c.execute(query)]


def test_a_conversation_row_follows_its_turns_and_keeps_every_consent_choice(engine):
    with engine.begin() as c:
        first = rec(c, "teams:t:a", 100.0, facts_module.of_events("teams:t:a", CONVERSATION[:8]), "L-1")
    [row] = rows(engine, Samtale.__table__)
    assert row["deling"] == "nej" and row["tekst"] is None and row["leder_ture"] == 2
    with engine.begin() as c:
        again = rec(c, "teams:t:a", 100.0,
                              facts_module.of_events("teams:t:a", CONVERSATION, original_of=original), "L-1")
    assert again == first
    [row] = rows(engine, Samtale.__table__)
    assert (row["deling"], row["kontakt"], row["vurdering"]) == ("navngivet", "Mette Kjær, 21 43 65 87", 4)
    assert "sygemeldt" in row["tekst"]
    assert {(h["slags"], h["navn"]) for h in rows(engine, SamtaleHensyn.__table__)} >= {("overset", "fornyelse")}
    with engine.begin() as c:  # a later turn: the contact's placeholders do not replace the stored contact
        rec(c, "teams:t:a", 100.0, facts_module.of_events("teams:t:a", CONVERSATION), "L-1")
    assert rows(engine, Samtale.__table__)[0]["kontakt"] == "Mette Kjær, 21 43 65 87"
    assert [r["valg"] for r in rows(engine, Samtykke.__table__)] == ["navngivet"]


def test_withdrawal_reaches_every_conversation_of_the_leader(engine):
    with engine.begin() as c:
        old = rec(c, "teams:t:a", 100.0, facts_module.of_events("teams:t:a", CONVERSATION), "L-1")
        other = rec(c, "teams:t:b", 100.0, facts_module.of_events("teams:t:b", CONVERSATION), "L-2")
        later = CONVERSATION[:2] + [slot("deling", "nej", 300.0)]
        rec(c, "teams:t:a", 200.0, facts_module.of_events("teams:t:a", later), "L-1")
        record.withdraw(c, "teams:t:a", dt.datetime(2026, 11, 28))
    by_id = {r["id"]: r for r in rows(engine, Samtale.__table__)}
    assert by_id[old]["deling"] == "nej" and by_id[old]["tekst"] is None and by_id[old]["kontakt"] is None
    assert by_id[other]["deling"] == "navngivet"
    assert [r["valg"] for r in rows(engine, Samtykke.__table__, samtale_id=old)] == ["navngivet", "nej"]


def test_deletion_removes_the_rows_and_retention_keeps_only_counts(engine):
    with engine.begin() as c:
        gone = rec(c, "web-a", 100.0, facts_module.of_events("web-a", CONVERSATION), "L-1")
        old = rec(c, "web-b", 100.0, facts_module.of_events("web-b", CONVERSATION), "L-2")
        new = rec(c, "web-b", 500.0, facts_module.of_events("web-b", CONVERSATION), "L-2")
        record.forget(c, "web-a")
        record.expire(c, "web-b", 500.0)
    by_id = {r["id"]: r for r in rows(engine, Samtale.__table__)}
    assert gone not in by_id and not rows(engine, SamtaleHensyn.__table__, samtale_id=gone)
    assert by_id[old]["sender_id"] is None and by_id[old]["tekst"] is None and by_id[old]["kontakt"] is None
    assert by_id[old]["deling"] == "nej" and by_id[old]["leder_ture"] == 6 and by_id[old]["negligeret"] == "fornyelse"
    assert by_id[new]["sender_id"] == "web-b" and by_id[new]["deling"] == "navngivet"


def test_a_turn_that_changes_only_counts_costs_one_update_and_keeps_what_was_heard(engine):
    full = facts_module.of_events("web-a", CONVERSATION, original_of=original)
    with engine.begin() as c:
        cid = rec(c, "web-a", 100.0, full, "L-1")
    heard = {(h["slags"], h["navn"]) for h in rows(engine, SamtaleHensyn.__table__, samtale_id=cid)}
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    later = facts_module.of_events("web-a", CONVERSATION + [
        {"event": "user", "text": "tak", "timestamp": 130.0, "parse_data": {"intent": {"name": "farvel"}}}])
    with engine.begin() as c:
        record.record(c, "web-a", 100.0, later, "L-1", changed=set())
    assert [s.split()[0].upper() for s in statements] == ["UPDATE"]
    assert rows(engine, Samtale.__table__, id=cid)[0]["leder_ture"] == full.leder_ture + 1
    assert {(h["slags"], h["navn"]) for h in rows(engine, SamtaleHensyn.__table__, samtale_id=cid)} == heard
    fewer = facts_module.of_events("web-a", CONVERSATION + [slot("etikker", [], 131.0)])
    with engine.begin() as c:
        record.record(c, "web-a", 100.0, fewer, "L-1", changed={"etikker"})
    assert ("etik", "omsorg") not in {(h["slags"], h["navn"]) for h in rows(engine, SamtaleHensyn.__table__)}
