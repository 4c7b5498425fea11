"""The coaching moves as plain Python: the balance picture, corrections, reflections, lenses, the summary.

Custom actions read slots, call these functions and render the results through responses in domain.yml
(`fragment(name, **values)` fills one); nothing here knows Rasa, so every move is tested directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from . import meaning
from .analysis import Analysis, neglected
from .knowledge import QUADRANT_IDS, QUADRANT_NAME_PATTERNS, BalanceModel
from .weighting import Weighting

LENS_SLOTS = ["svar_oversaettelse", "svar_t_ledelse", "svar_borgersyn", "svar_fremtid", "svar_etik"]
MAX_LENSES = 2
MAX_VIEWS = 2
SHORT_ANSWER_WORDS = 3
DILEMMA_WORDS = 12
"""A message this long is a dilemma even when no single consideration stands out in it."""
SKIPPED = "(sprunget over)"
"""Stored in a reflection slot the leader chose not to answer, so the form moves on and the summary leaves it out."""

Picture = Dict[str, object]
Fragment = Callable[..., str]
PICTURE_KEYS = ["kvadranter", "negligeret", "etikker", "borgersyn", "roller", "t_ledelse", "oversaettelse",
                "fremtid", "borgere", "tilsidesat"]

_LESS_BEFORE = re.compile(r"\b(?:ikke|mindre|ikke\s+så\s+meget|slet\s+ikke|ikke\s+længere|knap\s+så\s+meget)\s+"
                          r"(?:\w+\s+){0,2}$", re.I)
_LESS_AFTER = re.compile(r"^\s*(?:er\s+(?:slet\s+)?ikke|fylder\s+(?:\w+\s+)?mindre|vejer\s+(?:\w+\s+)?mindre|"
                         r"betyder\s+(?:\w+\s+)?mindre|skal\s+ud|hører\s+ikke)", re.I)
_SET_ASIDE_ANSWER = re.compile(
    r"\b(?:ikke\s+(?:relevant|vigtig\w*|aktuel\w*|noget\s+(?:for|her))|spiller\s+(?:ingen|ikke\s+nogen)\s+rolle|"
    r"(?:vælger|lader)\s+(?:jeg|vi)\s+(?:det\s+)?(?:bevidst\s+)?(?:fra|ligge)|det\s+hensyn\s+(?:må|kan)\s+vente|"
    r"har\s+ikke\s+plads\s+(?:til\s+det\s+)?(?:lige\s+)?nu)", re.I)
_WEIGHT_WORDS = re.compile(r"\bvægt\w*|\bvejer\b|\bprocent\b|%|\d+\s*/\s*\d+|\bmere\s+\w+\s+end\b|\bhalvt\b", re.I)


def heard_entry(heard) -> Dict[str, object]:
    return {"id": heard.id, "navn": heard.navn, "score": heard.score, "signaler": list(heard.signaler),
            "citat": heard.citat}


def picture_from(analysis: Analysis) -> Picture:
    """Slot values for a fresh analysis of the leader's dilemma."""
    return {
        "kvadranter": [heard_entry(h) for h in analysis.kvadranter],
        "negligeret": analysis.negligeret,
        "etikker": list(analysis.etikker),
        "borgersyn": list(analysis.borgersyn),
        "roller": list(analysis.roller),
        "t_ledelse": analysis.t_ledelse,
        "oversaettelse": analysis.oversaettelse,
        "fremtid": analysis.fremtid,
        "borgere": analysis.borgere,
        "tilsidesat": list(analysis.tilsidesat),
    }


def _union(first: Sequence, second: Sequence) -> List:
    return list(first) + [x for x in second if x not in first]


def grounded(analysis: Analysis) -> list:
    """The considerations an answer voices in so many words (signal words, not the classifier's hunch alone):
    a short answer is too little text for the embedding to add a consideration to the leader's picture."""
    return [h for h in analysis.kvadranter if h.signaler]


