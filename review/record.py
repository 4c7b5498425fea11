"""How the Rasa server keeps `bc_samtaler` in step with the conversations it stores.

Called by the tracker store (rasa_addons/tracker_store.py) inside the transaction that writes a turn, so a
conversation row never disagrees with its events: the facts (bot/facts.py) are upserted, every consent
decision is added to `bc_samtykker` with its time, a withdrawal reaches every conversation of that leader,
a deletion removes the rows, and retention leaves only the counts.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Iterable, Optional

import sqlalchemy as sa

from bot import learning
from bot.facts import Facts
from review.models import LaeringsBesked, Note, Samtale, SamtaleHensyn, SamtaleMaerke, Samtykke

samtaler = Samtale.__table__
hensyn = SamtaleHensyn.__table__
samtykker = Samtykke.__table__
noter = Note.__table__
maerker = SamtaleMaerke.__table__
beskeder = LaeringsBesked.__table__


HEARD_SLOTS = frozenset({"kvadranter", "negligeret", "etikker", "borgersyn", "roller", "requested_slot"})
"""Slots whose change can change what a conversation voiced (`bc_samtale_hensyn`)."""


def record(connection, sender_id: str, session_start: float, facts: Facts, pseudonym: str,
           changed: Optional[Iterable[str]] = None) -> None:
    """Upsert the conversation's row; `changed` names the slots this turn set (None: all may have changed).
    Most turns change only counts, and cost one UPDATE; what was heard and the consent history are
    written when their slots change."""
    changed = None if changed is None else set(changed)
    values = dict(
        startet=facts.startet, senest=facts.senest, kanal=facts.kanal, pseudonym=pseudonym,
        leder_ture=facts.leder_ture, rettelser=facts.rettelser, opsummering=facts.opsummering,
        sidste_trin=facts.sidste_trin, belastning=facts.belastning, krise=facts.krise,
        negligeret=facts.negligeret, deling=facts.deling, deling_tid=facts.deling_tid,
        vurdering=facts.vurdering, hjalp=facts.hjalp,
        tekst=facts.leder_tekst or None, laering=facts.laering,
    )
    if not facts.kontakt_gemt:
        values["kontakt"] = facts.kontakt
    this = (samtaler.c.sender_id == sender_id) & (samtaler.c.session_start == session_start)
    new = connection.execute(sa.update(samtaler).where(this).values(**values)).rowcount == 0
    if new:
        conversation_id = secrets.token_hex(16)
        connection.execute(sa.insert(samtaler).values(id=conversation_id, sender_id=sender_id,
                                                      session_start=session_start, **values))
        changed = None
    elif changed is not None and not changed & (HEARD_SLOTS | {"deling"}) and facts.laering != "ja":
        return
    else:
        conversation_id = connection.execute(sa.select(samtaler.c.id).where(this)).scalar_one()
    if changed is None or "deling" in changed:
        known_choices = 0 if new else connection.execute(
            sa.select(sa.func.count()).select_from(samtykker).where(samtykker.c.samtale_id == conversation_id)
        ).scalar()
        for choice, when in facts.deling_valg[known_choices:]:
            connection.execute(sa.insert(samtykker).values(samtale_id=conversation_id, valg=choice, tidspunkt=when))
    if facts.laering == "ja":
        _lend(connection, conversation_id, facts.beskeder)
    if changed is None or changed & HEARD_SLOTS:
        heard = set(facts.hensyn)
        stored = set() if new else {(r.slags, r.navn) for r in connection.execute(
            sa.select(hensyn.c.slags, hensyn.c.navn).where(hensyn.c.samtale_id == conversation_id))}
        for slags, navn in stored - heard:
            connection.execute(sa.delete(hensyn).where(hensyn.c.samtale_id == conversation_id,
                                                       hensyn.c.slags == slags, hensyn.c.navn == navn))
        if heard - stored:
            connection.execute(sa.insert(hensyn), [{"samtale_id": conversation_id, "slags": s, "navn": n}
                                                   for s, n in sorted(heard - stored)])


def _lend(connection, conversation_id: str, messages) -> None:
    """Keep the conversation's learning messages in step: new ones added, changed doubts updated (a
    correction in the next turn marks the message before it). HR's labels are never touched here."""
    stored = {r.nr: r.grunde for r in connection.execute(
        sa.select(beskeder.c.nr, beskeder.c.grunde).where(beskeder.c.samtale_id == conversation_id))}
    for message in messages:
        reasons = ",".join(message.grunde)
        if message.nr not in stored:
            connection.execute(sa.insert(beskeder).values(
                samtale_id=conversation_id, nr=message.nr,
                tidspunkt=dt.datetime.fromtimestamp(message.tidspunkt, dt.timezone.utc).replace(tzinfo=None),
                tekst=message.tekst, gruppe=learning.group_key(message.tekst), intent=message.intent,
                tillid=message.tillid, naestbedste=message.naestbedste, naestbedste_tillid=message.naestbedste_tillid,
                hoert=json.dumps(message.hoert, ensure_ascii=False), grunde=reasons, status="ny"))
        elif stored[message.nr] != reasons:
            connection.execute(sa.update(beskeder).where(beskeder.c.samtale_id == conversation_id,
                                                         beskeder.c.nr == message.nr).values(grunde=reasons))


