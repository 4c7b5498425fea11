"""The leader's own weighting of the considerations, read from what they write.

"60/40 til økonomien", "relationer 50, resultater 30 og fornyelse 20", "halvt om halvt", "økonomien vejer
tungest, men trivslen må ikke glide ud": the balance picture and the summary draw and state this weighting,
not the analysis' confidence. Numbers become weights in per cent; words like "tungest", "mest", "mere X
end Y" become an order; "må ikke glide ud" marks a consideration that must keep a place however small.
A quadrant is recognised by its name, by the balance model's signal words ("økonomien" is Resultater) or
by an axis ("drift" is Stabilitet and Resultater).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .knowledge import QUADRANT_IDS, QUADRANT_NAME_PATTERNS, BalanceModel
from .text import clauses_with_spans

Ref = Tuple[int, int, Tuple[str, ...]]  # character span and the quadrant(s) it names

_AXIS_WORDS = ("drift", "udvikling")
"""The axes a leader weighs by name ("mest drift"); "ind" and "ud" are everyday words, never taken for an axis."""
_NUMBER = re.compile(
    r"(?<![\d,.])(\d{1,3})(?:[.,]\d+)?(?:\s*(?P<unit>%|procent|pct\.?))?(?![\d/])(?!\s*(?:mio|mia|kr|millioner|"
    r"milliard|kroner|timer|dage|uger|måneder|år\b|ansatte|medarbejdere|stillinger|børn|elever|borgere|minutter))",
    re.I)
_UNIT_WORD = re.compile(r"^(?:procent|pct\.?|tid)$", re.I)
_PAIR = re.compile(r"(?<!\d)(\d{1,3})\s*/\s*(\d{1,3})(?!\d)")
_EVEN = re.compile(r"halvt\s+om\s+halvt|fifty[\s-]*fifty|lige\s+(?:meget|tungt|vigtige?)|ligeligt|50\s*/\s*50", re.I)
_TOP = re.compile(
    r"(?:vejer|fylder|tæller|betyder)\s+(?:\w+\s+){0,2}?(?:tungest|tungere|mest|mere|højest|størst)(?!\s+end\b)|(?:er|bliver)\s+(?:\w+\s+){0,2}?"
    r"(?:vigtigst|det\s+vigtigste|tungest|først)|\bførst\b|\bførsteprioritet|\bprioriterer\s+jeg",
    re.I)
_TOP_BEFORE = re.compile(r"\b(?:mest|især|primært|først\s+og\s+fremmest|det\s+vigtigste\s+er|vigtigst\s+er)\s*$", re.I)
_FLOOR = re.compile(
    r"må\s+ikke\s+(?:\w+\s+){0,2}?(?:glide|forsvinde|ryge|falde|glemmes|tabes|gå\s+tabt)|skal\s+(?:stadig|også)\s+"
    r"(?:være\s+med|have\s+plads|med)|ikke\s+(?:glemme|slippe|tabe)|stadig\s+(?:være\s+)?med",
    re.I)
_MORE_THAN = re.compile(
    r"\bmere\s+(?P<a>[\wæøå-]+(?:\s+[\wæøå-]+)?)\s+end\s+(?P<b>[\wæøå-]+(?:\s+[\wæøå-]+)?)|"
    r"(?P<a2>[\wæøå-]+)\s+(?:vejer|betyder|fylder|tæller)\s+(?:\w+\s+)?(?:mere|tungere)\s+end\s+"
    r"(?P<b2>[\wæøå-]+(?:\s+[\wæøå-]+)?)", re.I)


@dataclass
class Weighting:
    """What the leader said about the weights: per-cent numbers, an order, and floors.

    `form` is "tal" when numbers were given, "rang" for an order in words, "ingen" when nothing was said.
    """

    vaegte: Dict[str, int] = field(default_factory=dict)
    orden: List[str] = field(default_factory=list)
    gulv: List[str] = field(default_factory=list)

    @property
    def form(self) -> str:
        return "tal" if self.vaegte else "rang" if (self.orden or self.gulv) else "ingen"

    def to_slot(self) -> Optional[Dict]:
        return None if self.form == "ingen" else {"vaegte": dict(self.vaegte), "orden": list(self.orden),
                                                  "gulv": list(self.gulv)}

    @classmethod
    def from_slot(cls, value) -> "Weighting":
        value = value if isinstance(value, dict) else {}
        weights = {q: int(v) for q, v in (value.get("vaegte") or {}).items() if q in QUADRANT_IDS}
        return cls(weights, [q for q in value.get("orden") or [] if q in QUADRANT_IDS],
                   [q for q in value.get("gulv") or [] if q in QUADRANT_IDS])


def quadrant_refs(text: str, model: BalanceModel) -> List[Ref]:
    """Where the text names a quadrant: by name, by axis, or by one of its signal words."""
    from .text import light_tokens

    refs: List[Ref] = []
    for qid, pattern in QUADRANT_NAME_PATTERNS.items():
        refs += [(m.start(), m.end(), (qid,)) for m in re.finditer(r"\b" + pattern, text, re.I)]
    for aid in _AXIS_WORDS:  # the axis' name and its quadrants from the knowledge file
        quadrants = tuple(qid for qid, quadrant in model.kvadranter.items() if aid in quadrant.akser)
        pattern = re.escape(model.akser[aid].navn.lower()) + r"\w*"
        refs += [(m.start(), m.end(), quadrants) for m in re.finditer(r"\b" + pattern, text, re.I)]
    taken = [(s, e) for s, e, _ in refs]
    evidence = _lexicon(model).evidence(light_tokens(text), text)["kvadranter"]
    for qid, ev in evidence.items():
        for (start, end), hit in zip(ev.chars, ev.hits):
            overlaps = any(s < end and start < e for s, e in taken)
            if hit.weight >= 0.3 and not overlaps and not _UNIT_WORD.match(text[start:end]):
                refs.append((start, end, (qid,)))
    return sorted(refs)


_LEXICONS: Dict[int, object] = {}


def _lexicon(model: BalanceModel):
    from .lexicon import Lexicon

    if id(model) not in _LEXICONS:
        _LEXICONS[id(model)] = Lexicon(model)
    return _LEXICONS[id(model)]


def _nearest(refs: Sequence[Ref], position: int, lo: int, hi: int) -> Optional[Tuple[str, ...]]:
    candidates = [r for r in refs if lo <= r[0] < hi]
    if not candidates:
        return None
    return min(candidates, key=lambda r: min(abs(r[0] - position), abs(r[1] - position)))[2]


def parse(text: Optional[str], voiced: Sequence[str], model: BalanceModel) -> Weighting:
    """The weighting in a leader's answer; `voiced` (strongest first) fills in "the rest" and "halvt om halvt"."""
    text = " ".join((text or "").split())
    refs = quadrant_refs(text, model)
    result = Weighting()

    pair = _PAIR.search(text)
    if pair and int(pair.group(1)) + int(pair.group(2)) == 100:
        a, b = int(pair.group(1)), int(pair.group(2))
        named = _ordered_unique([q for r in refs for q in r[2] if len(r[2]) == 1])
        after = _nearest(refs, pair.end(), pair.end(), len(text))
        first = (after or (named[:1] and tuple(named[:1])) or tuple(voiced[:1]))
        first = tuple(q for q in first if q in voiced) or first
        others = [q for q in named if q not in first] or _rest(first, voiced, model)
        if first and others:
            _assign(result, first, a)
            _assign(result, (others[0],), b)
    elif _EVEN.search(text):
        named = _ordered_unique([q for r in refs for q in r[2]]) or list(voiced)
        if len(named) >= 2:
            for q in named[:2]:
                result.vaegte[q] = 50
    else:
        for quadrants, value in _numbered(text, refs):
            _assign(result, [q for q in quadrants if q in voiced] or quadrants, value)
    if sum(result.vaegte.values()) > 100:
        result.vaegte = {}

    more = _MORE_THAN.search(text)
    if more:
        ga, gb = ("a", "b") if more.group("a") else ("a2", "b2")
        a = _nearest(refs, more.start(ga), more.start(ga), more.end(ga))
        b = _nearest(refs, more.start(gb), more.start(gb), more.end(gb))
        if a and b:
            result.orden = _ordered_unique(list(a) + list(b))
    for lo, hi, _ in clauses_with_spans(text, fine=False):
        clause = text[lo:hi]
        for found in _TOP.finditer(clause):
            quadrants = _nearest(refs, lo + found.start(), lo, lo + found.start()) or \
                _nearest(refs, lo + found.end(), lo + found.end(), hi)
            if quadrants and not result.orden:
                result.orden = list(quadrants)
        for ref in refs:
            if lo <= ref[0] < hi and _TOP_BEFORE.search(text[lo:ref[0]]) and not result.orden:
                result.orden = list(ref[2])
        floor = _FLOOR.search(clause)
        if floor:
            quadrants = _nearest(refs, lo + floor.start(), lo, hi)
            for q in quadrants or ():
                if q not in result.gulv:
                    result.gulv.append(q)
    if result.vaegte:
        result.orden = sorted(result.vaegte, key=lambda q: -result.vaegte[q])
    result.gulv = [q for q in result.gulv if q not in result.orden[:1]]
    return result