def merge(picture: Picture, analysis: Analysis, model: BalanceModel) -> Picture:
    """Fold the analysis of an answer into the picture; the neglected quadrant stays the one asked about."""
    heard = {h["id"]: dict(h) for h in picture.get("kvadranter") or []}
    for h in grounded(analysis):
        if h.id in heard:
            old = heard[h.id]
            old["score"] = round(max(old.get("score", 0.0), h.score), 3)
            old["signaler"] = _union(old.get("signaler") or [], h.signaler)
            old["citat"] = old.get("citat") or h.citat
        elif h.id not in (picture.get("tilsidesat") or []):
            heard[h.id] = heard_entry(h)
    quadrants = list(heard.values())  # the dilemma's own order first; what answers bring in comes after
    ethics = _union([model.kvadranter[h["id"]].etik for h in quadrants], _union(picture.get("etikker") or [],
                                                                                  analysis.etikker))
    return {
        **with_lenses(picture, analysis),
        "kvadranter": quadrants,
        "negligeret": picture.get("negligeret") or analysis.negligeret,
        "etikker": ethics,
        "tilsidesat": list(picture.get("tilsidesat") or []),
    }


def with_lenses(picture: Picture, analysis: Analysis) -> Picture:
    """The picture with what a later message adds to the lenses: citizen views, roles, the T, translation,
    future, citizens in play. Lenses are only ever added; a later message never takes one away."""
    return {
        **picture,
        "borgersyn": _union(picture.get("borgersyn") or [], analysis.borgersyn),
        "roller": _union(picture.get("roller") or [], analysis.roller),
        "t_ledelse": picture.get("t_ledelse") or analysis.t_ledelse,
        "oversaettelse": bool(picture.get("oversaettelse") or analysis.oversaettelse),
        "fremtid": bool(picture.get("fremtid") or analysis.fremtid),
        "borgere": bool(picture.get("borgere") or analysis.borgere),
    }


def with_weighted(picture: Picture, weighting: Weighting, model: BalanceModel) -> Picture:
    """A consideration the leader gives weight to is one they voice: it joins the picture (without a quote)."""
    heard = [h["id"] for h in picture.get("kvadranter") or []]
    added = [q for q in list(weighting.vaegte) + weighting.orden + weighting.gulv if q not in heard]
    if not added:
        return picture
    entries = [{"id": q, "navn": model.kvadranter[q].navn, "score": 1.0, "signaler": [], "citat": ""}
               for q in dict.fromkeys(added)]
    return {**picture, "kvadranter": list(picture.get("kvadranter") or []) + entries,
            "tilsidesat": [q for q in picture.get("tilsidesat") or [] if q not in added]}


# --- Corrections -----------------------------------------------------------------------------------------


