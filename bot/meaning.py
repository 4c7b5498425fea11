"""Meaning, not keywords: what the leader sets aside, what is talk about the conversation, which words to quote.

"Det handler ikke om penge" names money to set it aside; "økonomien er sekundær" downplays it. A keyword
reading hears Resultater in both. Here such phrases are found as character spans, so the analysis can hear
them as deliberately set aside instead of voiced, and the embedding sees the message without them. Words
about the conversation itself ("ved ikke hvad jeg skal skrive", "undskyld, det var ikke sådan ment") are
removed before any analysis, and quotes are cut to the phrase that carries a consideration: a clause, not
one word and not a whole vague sentence.

Scarcity is not setting aside: "vi har ikke penge til kurser" voices Resultater, so negation alone never
counts, only the constructions below.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .text import clauses_with_spans

Span = Tuple[int, int]

_END = r"(?=\s*(?:[,.;:!?]|\bmen\b|\bdet\s+handler\b|\bog\s+det\b|$))"
_NP = r"(?P<obj>[^,.;:!?]{2,80}?)"
_FILLERS = r"(?:(?:egentlig|faktisk|slet|overhovedet|i\s+virkeligheden|jo|altså|heller|nok|helt|ret|lidt|mere)\s+)*"

SET_ASIDE = [re.compile(p, re.I) for p in (
    # "det handler ikke om penge", "det drejer sig faktisk ikke så meget om økonomien"
    r"\b(?:handler|drejer\s+sig)\s+" + _FILLERS + r"ikke\s+(?:så\s+meget\s+|primært\s+|først\s+og\s+fremmest\s+|"
    r"længere\s+|mest\s+)?om\s+" + _NP + _END,
    # "økonomien er sekundær", "pengene er ikke problemet", "reglerne er ikke det vigtigste"
    r"(?:^|(?<=[,.;:!?])\s*|\b(?:men|og|så|for)\s+)" + r"(?P<obj>(?:[\wæøåÆØÅ-]+\s+){0,3}?[\wæøåÆØÅ-]+)\s+"
    r"(?:er|bliver|må\s+være|kan\s+være)\s+" + _FILLERS +
    r"(?:sekundær\w*|underordne\w*|ligegyldig\w*|uvæsentlig\w*|mindre\s+vigtig\w*|af\s+mindre\s+betydning|"
    r"ikke\s+(?:det\s+)?(?:vigtigste|afgørende|problemet|store\s+problem|vigtig\w*|et\s+problem|hovedsagen|"
    r"det\s+(?:der|som)\s+fylder|i\s+fokus|min\s+(?:største\s+)?bekymring|det\s+jeg\s+bekymrer\s+mig\s+om|"
    r"det\s+(?:det|der)\s+handler\s+om))",
    # "det er ikke det vigtigste at spare"
    r"\bdet\s+er\s+" + _FILLERS + r"ikke\s+(?:det\s+)?(?:vigtigste|afgørende|det\s+der\s+fylder)\s+(?:at\s+)?" + _NP + _END,
    # "økonomien spiller ingen rolle", "reglerne betyder mindre"
    r"(?:^|(?<=[,.;:!?])\s*)(?P<obj>(?:[\wæøåÆØÅ-]+\s+){0,3}?[\wæøåÆØÅ-]+)\s+(?:spiller\s+(?:ingen|ikke\s+"
    r"(?:nogen|den\s+store|så\s+stor))\s+rolle|betyder\s+(?:mindre|ikke\s+(?:så\s+)?meget|ingenting|intet)"
    r"(?=\s*(?:[,.;:!?]|$|her\b|nu\b|lige\s+nu\b|i\s+dag\b)))",
    # "ikke for pengenes skyld", "ikke på grund af økonomien"
    r"\bikke\s+for\s+(?P<obj>[\wæøå]+?)s?\s+skyld\b",
    r"\bikke\s+(?:på\s+grund\s+af|pga\.?)\s+" + _NP + _END,
    # "se bort fra økonomien", "glem budgettet"
    r"\b(?:se\s+bort\s+fra|glem|lad\s+os\s+lade)\s+" + _NP + _END,
    # "nej, ikke økonomien, men reglerne" (only at a clause start: "vi har ikke penge, men" is scarcity)
    r"(?:^|[,.;:!?]\s*|\bnej,?\s+|\bdet\s+er\s+|\bdet\s+var\s+)ikke\s+(?:så\s+meget\s+)?" + _NP + r"\s*,?\s+men\b",
    # "mindre økonomi, mere trivsel"
    r"\bmindre\s+(?P<obj>[\wæøå]+)\s*(?:,|\s+og)?\s+mere\b",
    # "det er ikke pengene, der er problemet", "det er ikke et spørgsmål om at spare, det er …"
    r"\bdet\s+er\s+" + _FILLERS + r"ikke\s+(?:et\s+spørgsmål\s+om\s+(?:at\s+)?|kun\s+(?=\S+\s+(?:der|som)\b))?"
    r"(?P<obj>[^,.;:!?]{2,60}?)\s*,?\s+(?:der|som|jeg|vi|det\s+er|det\s+handler)\b",
    # "det er ikke fordi vi mangler penge"
    r"\bikke\s+fordi\s+" + _NP + _END,
    # "jeg er ikke bekymret for tilsynet", "det er ikke lovgivningen, jeg er i tvivl om"
    r"\b(?:jeg|vi)\s+er\s+ikke\s+(?:så\s+)?(?:bekymret|bekymrede|i\s+tvivl|nervøs|nervøse|bange)\s+"
    r"(?:for|om|over)\s+" + _NP + _END,
    # "jeg tror ikke, det er økonomien, der står i vejen"
    r"\btror\s+ikke\s*,?\s+(?:at\s+)?det\s+er\s+(?P<obj>[^,.;:!?]{2,60}?)\s*,?\s+(?:der|som)\b",
)]

_META = [re.compile(p, re.I) for p in (
    r"\bundskyld\b", r"\bdet\s+var\s+ikke\s+(?:sådan\s+)?ment\b[^.!?,]*",
    r"\b(?:jeg\s+)?ved\s+ikke\s+(?:rigtig\s+|helt\s+)?(?:hvad|hvordan)\s+jeg\s+skal\s+(?:skrive|sige|formulere)\b[^.!?]*",
    r"\bhvis\s+det\s+giver\s+mening\b", r"\bgiver\s+det\s+mening\s*\?", r"\b(?:godt|svært|fint)\s+spørgsmål\b",
    r"\btak\s+for\s+(?:spørgsmålet|det)\b", r"\bsom\s+(?:jeg\s+)?(?:skrev|sagde)(?:\s+før)?\b", r"\bsom\s+sagt\b",
    r"\bdu\s+spurgte\s+(?:om|til)\b", r"\bjeg\s+mente\b",
    r"\bdu\s+har\s+(?:ikke\s+)?(?:rettet|forstået|hørt|lyttet|misforstået)\b[^.!?,]*",
    r"\b(?:billedet|spejlingen|opsummeringen|vægtningen)\s+(?:passer|stemmer|rammer)\s+ikke\b",
)]
_INTERJECTION = re.compile(r"^(?:(?:ja|nej|ok|okay|okej|tak|hmm+|øh+m*|tja|jamen|altså|nå|godt|fint)\b[,.!:;\s-]*)+", re.I)
_LEAD = re.compile(
    r"^(?:(?:og|men|så|at|fordi|selvom|mens|samtidig|hvor|der|som|da|eller|for|når|hvis|jo)\s+)+", re.I)
_LEAD_AND = re.compile(r"^(?:(?:og|men|så)\s+)+", re.I)
"""An answer keeps its "hvis"/"når": "hvis vi lukker en afdeling, kan …" is the idea, "vi lukker …" is not."""
_HEDGE = re.compile(
    r"^(?:(?:jeg\s+)?(?:tænker|tror|synes|mener)\s+(?:måske\s+)?(?:at\s+)?|måske\s+(?:kunne\s+|kan\s+|skal\s+)?"
    r"(?:vi|jeg|man)\s+|(?:vi|jeg|man)\s+(?:kunne|kan|skulle|skal|må|vil|burde)\s+(?:måske\s+|godt\s+|nok\s+|"
    r"også\s+|gerne\s+)*|det\s+kunne\s+være\s+(?:at\s+)?|et\s+bud\s+(?:kunne\s+)?være\s+(?:at\s+)?)",
    re.I,
)
_SUBJECTS = {"jeg", "vi", "de", "du", "man", "han", "hun", "det", "der", "den", "mine", "vores", "min", "mit",
             "lærerne", "personalet", "medarbejderne", "folk", "forældrene", "borgerne", "politikerne", "chefen",
             "ledelsen", "teamet", "kollegerne", "eleverne", "beboerne", "direktionen", "byrådet", "samtidig"}
_WORDS = re.compile(r"\w+")
_FINITE = {"er", "var", "har", "havde", "vil", "skal", "kan", "må", "synes", "mener", "siger", "føler", "bliver",
           "blev", "får", "gør", "går", "tror", "ved", "klager", "vil"}
PHRASE_WORDS = 12
"""Longest quote, in words: enough for a clause, short enough to read as the leader's key phrase."""


