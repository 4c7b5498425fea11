"""What a conversation amounted to, in counts and choices: the facts coaches and the organisation view use.

Read from the conversation's events (Rasa's event dicts) with no Rasa import, so the tracker store can record
them as each turn is stored and tests can check them directly. Text appears only where the leader chose to
share the conversation (`leder_tekst`, already redacted) or wrote the line on what helped; everything else is
ids and numbers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from . import closing, learning
from .identity import TEAMS_PREFIX

LENS_PREFIX = "svar_"
LENSES = ("svar_oversaettelse", "svar_t_ledelse", "svar_borgersyn", "svar_fremtid", "svar_etik")
SUMMARY_STEP = "opsummering"
PLACEHOLDER = "["
REFLECTION_STEPS = ("kortlaegning", "svar_negligeret", "svar_balance", *LENSES, "naeste_skridt")


@dataclass
class Facts:
    startet: dt.datetime
    senest: dt.datetime
    kanal: str
    leder_ture: int = 0
    rettelser: int = 0
    opsummering: bool = False
    sidste_trin: str = "start"
    belastning: bool = False
    krise: bool = False
    negligeret: Optional[str] = None
    hensyn: Set[Tuple[str, str]] = field(default_factory=set)
    deling: str = "nej"
    deling_tid: Optional[dt.datetime] = None
    deling_valg: List[Tuple[str, dt.datetime]] = field(default_factory=list)
    kontakt: Optional[str] = None
    kontakt_gemt: bool = False
    """The contact was given with names or numbers in an earlier turn: only the stored row still has it."""
    vurdering: Optional[int] = None
    hjalp: Optional[str] = None
    leder_tekst: str = ""
    laering: str = "nej"
    """May single messages, without names, help HR improve the coach? Apart from sharing; default no."""
    beskeder: List[learning.Message] = field(default_factory=list)
    """The messages HR may see: only when `laering` is yes."""


def _time(timestamp: Optional[float]) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp or 0, dt.timezone.utc).replace(tzinfo=None)


def _ids(value: Any) -> List[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [str(i.get("id") if isinstance(i, dict) else i) for i in items if i]


def of_events(sender_id: str, events: Iterable[Dict[str, Any]], original_of=None) -> Optional[Facts]:
    """The facts of one session's events (dicts as Rasa stores them); None before the leader said anything.
    `original_of(user_event)` gives a message's unredacted text, for the contact a named leader gave."""
    events = list(events)
    stamps = [e.get("timestamp") for e in events if e.get("timestamp")]
    if not stamps:
        return None
    facts = Facts(startet=_time(min(stamps)), senest=_time(max(stamps)),
                  kanal="teams" if sender_id.startswith(TEAMS_PREFIX) else "web")
    slots: Dict[str, Any] = {}
    lenses: Set[str] = set()
    texts: List[str] = []
    last_user: Optional[Dict[str, Any]] = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            last_user = event
            text = event.get("text") or ""
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if text.startswith("/"):
                continue
            facts.leder_ture += 1
            facts.senest = _time(event.get("timestamp"))
            texts.append(text)
            if intent == "korrigere_billede":
                facts.rettelser += 1
            if intent == "belastning":
                facts.belastning = True
            if intent == "krise":
                facts.krise = True
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            slots[name] = value
            if name == "requested_slot" and value in REFLECTION_STEPS:
                facts.sidste_trin = value
                if value in LENSES:
                    lenses.add(value[len(LENS_PREFIX):])
            elif name == "trin" and value == "afsluttet":
                facts.opsummering = True
                facts.sidste_trin = SUMMARY_STEP
            elif name == "kvadranter" and value and facts.sidste_trin == "start":
                facts.sidste_trin = "dilemma"
            elif name == "deling" and value in ("nej", "anonym", "navngivet"):
                facts.deling_valg.append((value, _time(event.get("timestamp"))))
            elif name == "belastet" and value:
                facts.belastning = True
            elif name == "kontakt" and value and value != closing.SKIPPED and last_user is not None:
                original = original_of(last_user) if original_of else None
                facts.kontakt = original or value
                facts.kontakt_gemt = original is None and PLACEHOLDER in value
    if facts.leder_ture == 0:
        return None
    if facts.deling_valg:
        facts.deling, facts.deling_tid = facts.deling_valg[-1]
    if facts.deling != "navngivet":
        facts.kontakt, facts.kontakt_gemt = None, False
    rating = slots.get("vurdering")
    facts.vurdering = int(rating) if isinstance(rating, str) and rating.isdigit() else None
    helped = slots.get("hjalp")
    facts.hjalp = helped if isinstance(helped, str) and helped != closing.SKIPPED else None
    facts.negligeret = slots.get("negligeret") or None
    facts.hensyn = (
        {("kvadrant", q) for q in _ids(slots.get("kvadranter"))}
        | ({("overset", facts.negligeret)} if facts.negligeret else set())
        | {("etik", e) for e in _ids(slots.get("etikker"))}
        | {("borgersyn", b) for b in _ids(slots.get("borgersyn"))}
        | {("rolle", r) for r in _ids(slots.get("roller"))}
        | {("linse", lens) for lens in lenses}
    )
    if facts.deling != "nej":
        facts.leder_tekst = "\n".join(texts)
    if slots.get("laering") == "ja":
        facts.laering = "ja"
        facts.beskeder = learning.messages(events)
    return facts