@dataclass
class Correction:
    """What a leader's correction asks for: considerations to take out, to bring in or move to the front."""

    fjern: List[str] = field(default_factory=list)
    frem: List[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.fjern and not self.frem


@dataclass
class Changes:
    """What a correction changed, for the reply: removed, added (with the leader's words), moved forward."""

    fjernet: List[str] = field(default_factory=list)
    tilfoejet: List[Tuple[str, str]] = field(default_factory=list)
    rykket_frem: List[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.fjernet or self.tilfoejet or self.rykket_frem)


def read_correction(text: str, analysis: Analysis, button: Optional[str] = None) -> Correction:
    """Which considerations a correction takes out and which it points to.

    "ikke X", "X er ikke …", "mindre X" and what the analysis heard as set aside take a consideration out;
    a name, a quadrant button or what the analysis hears in the correction itself points to one.
    """
    lowered = text.lower()
    out, point = list(analysis.tilsidesat), []
    for qid, pattern in QUADRANT_NAME_PATTERNS.items():
        for found in re.finditer(r"\b" + pattern, lowered):
            before, after = lowered[max(0, found.start() - 40):found.start()], lowered[found.end():]
            if re.search(r"\bmen\b", before):
                before = before.rsplit("men", 1)[1]
            negative = _LESS_BEFORE.search(before) or _LESS_AFTER.match(after)
            (out if negative else point).append(qid)
    if button in QUADRANT_IDS:
        point.insert(0, button)
    point += [h.id for h in grounded(analysis) if h.id not in point]
    out = [q for q in dict.fromkeys(out) if q not in point]
    return Correction(fjern=out, frem=list(dict.fromkeys(point)))


def apply_correction(picture: Picture, correction: Correction, analysis: Analysis, model: BalanceModel
                     ) -> Tuple[Picture, Changes]:
    """The corrected picture and what changed; the neglected consideration is chosen again.

    The considerations pointed to go first, in the order named; the leader's word outranks the analysis.
    """
    heard = {h["id"]: dict(h) for h in picture.get("kvadranter") or []}
    order = [h["id"] for h in picture.get("kvadranter") or []]
    changes = Changes()
    for qid in correction.fjern:
        if qid in heard:
            del heard[qid]
            changes.fjernet.append(qid)
    quotes = {h.id: h for h in analysis.kvadranter}
    for qid in correction.frem:
        if qid not in heard:
            entry = heard_entry(quotes[qid]) if qid in quotes else {
                "id": qid, "navn": model.kvadranter[qid].navn, "score": 1.0, "signaler": [], "citat": ""}
            heard[qid] = entry
            changes.tilfoejet.append((qid, entry.get("citat") or ""))
        elif order and order[0] != qid and qid == correction.frem[0]:
            changes.rykket_frem.append(qid)
    rank = {qid: i for i, qid in enumerate(correction.frem)}
    quadrants = sorted(heard.values(), key=lambda h: (rank.get(h["id"], len(rank)), order.index(h["id"])
                                                       if h["id"] in order else len(order)))
    set_aside = _union(picture.get("tilsidesat") or [], changes.fjernet)
    set_aside = [q for q in set_aside if q not in heard]
    voiced = [h["id"] for h in quadrants]
    updated = with_lenses(picture, analysis)
    updated["kvadranter"] = quadrants
    updated["tilsidesat"] = set_aside
    updated["negligeret"] = neglected(model, voiced, {q: 0.0 for q in QUADRANT_IDS}, (), set_aside) if voiced else None
    updated["etikker"] = [model.kvadranter[q].etik for q in voiced]
    return updated, changes


def is_weighting_correction(text: str, weighting: Weighting) -> bool:
    """A correction after the weighting was given, that talks about weights ("det er mere X end Y")."""
    return weighting.form != "ingen" and bool(_WEIGHT_WORDS.search(text))


def changes_text(changes: Changes, model: BalanceModel, fragment: Fragment) -> str:
    """'Resultater træder i baggrunden, og Stabilitet kommer ind — "de nye regler …"' in the domain's words."""
    parts = [fragment("utter_del_rettet_fjernet", navn=model.kvadranter[q].navn) for q in changes.fjernet]
    for qid, quote in changes.tilfoejet:
        citat = fragment("utter_del_citat", citat=quote) if quote else ""
        parts.append(fragment("utter_del_rettet_tilfoejet", navn=model.kvadranter[qid].navn, citat=citat))
    parts += [fragment("utter_del_rettet_frem", navn=model.kvadranter[q].navn) for q in changes.rykket_frem]
    return join(parts, fragment("utter_del_og_saetning"))


# --- What the coach says back --------------------------------------------------------------------------


def join(items: Sequence[str], last: str) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


def heard_lines(picture: Picture, fragment: Fragment, limit: int = 3) -> str:
    """The heard considerations with the leader's own phrase, one per line (or one sentence for just one)."""
    entries = (picture.get("kvadranter") or [])[:limit]
    used: List[str] = []
    lines = []
    for h in entries:
        quote = (h.get("citat") or "").strip()
        if quote.lower() in used:
            quote = ""  # the same phrase twice would say the coach heard nothing new in it
        used.append(quote.lower())
        citat = fragment("utter_del_citat", citat=quote) if quote else ""
        lines.append((h["navn"], citat))
    if len(lines) == 1:
        return fragment("utter_del_hensyn_et", navn=lines[0][0], citat=lines[0][1])
    return fragment("utter_del_hensyn_flere") + "".join(
        "\n" + fragment("utter_del_hensyn_linje", navn=navn, citat=citat) for navn, citat in lines)


_ACTION_STEP = re.compile(
    r"\b(?:jeg|vi)\s+(?:vil\s+|skal\s+|kan\s+|tror\s+jeg\s+)?(?:gerne\s+)?(?:tage[rn]?|booke[rn]?|skrive[rn]?|ringe[rn]?|"
    r"invitere[rn]?|starte[rn]?|begynde[rn]?|sætte[rn]?|holde[rn]?|spørge[rn]?|tale[rn]?|snakke[rn]?|lave[rn]?|"
    r"indkalde[rn]?|aftale[rn]?|mødes|sende[rn]?|forberede[rn]?|gå[rn]?)\b", re.I)


def is_action_step(text: str) -> bool:
    """"Jeg tager en snak med teamet på mandag": something the leader will do."""
    return bool(_ACTION_STEP.search(text or ""))


def lens_observations(picture: Picture, fragment: Fragment) -> str:
    """What the coach hears besides the four considerations: a decision to carry on, the chain, across,
    the future, the citizens — for a dilemma in which no single consideration stands out."""
    parts = []
    if picture.get("oversaettelse"):
        parts.append(fragment("utter_del_hoert_oversaettelse"))
    if picture.get("t_ledelse") in ("soejle", "tvaers"):
        parts.append(fragment(f"utter_del_hoert_{picture['t_ledelse']}"))
    if picture.get("fremtid"):
        parts.append(fragment("utter_del_hoert_fremtid"))
    if picture.get("borgere"):
        parts.append(fragment("utter_del_hoert_borgere"))
    return join(parts, fragment("utter_del_og"))


def answer_kind(text: str) -> str:
    return "kort" if len((text or "").split()) <= SHORT_ANSWER_WORDS else "normal"


def reflection(slot: str, text: str, analysis: Analysis, picture: Picture, model: BalanceModel,
               weighting: Optional[Weighting] = None) -> Optional[Tuple[str, Dict[str, str]]]:
    """How the coach acknowledges an answer before the next question: a response name and its values.

    None means the answer gave the coach nothing to hold on to (a weighting it cannot read, say): it asks
    again instead of pretending to have understood.
    """
    phrase = meaning.answer_phrase(text)
    neglected_id = picture.get("negligeret")
    if slot == "svar_balance":
        if weighting is not None and weighting.form != "ingen":
            return "utter_refleksion_vaegtning", {}
        if not analysis.kvadranter and len(phrase.split()) < 3:
            return None
        return "utter_refleksion_vaegtning_ord", {"citat": phrase}
    if slot == "naeste_skridt":
        return None if not phrase else ("utter_refleksion_skridt", {"citat": phrase})
    if answer_kind(text) == "kort" and not grounded(analysis):
        return "utter_refleksion_kort", {}
    heard = [h.id for h in grounded(analysis) if h.id not in (picture.get("tilsidesat") or [])]
    if slot == "svar_negligeret" and neglected_id in model.kvadranter:
        if neglected_id in analysis.tilsidesat or (_SET_ASIDE_ANSWER.search(text) and len(text.split()) <= 14):
            return "utter_refleksion_fravalgt", {"navn": model.kvadranter[neglected_id].navn}
        qid = neglected_id if (neglected_id in analysis.voiced or not heard) else heard[0]
        return "utter_refleksion_hensyn", {"navn": model.kvadranter[qid].navn, "citat": phrase}
    if heard:
        return "utter_refleksion_hensyn", {"navn": model.kvadranter[heard[0]].navn, "citat": phrase}
    return "utter_refleksion_svar", {"citat": phrase}


# --- Lenses ----------------------------------------------------------------------------------------------


def choose_lenses(picture: Picture) -> List[str]:
    """The deeper lenses worth one question each, most specific first, at most MAX_LENSES.

    The citizen lens only when citizens are in the dilemma; the vertical chain is left out beside the
    translation lens (which already asks about carrying a decision down the chain).
    """
    wanted = []
    if picture.get("oversaettelse"):
        wanted.append("svar_oversaettelse")
    t = picture.get("t_ledelse")
    if t == "tvaers" or (t == "soejle" and not picture.get("oversaettelse")):
        wanted.append("svar_t_ledelse")
    if picture.get("borgersyn") and picture.get("borgere"):
        wanted.append("svar_borgersyn")
    if picture.get("fremtid"):
        wanted.append("svar_fremtid")
    wanted.append("svar_etik")
    return wanted[:MAX_LENSES]


def citizen_views(picture: Picture) -> List[str]:
    """The one or two citizen views the leader's words signal most clearly (never all four)."""
    return list(picture.get("borgersyn") or [])[:MAX_VIEWS]


# --- Weighting and summary -------------------------------------------------------------------------------


def weighting_text(weighting: Weighting, model: BalanceModel, fragment: Fragment) -> str:
    """'Relationer 50 %, Resultater 30 % og Fornyelse 20 %' or 'Resultater vejer tungest, og Relationer må
    ikke glide ud' in the domain's words; empty when the leader stated no weighting."""
    name = lambda q: model.kvadranter[q].navn  # noqa: E731
    and_ = fragment("utter_del_og")
    if weighting.vaegte:
        text = join([fragment("utter_del_vaegt_tal", navn=name(q), vaegt=weighting.vaegte[q])
                     for q in weighting.orden], and_)
    elif len(weighting.orden) >= 2:
        text = fragment("utter_del_vaegt_foer", foerst=name(weighting.orden[0]),
                        derefter=join([name(q) for q in weighting.orden[1:]], and_))
    elif weighting.orden:
        text = fragment("utter_del_vaegt_tungest", navn=name(weighting.orden[0]))
    else:
        text = ""
    floors = [name(q) for q in weighting.gulv if q not in weighting.vaegte or not weighting.vaegte]
    if floors:
        floor = fragment("utter_del_vaegt_gulv", navne=join(floors, and_))
        text = fragment("utter_del_vaegt_og_gulv", vaegt=text, gulv=floor) if text else floor[0].upper() + floor[1:]
    return text


def answered(value: object) -> str:
    """A reflection slot's text if the leader answered it, else empty (skipped or never asked)."""
    text = str(value or "").strip()
    return "" if text == SKIPPED else text


def summary_lines(slots: Dict[str, object], model: BalanceModel, fragment: Fragment) -> str:
    """The summary's lines, only those the conversation filled: a skipped question leaves no empty line."""
    quadrants = slots.get("kvadranter") or []
    neglected_id = slots.get("negligeret")
    lines = [fragment("utter_del_linje_hensyn", hensyn=join([h["navn"] for h in quadrants], fragment("utter_del_og"))
                      or fragment("utter_del_ingen"))]
    weighting = Weighting.from_slot(slots.get("vaegtning"))
    stated = weighting_text(weighting, model, fragment)
    if stated:
        lines.append(fragment("utter_del_linje_vaegtning", vaegtning=stated))
    elif answered(slots.get("svar_balance")):
        lines.append(fragment("utter_del_linje_vaegtning_ord", citat=meaning.answer_phrase(str(slots["svar_balance"]))))
    if neglected_id in model.kvadranter:
        name = model.kvadranter[neglected_id].navn
        answer = answered(slots.get("svar_negligeret"))
        if slots.get("negligeret_fravalgt"):
            lines.append(fragment("utter_del_linje_fravalgt", navn=name))
        elif answer:
            lines.append(fragment("utter_del_linje_overset", navn=name, citat=meaning.answer_phrase(answer)))
    used = [s for s in (slots.get("linser") or []) if answered(slots.get(s))]
    if used:
        lines.append(fragment("utter_del_linje_linser", linser=join([fragment(f"utter_del_linse_{s}") for s in used],
                                                                     fragment("utter_del_og"))))
    step = answered(slots.get("naeste_skridt"))
    if step:
        lines.append(fragment("utter_del_linje_skridt", citat=meaning.answer_phrase(step, max_words=24)))
    return "\n".join(lines)


# --- Model questions -------------------------------------------------------------------------------------

CONCEPT_WORDS = {
    "balance": [r"balance", r"hensyn", r"vægtning"],
    "oversigt": [r"balancemodel", r"kvadrant", r"de fire", r"akse", r"ledelsesgrundlag", r"modellen"],
    "etikker": [r"etikkerne", r"de fire etikker", r"etiske lag", r"etisk", r"etik"],
    "roller": [r"roller", r"rolle", r"borgersyn"],
    "t_ledelse": [r"t-formet", r"t formet", r"t-ledelse", r"tformet", r"søjle", r"på tværs"],
    "oversaettelse": [r"oversæt", r"oversaet"],
    "fremtid": [r"fremtidsskab", r"fremtid", r"verdensmål", r"bæredygtig"],
    "sikker_nok": [r"sikker.?nok", r"handlegrund", r"både.?og"],
}
_CONCEPT_ORDER = ["sikker_nok", "t_ledelse", "oversaettelse", "fremtid", "etikker", "roller", "oversigt", "balance"]


MAX_CONCEPTS = 3


def find_concepts(text: str, model: BalanceModel) -> List[str]:
    """The concepts a model question asks about, in the order asked ("forskellen på relationer og
    resultater" is two): specific ids, else one general overview."""
    lowered = (text or "").lower().replace("aa", "å").replace("ae", "æ").replace("oe", "ø")
    compact = lowered.replace(" ", "")
    found = []
    for table in ("etikker", "borgersyn", "roller", "kvadranter"):
        for any_id, entry in getattr(model, table).items():
            name = entry.navn.lower().replace(" ", "")
            at = min([i for i in (compact.find(name), compact.find(any_id.replace("_", ""))) if i >= 0], default=-1)
            if at >= 0 and not any(f.endswith(":" + any_id) for _, f in found):
                found.append((at, f"{table}:{any_id}"))
    if found:
        return [concept for _, concept in sorted(found)][:MAX_CONCEPTS]
    for concept in _CONCEPT_ORDER:
        if any(re.search(p, lowered) for p in CONCEPT_WORDS[concept]):
            return [concept]
    return []



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