def set_aside_spans(text: str) -> List[Span]:
    """Character spans of what the leader names only to set it aside (the object, not the whole clause)."""
    spans = []
    for pattern in SET_ASIDE:
        for found in pattern.finditer(text):
            start, end = found.span("obj")
            if start >= 0:
                spans.append((start, end))
    return sorted(set(spans))


def inside(span: Span, spans: List[Span]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in spans)


def without(text: str, spans: List[Span]) -> str:
    """The text with the spans blanked out (same length, so character offsets stay valid)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def strip_meta(text: str) -> str:
    """The message without words about the conversation itself; empty when nothing else is left."""
    text = text.strip()
    for pattern in _META:
        text = pattern.sub(" ", text)
    text = _INTERJECTION.sub("", text.strip(" ,.;:!-"))
    text = re.sub(r"\s+([,.!?])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,.;:-")
    return text if any(ch.isalpha() for ch in text) else ""


def _tidy(phrase: str, lead: re.Pattern = _LEAD) -> str:
    phrase = phrase.strip(" ,.;:!?-–—\"'»«")
    for pattern in (_INTERJECTION, lead):
        phrase = pattern.sub("", phrase).strip(" ,.;:-")
    return phrase


def key_phrase(text: str, start: int, end: int, max_words: int = PHRASE_WORDS) -> str:
    """The phrase around a signal at text[start:end]: its clause, cut to a window of words around the signal."""
    for c_start, c_end, clause in clauses_with_spans(text):
        if c_start <= start < c_end:
            break
    else:
        return text[start:end]
    words = [(m.start() + c_start, m.end() + c_start) for m in re.finditer(r"\S+", clause)]
    at = next((i for i, (s, e) in enumerate(words) if s <= start < e or s >= start), 0)
    raw = [text[s:e].lower() for s, e in words]
    lower = [w.strip(",") for w in raw]

    def new_clause(i: int) -> bool:
        """Word i begins a clause of its own: "lærerne er delte", "andre synes …"."""
        return i < len(words) and (lower[i] in _SUBJECTS or (i + 1 < len(words) and lower[i + 1] in _FINITE))

    first = max(0, at - 4) if len(words) > max_words else 0
    comma = next((i + 1 for i in range(at - 1, max(-1, at - 8), -1) if raw[i].endswith(",") and new_clause(i + 1)),
                 None)
    for i in range(at - 1, max(-1, at - 8), -1) if comma is None else ():
        # begin after "at"/"hvor", or at the subject of the signal
        if lower[i] in ("at", "om", "når", "hvis", "fordi", "mens", "og", "men", "hvor", "som"):
            first = i + 1
            break
        if lower[i] in ("vi", "jeg", "de", "man", "han", "hun", "det", "der"):
            first = i
            break
    first = comma if comma is not None else first
    # A new clause without a full stop ends the phrase: "… næste år og lærerne er pressede", "…, andre synes".
    last = next((i for i in range(at + 1, len(words)) if (lower[i] in ("og", "men", "mens") and new_clause(i + 1))),
                len(words))
    last = next((i + 1 for i in range(at, last - 1) if raw[i].endswith(",") and new_clause(i + 1)), last)
    words = words[first:min(last, first + max_words)]
    phrase = _tidy(text[words[0][0]:words[-1][1]]) if words else ""
    return phrase if len(phrase.split()) >= 2 else _tidy(clause) or phrase


def answer_phrase(text: str, max_words: int = 16) -> str:
    """The leader's key phrase in an answer: the fullest clause, without hedges ("vi kunne måske ...")."""
    cleaned = strip_meta(text) or text
    parts = [_tidy(c, _LEAD_AND) for _, _, c in clauses_with_spans(cleaned, fine=False)]
    parts = [p for p in parts if len(p.split()) >= 2] or [_tidy(cleaned, _LEAD_AND)]
    best = max(parts, key=lambda p: len(p.split()))
    best = _HEDGE.sub("", best).strip(" ,.;:")
    words = best.split()
    if len(words) > max_words:
        best = " ".join(words[:max_words]) + " …"
    return best


@dataclass
class Reading:
    """A message as the analysis reads it: without talk about the conversation, with set-aside spans found.

    `masked` is what the embedding sees: the text with the set-aside words blanked out.
    """

    text: str
    spans: List[Span]
    masked: str

    def same_words_as(self, text: str) -> bool:
        """Whether the embedding sees the same words as in `text` (punctuation and case aside)."""
        return _WORDS.findall(self.masked.lower()) == _WORDS.findall(text.lower())

    @classmethod
    def of(cls, cleaned: str) -> "Reading":
        text = strip_meta(cleaned)
        spans = set_aside_spans(text)
        masked = " ".join(without(text, spans).split()) if spans else text
        return cls(text, spans, masked)
