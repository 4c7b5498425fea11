"""A conversation's turns, read from Rasa's `events` table: what the leader wrote, what the analysis heard in
it, what the coach answered, and how the balance picture moved.

A conversation is one Rasa session: the sender's events from `session_start`, in id order, up to the next
`action_session_start` after the first few events (the one that opened this session).
"""
from __future__ import annotations

import base64
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from review.web import visning

MAX_EVENTS = 5000
_OPENING_EVENTS = 3  # action_session_start, session_started, action_listen

events_table = sa.Table(
    "events", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)
"""Rasa's SQLTrackerStore table, as far as the review app reads it."""

KORREKTION = "korrigere_billede"
AFKRAEFT = "afkraefte"


@dataclass
class Hoert:
    """One thing the analysis heard in a turn (a quadrant with its signal words, an ethic, ...)."""

    ident: str
    navn: str
    score: Optional[float] = None
    signaler: List[str] = field(default_factory=list)


@dataclass
class Tur:
    slags: str  # "leder", "coach" or "billede"
    tidspunkt: Any = None
    tekst: str = ""
    intent: Optional[str] = None
    sikkerhed: Optional[float] = None
    kvadranter: List[Hoert] = field(default_factory=list)
    negligeret: Optional[str] = None
    etikker: List[Hoert] = field(default_factory=list)
    borgersyn: List[Hoert] = field(default_factory=list)
    roller: List[Hoert] = field(default_factory=list)
    linser: List[str] = field(default_factory=list)  # lenses the words opened (T, translation, future, citizens)
    tilsidesat: List[str] = field(default_factory=list)  # quadrants named only to be set aside
    korrektion: bool = False
    knap: bool = False  # a button the leader pressed ("/intent{...}"), not words they wrote
    billede: Optional[Dict[str, Any]] = None
    billede_nr: int = 0


@dataclass
class Transskript:
    ture: List[Tur]
    slut_billede: Optional[Dict[str, Any]]
    billeder: int

    @property
    def leder_ture(self) -> int:
        return sum(1 for t in self.ture if t.slags == "leder")


def hent(connection, sender_id: Optional[str], session_start: Optional[float]) -> Optional[Transskript]:
    """The conversation's transcript, or None when its events are gone (retention) or were never stored."""
    if not sender_id or session_start is None:
        return None
    if not sa.inspect(connection).has_table("events"):
        return None
    rows = connection.execute(
        sa.select(events_table.c.id, events_table.c.type_name, events_table.c.timestamp,
                  events_table.c.intent_name, events_table.c.action_name, events_table.c.data)
        .where(events_table.c.sender_id == sender_id, events_table.c.timestamp >= session_start)
        .order_by(events_table.c.id).limit(MAX_EVENTS)
    ).all()
    if not rows:
        return None
    return byg(rows)


def _load(raw) -> Dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _hoert(slags: str, items) -> List[Hoert]:
    """Analysis items may be dicts ({id, navn?, score?, signaler?}) or bare ids."""
    result = []
    for item in items or []:
        if isinstance(item, dict):
            ident = str(item.get("id") or item.get("navn") or "")
            if not ident:
                continue
            score = item.get("score", item.get("sikkerhed"))
            signaler = [str(s) for s in (item.get("signaler") or []) if str(s).strip()]
            result.append(Hoert(ident, visning.navn(slags, ident), float(score) if isinstance(score, (int, float))
                                else None, signaler))
        elif isinstance(item, str) and item:
            result.append(Hoert(item, visning.navn(slags, item)))
    return result


def _linser(balance: Dict[str, Any]) -> List[str]:
    """The lenses a turn's words opened, by name: the T (its vertical or horizontal side), translation, the
    future, and citizens in the dilemma (bot.analysis.Analysis)."""
    names = []
    t = balance.get("t_ledelse")
    if isinstance(t, str) and t:
        names.append(f"{visning.navn('linse', 't_ledelse')}: {visning.navn('t', t)}")
    for flag in ("oversaettelse", "fremtid", "borgere"):
        if balance.get(flag) is True:
            names.append(visning.navn("linse", flag))
    return names


