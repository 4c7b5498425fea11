"""The coaching moves as plain Python: the balance picture, corrections, lenses, concept look-up, summary.

Custom actions read slots, call these functions and render the results through responses in domain.yml;
nothing here knows Rasa, so every move is tested directly.
"""
from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional

from .analysis import Analysis, neglected
from .knowledge import QUADRANT_IDS, BalanceModel

LENS_SLOTS = ["svar_borgersyn", "svar_t_ledelse", "svar_oversaettelse", "svar_fremtid", "svar_etik"]
MAX_LENSES = 2
SHORT_ANSWER_WORDS = 3
LONG_ANSWER_CHARS = 1200

Picture = Dict[str, object]


def picture_from(analysis: Analysis) -> Picture:
    """Slot values for a fresh analysis of the leader's dilemma."""
    return {
        "kvadranter": [vars(h).copy() for h in analysis.kvadranter],
        "negligeret": analysis.negligeret,
        "etikker": list(analysis.etikker),
        "borgersyn": list(analysis.borgersyn),
        "roller": list(analysis.roller),
        "t_ledelse": analysis.t_ledelse,
        "oversaettelse": analysis.oversaettelse,
        "fremtid": analysis.fremtid,
    }


def merge(picture: Picture, analysis: Analysis, model: BalanceModel) -> Picture:
    """Fold the analysis of a later answer into the picture; the neglected quadrant stays the one asked about."""
    heard = {h["id"]: dict(h) for h in picture.get("kvadranter") or []}
    for h in analysis.kvadranter:
        if h.id in heard:
            old = heard[h.id]
            old["score"] = round(max(old["score"], h.score), 3)
            old["signaler"] = old["signaler"] + [s for s in h.signaler if s not in old["signaler"]]
        else:
            heard[h.id] = vars(h).copy()
    quadrants = sorted(heard.values(), key=lambda h: -h["score"])

    def union(key):
        items = list(picture.get(key) or [])
        return items + [x for x in getattr(analysis, key) if x not in items]

    ethics = [model.kvadranter[h["id"]].etik for h in quadrants]
    ethics += [e for e in union("etikker") if e not in ethics]
    return {
        "kvadranter": quadrants,
        "negligeret": picture.get("negligeret") or analysis.negligeret,
        "etikker": ethics,
        "borgersyn": union("borgersyn"),
        "roller": union("roller"),
        "t_ledelse": picture.get("t_ledelse") or analysis.t_ledelse,
        "oversaettelse": bool(picture.get("oversaettelse") or analysis.oversaettelse),
        "fremtid": bool(picture.get("fremtid") or analysis.fremtid),
    }


def signal_words(heard) -> List[str]:
    """The signal words behind a consideration; a whole clause quoted as context is not one of them."""
    return [s for s in heard.signaler if len(s.split()) <= 3]


def named_quadrants(text: str, analysis: Analysis, model: BalanceModel, button: Optional[str] = None) -> List[str]:
    """Which considerations a correction points to ("nej, det handler mere om reglerne")."""
    named: List[str] = []
    if button in QUADRANT_IDS:
        named.append(button)
    lowered = text.lower()
    for qid, quadrant in model.kvadranter.items():
        if re.search(rf"\b{quadrant.navn.lower()}", lowered) and qid not in named:
            named.append(qid)
    for heard in analysis.kvadranter:
        if heard.id not in named and any(s.lower() in lowered for s in signal_words(heard)):
            named.append(heard.id)
    return named


def correct(picture: Picture, named: List[str], analysis: Analysis, model: BalanceModel) -> Picture:
    """Put the considerations the leader names first, keep the rest below them, and re-derive the neglected one.

    `analysis` is the analysis of the correction itself; its signal words become the quotes.
    """
    heard = {h["id"]: dict(h) for h in picture.get("kvadranter") or []}
    top = max([h["score"] for h in heard.values()] + [0.5])
    for rank, qid in enumerate(named):
        entry = heard.get(qid) or {"id": qid, "navn": model.kvadranter[qid].navn, "signaler": []}
        entry["score"] = round(min(1.0, top + 0.05 * (len(named) - rank)), 3)
        quote = _quote_for(analysis, qid)
        if quote and quote not in entry["signaler"]:
            entry["signaler"] = [quote] + entry["signaler"]
        heard[qid] = entry
    # Named first even when scores tie at the top (1.0): the leader's word outranks the model's confidence.
    order = {qid: rank for rank, qid in enumerate(named)}
    quadrants = sorted(heard.values(), key=lambda h: (order.get(h["id"], len(named)), -h["score"]))
    voiced = [h["id"] for h in quadrants]
    scores = {h["id"]: h["score"] for h in quadrants}
    updated = dict(picture)
    updated["kvadranter"] = quadrants
    updated["negligeret"] = neglected(model, voiced, scores)
    updated["etikker"] = [model.kvadranter[q].etik for q in voiced]
    return updated