def _numbered(text: str, refs: Sequence[Ref]) -> List[Tuple[Tuple[str, ...], int]]:
    """Pair each weight with its quadrant, in the order the leader lists them ("relationer 50, resultater 30"
    or "70 procent drift, 30 procent udvikling"). Numbers count as weights only as a list of two or more, or
    with a per-cent sign: "1,5 mio." or "3 uger" are not weights."""
    numbers = [n for n in _NUMBER.finditer(text) if 0 < int(n.group(1)) <= 100]
    if not numbers or (len(numbers) < 2 and not numbers[0].group("unit")):
        return []
    if not refs:
        return []
    number_first = numbers[0].start() < refs[0][0]
    pairs = []
    for i, number in enumerate(numbers):
        if number_first:
            stop = numbers[i + 1].start() if i + 1 < len(numbers) else len(text)
            found = [r for r in refs if number.end() <= r[0] < stop]
        else:
            begin = numbers[i - 1].end() if i else 0
            found = [r for r in refs if begin <= r[0] < number.start()]
            found = found[-1:]
        if found:
            pairs.append((found[0][2], int(number.group(1))))
    return pairs


def _rest(first: Sequence[str], voiced: Sequence[str], model: BalanceModel) -> List[str]:
    """Who gets "the rest" of "60/40 til økonomien": the sharpest tension (the diagonal opposite) when the
    leader voiced it, else the strongest other consideration they voiced."""
    others = [q for q in voiced if q not in first]
    if len(first) == 1 and model.diagonal(first[0]) in others:
        return [model.diagonal(first[0])]
    return others