def byg(rows) -> Transskript:
    """Turns from event rows (objects with id, type_name, timestamp, intent_name, action_name, data)."""
    ture: List[Tur] = []
    billede: Optional[Dict[str, Any]] = None
    sidste_leder: Optional[Tur] = None
    billeder = 0
    for position, row in enumerate(rows):
        if row.action_name == "action_session_start" and position >= _OPENING_EVENTS:
            break
        data = _load(row.data)
        kind = data.get("event") or row.type_name
        tid = visning.fra_tidsstempel(row.timestamp)
        if kind == "user":
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            balance = parse.get("balance") or {}
            tur = Tur(
                slags="leder", tidspunkt=tid, tekst=str(data.get("text") or ""),
                intent=intent.get("name") or row.intent_name,
                sikkerhed=intent.get("confidence") if isinstance(intent.get("confidence"), (int, float)) else None,
                kvadranter=_hoert("kvadrant", balance.get("kvadranter")),
                negligeret=balance.get("negligeret") if isinstance(balance.get("negligeret"), str) else None,
                etikker=_hoert("etik", balance.get("etikker")),
                borgersyn=_hoert("borgersyn", balance.get("borgersyn")),
                roller=_hoert("rolle", balance.get("roller")),
                linser=_linser(balance),
                tilsidesat=[visning.navn("kvadrant", q) for q in balance.get("tilsidesat") or [] if isinstance(q, str)],
            )
            tur.korrektion = tur.intent == KORREKTION
            tur.knap = tur.tekst.startswith("/")
            ture.append(tur)
            sidste_leder = tur
        elif kind == "bot":
            tekst = data.get("text")
            if tekst:
                ture.append(Tur(slags="coach", tidspunkt=tid, tekst=str(tekst)))
        elif kind == "slot" and data.get("name") == "balancebillede":
            value = data.get("value")
            if not isinstance(value, dict) or _key(value) == (billede and _key(billede)):
                continue
            billeder += 1
            if billede is not None and sidste_leder is not None and sidste_leder.intent == AFKRAEFT:
                sidste_leder.korrektion = True
            billede = value
            ture.append(Tur(slags="billede", tidspunkt=tid, billede=value, billede_nr=billeder))
    return Transskript(ture=ture, slut_billede=billede, billeder=billeder)


def _key(value: Dict[str, Any]) -> str:
    return str(value.get("id") or json.dumps(value, sort_keys=True, ensure_ascii=False))


# --- Pictures ------------------------------------------------------------------------------------------------

_cache: "OrderedDict[str, tuple]" = OrderedDict()
_cache_lock = Lock()
_CACHE_SIZE = 256


def tegning(value: Dict[str, Any]) -> Dict[str, str]:
    """The balance picture as an <img>-ready data: URI (SVG) and its description for screen readers.

    The picture is drawn by bot.picture (matplotlib), whose SVG carries style attributes: as an image it is its
    own document, so the page's CSP (no inline style) is untouched. Drawn pictures are kept by content key
    (a conversation's picture id is a hash of its content); the page that shows one has checked consent.
    """
    from bot.picture import render_drawing

    key = _key(value)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return {"src": hit[0], "alt": hit[1]}
    picture = render_drawing(value, visning.model())
    src = "data:image/svg+xml;base64," + base64.b64encode(picture.svg.encode("utf-8")).decode("ascii")
    with _cache_lock:
        _cache[key] = (src, picture.description)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return {"src": src, "alt": picture.description}


def beskrivelse(value: Dict[str, Any]) -> str:
    """The picture's text for screen readers, without drawing it."""
    from bot.picture import message

    return str(message(value, visning.model())["beskrivelse"])


def svg(value: Dict[str, Any]) -> str:
    """The picture as an SVG document (drawn once per content, then kept with the data: URIs)."""
    src = tegning(value)["src"]
    return base64.b64decode(src.split(",", 1)[1]).decode("utf-8")

