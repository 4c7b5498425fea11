"""What a leader's turn is, before anything is done with it.

A statistical intent classifier reads "hvad er fremtidsskabelse" halfway through a reflection as an answer,
and "giv mig et råd" as a request for help. The coach must not analyse a question into the balance picture
or store a request for advice as the leader's next step, so each message is first understood for what it
is: an answer, a correction, a question about the model or the coach's own question, a request for advice,
drift, strain or crisis, fatigue, a wish to skip ahead, go on or stop.

Clear Danish cues decide here; where none is present the classifier's intent stands. The same function
runs inside the NLU pipeline (rasa_addons/turn_understanding.py), so Rasa's rules route the turn, and in
the form validation, where the pending question gives a turn its context.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from . import safety
from .knowledge import QUADRANT_NAME_PATTERNS

ANSWER_INTENTS = frozenset({"svar_refleksion", "beskriv_dilemma"})

# Turn kinds and the Rasa intent each is routed as.
INTENT_OF_KIND = {
    "krise": "krise",
    "belastning": "belastning",
    "traet": "traet_af_spoergsmaal",
    "springe": "springe_til_opsummering",
    "stop": "stop",
    "fortsaette": "fortsaette",
    "raad": "bede_om_raad",
    "uddybning": "bede_om_uddybning",
    "model": "spoerg_om_model",
    "usikker": "usikker",
    "korrektion": "korrigere_billede",
    "udenfor": "udenfor_emne",
}
KIND_OF_INTENT = {intent: kind for kind, intent in INTENT_OF_KIND.items()}
KIND_OF_INTENT.update({"svar_refleksion": "svar", "beskriv_dilemma": "svar", "nlu_fallback": "uklar"})

QUADRANT_WORDS = "(?:" + "|".join(QUADRANT_NAME_PATTERNS.values()) + ")"
"""The quadrants by name, as leaders write them in a correction ("det er mere relationer end resultater")."""

CONCEPTS = (
    r"balance\w*", r"hensyn\w*", r"sikker.?nok", r"handlegrund\w*", r"både.?og", r"kvadrant\w*", r"akse\w*",
    r"balancemodel\w*", r"ledelsesgrundlag\w*", r"\w*etik\w*", r"borgersyn\w*", r"myndighed\w*",
    r"serviceproducent\w*", r"facilitator\w*", r"rettighedsbærer\w*", r"medskaber\w*", r"medmenneske\w*",
    r"t.?form\w*", r"t.?ledelse", r"søjle\w*", r"på tværs", r"oversættelse\w*", r"fremtidsskab\w*",
    r"relationer", r"stabilitet", r"fornyelse", r"resultater", r"udvikling og drift", r"ind og ud",
    r"ledelsesrum\w*", r"verdensmål\w*",
)
_CONCEPT = re.compile(r"\b(?:" + "|".join(CONCEPTS) + r")", re.I)

_SKIP = re.compile(
    r"spring\w*\s+(?:direkte\s+|bare\s+|lige\s+|videre\s+)?(?:frem\s+)?til\s+(?:slutningen|opsummering\w*|enden|"
    r"konklusion\w*|det sidste)|(?:gå|hop\w*|videre)\s+(?:direkte\s+|bare\s+)?til\s+(?:opsummering\w*|slutningen)|"
    r"kan\s+vi\s+(?:ikke\s+)?(?:bare\s+)?(?:runde\s+af|afrunde|samle\s+op|slutte\s+af)|lad\s+os\s+(?:runde\s+af|"
    r"samle\s+op|slutte\s+af)|(?:saml|sammenfat)\s+(?:det\s+)?(?:hele\s+)?op\b|(?:en\s+)?kort\s+opsummering|"
    r"den\s+korte\s+(?:vej|version)|spring\s+resten\s+over|(?:hop|skip)\s+(?:til\s+)?slut",
    re.I,
)
_TIRED = re.compile(
    r"(?:orker|gider|kan)\s+ikke\s+(?:flere|mere|svare\s+på\s+flere)(?:\s+\w+)?\s*(?:spørgsmål|af\s+det\s+her)|"
    r"for\s+mange\s+spørgsmål|træt\w*\s+af\s+(?:alle\s+)?(?:de\s+|dine\s+)?(?:spørgsmål|at\s+svare)|"
    r"(?:har|får)\s+ikke\s+(?:mere\s+)?(?:tid|overskud)\s+til\s+(?:flere\s+spørgsmål|mere\s+af\s+det\s+her)|"
    r"ikke\s+flere\s+spørgsmål",
    re.I,
)
_STOP = re.compile(
    r"^(?:stop|stands|hold\s+op)\b|(?:jeg|vi)\s+(?:vil\s+gerne\s+|må\s+|skal\s+)?(?:stoppe|slutte|stopper|slutter)"
    r"\s+(?:her|nu|for\s+i\s+dag)|(?:stop|stoppe)\s+for\s+i\s+dag|ikke\s+mere\s+(?:for\s+)?i\s+dag|"
    r"lad\s+os\s+(?:stoppe|slutte)(?:\s+her)?\b",
    re.I,
)
_GO_ON = re.compile(
    r"\b(?:vil|kan|skal)\s+(?:gerne\s+|godt\s+)?(?:fortsætte|fortsaette|videre|køre\s+videre|tage\s+den\s+videre)|"
    r"lad\s+os\s+(?:fortsætte|fortsaette|komme\s+videre|tage\s+den\s+videre|køre\s+videre)|^(?:ja,?\s+)?fortsæt\b|"
    r"^fortsaet\b|^videre\b|\bjeg\s+er\s+klar(?:\s+igen)?\b|\bvi\s+fortsætter\b",
    re.I,
)
_ADVICE = re.compile(
    r"\b(?:giv|kom\s+med|har\s+du)\b[^.?!]{0,25}?\b(?:råd|raad|anbefaling\w*|løsning\w*)\b|"
    r"\bhvad\s+du\s+(?:selv\s+)?(?:ville|vil|skulle)\s+(?:gøre|vælge)|"
    r"\bhvad\s+(?:synes|mener|tror)\s+du,?\s+(?:at\s+)?(?:jeg|vi)\s+(?:skal|bør|burde)|"
    r"\bhvad\s+ville\s+du\s+(?:selv\s+)?(?:gøre|vælge|anbefale|sige)|"
    r"\bhvad\s+(?:anbefaler|foreslår|råder)\s+du|\bhvad\s+er\s+dit\s+(?:råd|bud)|"
    r"\b(?:fortæl|sig)\s+mig\s+(?:bare\s+)?,?\s*hvad\s+(?:jeg|vi)\s+skal|"
    r"\bhvad\s+er\s+det\s+rigtige\s+(?:at\s+gøre|svar)|\bkan\s+du\s+ikke\s+bare\s+(?:sige|fortælle)|"
    r"^hvad\s+skal\s+jeg\s+(?:dog\s+|så\s+)?(?:gøre|vælge)\s*\??$|\bhvad\s+gør\s+jeg\s*(?:nu|så)?\s*\??$|"
    r"\bdu\s+(?:må|skal)\s+(?:da\s+)?(?:kunne\s+)?(?:sige|fortælle)\s+mig\s+hvad",
    re.I,
)
_CLARIFY = re.compile(
    r"^(?:hvad|hvordan)\s+mener\s+du\b(?!\s+med\s+\w)|^hvad\s+betyder\s+(?:det|spørgsmålet)\s*\??$|"
    r"(?:det\s+)?forstår\s+jeg\s+ikke(?:\s+helt)?(?:\s+spørgsmålet)?\s*\??$|forstår\s+ikke\s+(?:spørgsmålet|hvad\s+du\s+mener)|"
    r"kan\s+du\s+(?:sige|forklare|formulere|spørge\s+om)\s+det\s+(?:på\s+en\s+anden\s+måde|anderledes|igen|enklere|mere\s+enkelt)|"
    r"hvad\s+(?:er\s+det\s+du\s+)?spørger\s+du\s+(?:egentlig\s+)?om|hvorfor\s+spørger\s+du\s+(?:om\s+det)?|"
    r"^hva+\s*\?*$|^hvad\s*\?+$|^hæ+\s*\?*$|hvad\s+skal\s+jeg\s+svare",
    re.I,
)
_DEFINITION = re.compile(
    r"\b(?:hvad\s+(?:er|betyder|menes\s+med|mener\s+du\s+med|dækker|står|vil\s+det\s+sige|hedder)|hvad\s+er\s+forskellen|"
    r"forklar|hvordan\s+(?:forstår|skal\s+jeg\s+forstå|bruger)|hvilke[nt]?\s+(?:hensyn|kvadrant|etik|roller?)|"
    r"fortæl\s+(?:mig\s+)?(?:lidt\s+)?om|mellem\s+hvad|hvad\s+for\s+(?:en|et|nogle))",
    re.I,
)
_UNSURE = re.compile(
    r"^(?:jeg\s+)?ved\s+(?:det\s+)?ikke(?:\s+rigtig|\s+helt)?(?:\s+endnu)?\s*[.!]*$|"
    r"^(?:det|dét)\s+ved\s+jeg\s+(?:virkelig\s+|bare\s+|faktisk\s+)?ikke(?:\s+rigtig|\s+endnu|\s+helt)?\s*[.!]*$|"
    r"^(?:ingen\s+anelse|aner\s+det\s+ikke|aner\s+ikke|tja+|hmm+|øh+m*|ved\s+ikke)\s*[.!]*$|"
    r"ved\s+ikke\s+(?:rigtig\s+|helt\s+)?(?:hvad|hvordan)\s+jeg\s+skal\s+(?:skrive|sige|starte|begynde|formulere)|"
    r"hvad\s+skal\s+jeg\s+(?:skrive|starte\s+med)|hvor\s+skal\s+jeg\s+(?:starte|begynde)|"
    r"(?:det\s+er\s+)?svært\s+at\s+(?:sige|sætte\s+ord\s+på|svare\s+på)|det\s+kan\s+jeg\s+ikke\s+svare\s+på|"
    r"^(?:det\s+er\s+)?(?:svært|vanskeligt)\s*[.!]*$|har\s+ikke\s+noget\s+svar|"
    r"^(?:jeg\s+)?(?:kan\s+ikke|kan\s+ik|ser\s+ikke)\s+(?:rigtig(?:t)?\s+|helt\s+|lige\s+)?(?:se\s+)?"
    r"(?:noget|nogen|det|hvordan)(?:\s+\w+){0,3}\s*[.!]*$|"
    r"^(?:jeg\s+)?har\s+(?:ingen|ikke\s+nogen)\s+(?:idéer|ideer|bud|forslag)(?:\s+\w+){0,3}\s*[.!]*$",
    re.I,
)
_CORRECTION = re.compile(
    r"^nej\b[,.!\s]+(?:det\s+(?:handler|drejer|fylder|er\s+(?:mere|mest|snarere|ikke\s+(?!helt\b|rigtigt\b)\w+))|"
    r"du\s+har|mere\s+|mindre\s+|snarere\s+|faktisk\s+|egentlig\s+|ikke\s+(?:så\s+meget\s+)?(?!helt\b)\w+\s*,?\s+men\b)|"
    r"\bdu\s+har\s+(?:misforstået|ikke\s+(?:rettet|forstået|hørt|lyttet))|\bdet\s+har\s+du\s+misforstået|"
    r"\b(?:billedet|vægtningen|opsummeringen|balancen|vægten|spejlingen)\s+(?:passer|stemmer|rammer)\s+ikke|"
    r"\bdet\s+(?:passer|stemmer|rammer)\s+ikke\b|"
    r"\bdet\s+er\s+(?:mere|mest|snarere)\s+" + QUADRANT_WORDS + r"|"
    r"\bmere\s+" + QUADRANT_WORDS + r"\s+end\s+" + QUADRANT_WORDS + r"|"
    r"\b" + QUADRANT_WORDS + r"\s+(?:fylder|vejer|betyder)\s+(?:\w+\s+){0,2}(?:mere|mest|mindre|mindst|tungere)|"
    r"\b" + QUADRANT_WORDS + r"\s+er\s+(?:ikke|slet\s+ikke)\b|"
    r"\bikke\s+(?:så\s+meget\s+)?" + QUADRANT_WORDS + r"\b|"
    r"\bdu\s+(?:hører|har\s+hørt)\s+forkert|\bdet\s+er\s+forkert\b",
    re.I,
)
_QUESTION_START = re.compile(r"^(?:hvad|hvordan|hvorfor|hvornår|hvor|hvem|hvilke[nt]?|kan\s+du|må\s+jeg|er\s+der)\b", re.I)
_FIRST_PERSON = re.compile(r"\b(?:jeg|vi|mig|os|mine?|mit|vores|min)\b", re.I)
_LEADING_FILLER = re.compile(r"^(?:(?:ja|nej|ok|okay|okej|tak|hmm+|øh+|tja|jamen|altså|så)[,.!\s]+)+", re.I)


@dataclass(frozen=True)
class Turn:
    kind: str
    intent: str
    cue: str = ""  # why: the words that decided, or "nlu" when the classifier's intent stood


def _words(text: str) -> int:
    return len(text.split())


def _match(pattern: re.Pattern, text: str) -> Optional[str]:
    found = pattern.search(text)
    return found.group(0).strip() if found else None


def understand(text: Optional[str], intent: Optional[str] = None, heard_considerations: int = 0) -> Turn:
    """The kind of this turn: a clear cue in the words decides, else the classifier's `intent`.

    `heard_considerations` is how many considerations the analysis heard in the message: a long message
    that voices a dilemma and ends in "hvad skal jeg gøre?" is a dilemma first, not a bare request for advice.
    """
    raw = " ".join((text or "").split())
    lowered = raw.lower()
    core = _LEADING_FILLER.sub("", lowered).strip() or lowered
    words = _words(core)

    def turn(kind: str, cue: str) -> Turn:
        return Turn(kind, INTENT_OF_KIND[kind], cue)

    concern = safety.assess(raw)
    if concern == "krise":
        return turn("krise", "sikkerhed")
    if concern == "belastning":
        return turn("belastning", "sikkerhed")
    if raw.startswith("/"):
        return Turn(KIND_OF_INTENT.get(intent or "", "andet"), intent or "", "knap")
    short = words <= 16
    dilemma_like = heard_considerations > 0 and words >= 12
    for kind, pattern, applies in (
        ("traet", _TIRED, True),
        ("springe", _SKIP, short),
        ("stop", _STOP, short),
        ("fortsaette", _GO_ON, words <= 12),
        ("raad", _ADVICE, not dilemma_like),
    ):
        cue = _match(pattern, core) if applies else None
        if cue:
            return turn(kind, cue)
    if words <= 12:
        concept = _match(_CONCEPT, core)
        if concept and (_DEFINITION.search(core) or (core.endswith("?") and words <= 5)):
            return turn("model", concept)
        for kind, pattern in (("uddybning", _CLARIFY), ("usikker", _UNSURE)):
            cue = _match(pattern, core)
            if cue:
                return turn(kind, cue)
    cue = _match(_CORRECTION, lowered) if words <= 40 else None
    if cue:
        return turn("korrektion", cue)
    unsure_of_intent = (intent or "nlu_fallback") in ANSWER_INTENTS | {"nlu_fallback"}
    if words <= 12 and unsure_of_intent and _is_drift(core, heard_considerations):
        return turn("udenfor", "spørgsmål uden for dilemmaet")
    return Turn(KIND_OF_INTENT.get(intent or "", "andet"), intent or "", "nlu")


def _is_drift(core: str, heard_considerations: int) -> bool:
    """A short question about something else entirely ("hvornår har kantinen åbent?")."""
    asks = core.endswith("?") or bool(_QUESTION_START.match(core))
    return asks and heard_considerations == 0 and not _FIRST_PERSON.search(core) and not _CONCEPT.search(core)


_WEIGHING = re.compile(r"\b" + QUADRANT_WORDS + r"\s+(?:fylder|vejer|betyder)\s+(?:\w+\s+){0,2}(?:mere|mest|tungere)|"
                       r"\d{1,3}\s*/\s*\d{1,3}|\d{1,3}\s*(?:%|procent)", re.I)
_DISAGREEING = re.compile(r"^\s*nej\b|\b(?:passer|stemmer|rammer)\s+ikke\b|forkert|misforstået|\bikke\s+"
                          + QUADRANT_WORDS, re.I)


def weighing_when_asked(text: Optional[str], intent: Optional[str], requested_slot: Optional[str]) -> Optional[str]:
    """"Relationerne vejer mest, 70/30" right after the coach asked how the leader weighs the considerations
    is the answer to that question, not a correction of the picture: the intent to route it as, or None."""
    if requested_slot != "svar_balance" or intent != INTENT_OF_KIND["korrektion"] or not text:
        return None
    if _WEIGHING.search(text) and not _DISAGREEING.search(text):
        return "svar_refleksion"
    return None