def _assign(result: Weighting, quadrants: Sequence[str], value: int) -> None:
    share = value // len(quadrants)
    for q in quadrants:
        result.vaegte[q] = result.vaegte.get(q, 0) + share


def _ordered_unique(items: Sequence[str]) -> List[str]:
    out: List[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def correct(current: Weighting, text: str, model: BalanceModel) -> Optional[Weighting]:
    """Apply "det er mere relationer end resultater" (or a fresh weighting) to the current weighting.

    Returns None when the text says nothing the weighting can take.
    """
    stated = parse(text, current.orden, model)
    if stated.vaegte:
        return stated
    if not stated.orden and not stated.gulv:
        return None
    weights = dict(current.vaegte)
    order = list(current.orden)
    if len(stated.orden) >= 2 and all(q in weights for q in stated.orden[:2]):
        a, b = stated.orden[0], stated.orden[1]
        if weights[a] <= weights[b]:
            weights[a], weights[b] = weights[b], weights[a]
    elif stated.orden:
        weights = {}  # a consideration moved up in words: the numbers no longer hold, the order does
    for q in reversed(stated.orden):
        if q in order:
            order.remove(q)
        order.insert(0, q)
    if len(stated.orden) >= 2:
        order = [q for q in order if q not in stated.orden[1:]]
        order[1:1] = stated.orden[1:]
    floors = [q for q in current.gulv + stated.gulv if q not in order[:1]]
    result = Weighting(weights, sorted(weights, key=lambda q: -weights[q]) if weights else order,
                       _ordered_unique(floors))
    return result
