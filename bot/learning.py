"""Which of a consenting leader's messages HR should look at, and why: the coach's own doubts, read back.

A leader who said yes to "må HR bruge dine beskeder" lends single messages, already redacted, never the
conversation. The coach was unsure or wrong when the NLU fell back or was barely sure, when two intents were
close, when the leader corrected the picture the message gave ("nej, det handler mere om …"), or when a
dilemma was heard without a single consideration; a conversation rated 1–2 (added where HR reads them, since
the rating comes after the consent) makes every message in it worth a look. Plain Python over Rasa's event
dicts, so the tracker store can call it as it stores a turn.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

UNSURE_BELOW = 0.6
"""Top intent confidence under which the coach was unsure (the fallback itself is at 0.45)."""
CLOSE_WITHIN = 0.15
"""A runner-up this close to the top intent means the coach could as well have read the message the other way."""

NOT_FOR_LEARNING = frozenset({"svare_afslutning", "traekke_samtykke_tilbage", "slette_data", "krise", "belastning"})
"""Intents whose messages HR never sees: closing answers (a contact may be in them), consent and deletion, and
a leader in crisis or under strain."""

DILEMMA_INTENTS = frozenset({"beskriv_dilemma"})
CORRECTION_INTENT = "korrigere_billede"

REASONS = {
    "fallback": "coachen forstod ikke beskeden",
    "usikker": "coachen var usikker",
    "taet": "to tolkninger lå tæt",
    "rettet": "lederen rettede det, coachen hørte",
    "rettelse": "lederen retter coachen",
    "intet_hoert": "dilemma uden hørte hensyn",
    "lav_vurdering": "samtalen fik 1–2",
}
"""Why a message is in HR's inbox, in the words the inbox shows."""


@dataclass
class Message:
    nr: int
    """The message's place among the leader's messages in the session: with the session, its identity."""
    tidspunkt: float
    tekst: str
    intent: Optional[str]
    tillid: Optional[float]
    naestbedste: Optional[str]
    naestbedste_tillid: Optional[float]
    hoert: Dict[str, Any] = field(default_factory=dict)
    grunde: List[str] = field(default_factory=list)


def _ranking(parse_data: Dict[str, Any]) -> List[Dict[str, Any]]:
    ranking = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    if not ranking and (parse_data.get("intent") or {}).get("name"):
        ranking = [parse_data["intent"]]
    return sorted(ranking, key=lambda r: -(r.get("confidence") or 0.0))


def heard(balance: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """What the analysis heard, in the few fields HR labels: quadrants, ethics, citizen views."""
    balance = balance or {}
    return {
        "kvadranter": [h.get("id") for h in balance.get("kvadranter") or [] if isinstance(h, dict)],
        "etikker": list(balance.get("etikker") or []),
        "borgersyn": list(balance.get("borgersyn") or []),
    }


def messages(events: Iterable[Dict[str, Any]]) -> List[Message]:
    """The leader's messages of one session that HR may see, each with the coach's reading and doubts."""
    found: List[Message] = []
    nr = 0
    for event in events:
        if event.get("event") != "user":
            continue
        text = event.get("text") or ""
        if not text or text.startswith("/"):
            continue
        nr += 1
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        if intent == CORRECTION_INTENT and found and found[-1].nr == nr - 1 and "rettet" not in found[-1].grunde:
            found[-1].grunde.append("rettet")
        if intent in NOT_FOR_LEARNING:
            continue
        ranking = _ranking(parse)
        top = ranking[0] if ranking else {}
        runner = ranking[1] if len(ranking) > 1 else {}
        confidence = top.get("confidence")
        message = Message(nr=nr, tidspunkt=float(event.get("timestamp") or 0.0), tekst=text, intent=intent,
                          tillid=confidence, naestbedste=runner.get("name"),
                          naestbedste_tillid=runner.get("confidence"), hoert=heard(parse.get("balance")))
        reasons = message.grunde
        if intent == "nlu_fallback":
            reasons.append("fallback")
        elif confidence is not None and confidence < UNSURE_BELOW:
            reasons.append("usikker")
        if confidence is not None and runner.get("confidence") is not None \
                and confidence - runner["confidence"] < CLOSE_WITHIN:
            reasons.append("taet")
        if intent == CORRECTION_INTENT:
            reasons.append("rettelse")
        if intent in DILEMMA_INTENTS and not message.hoert["kvadranter"]:
            reasons.append("intet_hoert")
        found.append(message)
    return found


def group_key(text: str) -> str:
    """Messages that differ only in case, accents, punctuation, numbers, redacted names or word order share
    a key: HR labels a repeated phrasing once."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = re.sub(r"\[[a-zæøå]+\]|\d+", " ", text)
    words = sorted(set(re.findall(r"[a-zæøåé]+", text)))
    return " ".join(words)[:500]


def similar(a: str, b: str, at_least: float = 0.8) -> bool:
    """Near-duplicates by their words (Jaccard of the group keys' word sets): one typo or word more or less."""
    left, right = set(a.split()), set(b.split())
    if not left or not right:
        return a == b
    return len(left & right) / len(left | right) >= at_least