def _quote_for(analysis: Analysis, quadrant: str) -> Optional[str]:
    for heard in analysis.kvadranter:
        if heard.id == quadrant:
            return next(iter(signal_words(heard)), None)
    return None


def choose_lenses(picture: Picture) -> List[str]:
    """The deeper lenses worth one question each, most specific first, at most MAX_LENSES."""
    wanted = []
    if picture.get("borgersyn"):
        wanted.append("svar_borgersyn")
    if picture.get("t_ledelse"):
        wanted.append("svar_t_ledelse")
    if picture.get("oversaettelse"):
        wanted.append("svar_oversaettelse")
    if picture.get("fremtid"):
        wanted.append("svar_fremtid")
    wanted.append("svar_etik")
    return wanted[:MAX_LENSES]


def answer_kind(text: str) -> str:
    """'kort' for one-word answers, 'lang' for a page at once, else 'normal' — the coach acknowledges both."""
    words = len((text or "").split())
    if words <= SHORT_ANSWER_WORDS:
        return "kort"
    if len(text or "") >= LONG_ANSWER_CHARS:
        return "lang"
    return "normal"


def join(items: List[str], last: str) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


def heard_phrases(picture: Picture, fragment: Callable[..., str], limit: int = 3) -> str:
    """'hensynet til Resultater — "spare 3 mio." — og til Relationer — "trivslen"' in the domain's words."""
    parts = []
    for i, h in enumerate((picture.get("kvadranter") or [])[:limit]):
        quotes = [q for q in h.get("signaler", [])[:2] if q]
        citat = fragment("utter_del_citat", citat='", "'.join(quotes)) if quotes else ""
        parts.append(fragment("utter_del_hensyn" if i == 0 else "utter_del_hensyn_flere", navn=h["navn"], citat=citat))
    return join(parts, fragment("utter_del_og"))


CONCEPT_WORDS = {
    "oversigt": [r"balancemodel", r"kvadrant", r"de fire", r"hensynene", r"akse", r"ledelsesgrundlag", r"modellen"],
    "etikker": [r"etikkerne", r"de fire etikker", r"etiske lag", r"etisk"],
    "roller": [r"roller", r"rolle", r"borgersyn"],
    "t_ledelse:soejle": [r"søjle"],
    "t_ledelse": [r"t-formet", r"t formet", r"t-ledelse", r"tformet"],
    "oversaettelse": [r"oversæt", r"oversaet"],
    "fremtid": [r"fremtidsskab", r"fremtid", r"verdensmål", r"bæredygtig"],
    "sikker_nok": [r"sikker.?nok", r"handlegrund", r"både.?og"],
}


def find_concept(text: str, model: BalanceModel) -> Optional[str]:
    """The concept a model question asks about: a specific id before a general overview."""
    lowered = (text or "").lower().replace("aa", "å").replace("ae", "æ").replace("oe", "ø")
    compact = lowered.replace(" ", "")
    for table in ("etikker", "borgersyn", "roller", "kvadranter"):
        for any_id, entry in getattr(model, table).items():
            name = entry.navn.lower().replace(" ", "")
            if name in compact or any_id.replace("_", "") in compact:
                return f"{table}:{any_id}"
    for concept, patterns in CONCEPT_WORDS.items():
        if any(re.search(p, lowered) for p in patterns):
            return concept
    return None


def explanation(concept: str, model: BalanceModel) -> Optional[Dict[str, str]]:
    """Name and explanation of a specific concept from the knowledge file, or None for the overviews."""
    if ":" not in concept:
        if concept in ("oversaettelse", "fremtid"):
            lens = getattr(model, concept)
            return {"navn": lens.navn, "forklaring": lens.beskrivelse}
        if concept == "t_ledelse":
            s, t = model.t_ledelse["soejle"], model.t_ledelse["tvaers"]
            return {"navn": "T-formet ledelse", "forklaring": f"{s.beskrivelse} {t.beskrivelse}"}
        return None
    table, any_id = concept.split(":", 1)
    entry = getattr(model, table)[any_id]
    return {"navn": entry.navn, "forklaring": entry.beskrivelse}


def summary_values(slots: Dict[str, object], model: BalanceModel, fragment: Callable[..., str]) -> Dict[str, str]:
    """The values the closing summary shows: considerations strongest first, the leader's own words."""
    quadrants = slots.get("kvadranter") or []
    neglected_id = slots.get("negligeret")
    used = [s for s in (slots.get("linser") or []) if slots.get(s)]
    return {
        "hensyn_liste": join([h["navn"] for h in quadrants], fragment("utter_del_og")) or fragment("utter_del_ingen"),
        "negligeret_navn": model.kvadranter[neglected_id].navn if neglected_id in model.kvadranter else "",
        "svar_negligeret": str(slots.get("svar_negligeret") or ""),
        "svar_balance": str(slots.get("svar_balance") or ""),
        "linser_brugt": join([fragment(f"utter_del_linse_{s}") for s in used], fragment("utter_del_og"))
        or fragment("utter_del_ingen"),
        "naeste_skridt": str(slots.get("naeste_skridt") or ""),
    }