def withdraw(connection, sender_id: str, when, but: Optional[str] = None) -> None:
    """The leader withdrew consent: none of their conversations is shared any longer, from this moment, and
    none of their messages is HR's to learn from (labelled ones too: the next export leaves them out)."""
    lent = sa.select(samtaler.c.id).where(samtaler.c.sender_id == sender_id)
    connection.execute(sa.delete(beskeder).where(beskeder.c.samtale_id.in_(lent)))
    connection.execute(sa.update(samtaler).where(samtaler.c.sender_id == sender_id, samtaler.c.laering != "nej")
                       .values(laering="nej"))
    shared = connection.execute(sa.select(samtaler.c.id).where(samtaler.c.sender_id == sender_id,
                                                               samtaler.c.deling != "nej")).scalars().all()
    for conversation_id in shared:
        if conversation_id == but:
            continue
        connection.execute(sa.update(samtaler).where(samtaler.c.id == conversation_id).values(
            deling="nej", deling_tid=when, kontakt=None, tekst=None))
        connection.execute(sa.insert(samtykker).values(samtale_id=conversation_id, valg="nej", tidspunkt=when))


def forget(connection, sender_id: str) -> None:
    """The leader deleted their conversation: its rows go too (notes and consent history with them)."""
    ids = connection.execute(sa.select(samtaler.c.id).where(samtaler.c.sender_id == sender_id)).scalars().all()
    if ids:
        for table in (hensyn, samtykker, noter, maerker, beskeder):
            connection.execute(sa.delete(table).where(table.c.samtale_id.in_(ids)))
        connection.execute(sa.delete(samtaler).where(samtaler.c.id.in_(ids)))


def expire(connection, sender_id: str, before: Optional[float]) -> None:
    """Retention deleted the events of `sender_id`'s sessions that started before `before` (all, if None):
    their rows keep the counts for the organisation view and lose everything that could identify or quote."""
    query = sa.update(samtaler).where(samtaler.c.sender_id == sender_id)
    if before is not None:
        query = query.where(samtaler.c.session_start < before)
    old = sa.select(samtaler.c.id).where(samtaler.c.sender_id == sender_id)
    if before is not None:
        old = old.where(samtaler.c.session_start < before)
    connection.execute(sa.delete(beskeder).where(beskeder.c.samtale_id.in_(old), beskeder.c.status == "ny"))
    connection.execute(query.values(sender_id=None, session_start=None, deling="nej", kontakt=None, tekst=None,
                                    hjalp=None, pseudonym="-"))
