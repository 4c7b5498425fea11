"""Lemma-aware matching of the knowledge file's signal words.

Danish builds compounds ("vikarbudgettet", "sygefraværssamtaler"), so a signal can match the start, end or
inside of a word as well as the whole word or its lemma. Each stretch of text counts once per target, with
the strongest signal that covers it, so overlapping patterns do not inflate a score.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Sequence, Tuple

from .knowledge import BalanceModel, Signal
from .meaning import inside
from .text import Token


def _word_matches(pattern: str, token: Token) -> bool:
    if pattern == "*":
        return True
    starts, ends = pattern.startswith("*"), pattern.endswith("*")
    core = pattern.strip("*")
    for form in (token.lower, token.lemma):
        if starts and ends:
            if core in form:
                return True
        elif ends:
            if form.startswith(core):
                return True
        elif starts:
            if form.endswith(core) and form != core:
                return True
        elif form == core:
            return True
    return False


@dataclass
class Hit:
    start: int  # token index
    end: int  # token index, exclusive
    weight: float
    text: str


@dataclass
class Evidence:
    """What the lexicon heard for one target: a score and the words that triggered it.

    `chars` gives each hit's character span in the text; `skipped` holds hits inside spans the caller
    asked to skip (what the leader set aside), which count for nothing.
    """

    score: float = 0.0
    hits: List[Hit] = field(default_factory=list)
    chars: List[Tuple[int, int]] = field(default_factory=list)
    skipped: List[Hit] = field(default_factory=list)

    @property
    def phrases(self) -> List[str]:
        seen, out = set(), []
        for hit in sorted(self.hits, key=lambda h: h.start):
            key = hit.text.lower()
            if key not in seen:
                seen.add(key)
                out.append(hit.text)
        return out


def _find(signal: Signal, toks: Sequence[Token], text: str, start: int = 0, stop: int = -1) -> Iterable[Hit]:
    words = signal.words
    n = len(words)
    last = len(toks) - n + 1 if stop < 0 else min(stop, len(toks) - n + 1)
    for i in range(start, last):
        if all(_word_matches(w, toks[i + k]) for k, w in enumerate(words)):
            yield Hit(i, i + n, signal.vaegt, text[toks[i].start : toks[i + n - 1].end])


def _dedupe(candidates: List[Hit]) -> Evidence:
    """Each stretch of text counts once per target, with the strongest signal that covers it."""
    candidates.sort(key=lambda h: (-h.weight, h.start))
    taken: List[Hit] = []
    used = set()
    for hit in candidates:
        span = set(range(hit.start, hit.end))
        if span & used:
            continue
        used |= span
        taken.append(hit)
    return Evidence(score=sum(h.weight for h in taken), hits=taken)


def match(signals: Sequence[Signal], toks: Sequence[Token], text: str) -> Evidence:
    """Score one target's signals against a tokenised text; overlapping hits count once (strongest wins)."""
    return _dedupe([hit for signal in signals for hit in _find(signal, toks, text)])


class _FirstWordIndex:
    """Finds the signals whose first word can match a token without trying every signal on every token.

    The knowledge file has hundreds of signals; looking a token's forms (and their prefixes and suffixes) up
    in dictionaries keeps the analysis fast enough to run on every message.
    """

    def __init__(self, entries: Sequence[Tuple[str, str, Signal]]):
        self.exact: Dict[str, list] = {}
        self.prefix: Dict[str, list] = {}
        self.suffix: Dict[str, list] = {}
        self.scan: list = []
        for entry in entries:
            first = entry[2].words[0]
            core = first.strip("*")
            if first == "*" or (first.startswith("*") and first.endswith("*")):
                self.scan.append((core, entry))
            elif first.endswith("*"):
                self.prefix.setdefault(core, []).append(entry)
            elif first.startswith("*"):
                self.suffix.setdefault(core, []).append(entry)
            else:
                self.exact.setdefault(core, []).append(entry)

    def candidates(self, token: Token) -> List[Tuple[str, str, Signal]]:
        found = []
        for form in {token.lower, token.lemma}:
            found += self.exact.get(form, [])
            for i in range(1, len(form) + 1):
                found += self.prefix.get(form[:i], [])
            for i in range(1, len(form)):
                found += self.suffix.get(form[i:], [])
        found += [entry for core, entry in self.scan if not core or core in token.lower or core in token.lemma]
        unique = {id(entry[2]): entry for entry in found}
        return list(unique.values())


class Lexicon:
    """All signal tables of a balance model, ready to score a tokenised text."""

    def __init__(self, model: BalanceModel):
        self.model = model
        entries = {
            "kvadranter": dict(model.kvadranter), "etikker": dict(model.etikker), "roller": dict(model.roller),
            "borgersyn": dict(model.borgersyn), "t_ledelse": dict(model.t_ledelse),
            "linser": {"oversaettelse": model.oversaettelse, "fremtid": model.fremtid},
            "borgere": {"borgere": model.borgere},
        }
        self.tables: Dict[str, Dict[str, Sequence[Signal]]] = {
            table: {key: entry.signaler for key, entry in items.items()} for table, items in entries.items()
        }
        self.exceptions: Dict[Tuple[str, str], Sequence[Signal]] = {
            (table, key): entry.ikke_signaler for table, items in entries.items()
            for key, entry in items.items() if entry.ikke_signaler
        }

        self.index = _FirstWordIndex(
            [(table, key, signal) for table, entries in self.tables.items()
             for key, signals in entries.items() for signal in signals]
        )

    def evidence(self, toks: Sequence[Token], text: str, skip: Sequence[Tuple[int, int]] = ()
                 ) -> Dict[str, Dict[str, Evidence]]:
        """Evidence per table and key; hits lying inside a `skip` span (character offsets) do not count."""
        hits: Dict[Tuple[str, str], List[Hit]] = {}
        for i, token in enumerate(toks):
            for table, key, signal in self.index.candidates(token):
                hits.setdefault((table, key), []).extend(_find(signal, toks, text, i, i + 1))
        out: Dict[str, Dict[str, Evidence]] = {}
        for table, entries in self.tables.items():
            out[table] = {}
            for key in entries:
                found = hits.get((table, key), [])
                if (table, key) in self.exceptions and found:
                    idioms = match(self.exceptions[(table, key)], toks, text).hits
                    found = [h for h in found if not any(i.start <= h.start and h.end <= i.end for i in idioms)]
                ev = _dedupe(found)
                span = lambda h: (toks[h.start].start, toks[h.end - 1].end)  # noqa: E731
                skipped = [h for h in ev.hits if inside(span(h), skip)]
                if skipped:
                    kept = [h for h in ev.hits if h not in skipped]
                    ev = Evidence(score=sum(h.weight for h in kept), hits=kept, skipped=skipped)
                ev.chars = [span(h) for h in ev.hits]
                out[table][key] = ev
        return out

    @staticmethod
    def feature_order() -> List[Tuple[str, str]]:
        from .knowledge import CITIZEN_VIEW_IDS, QUADRANT_IDS, T_IDS

        return (
            [("kvadranter", q) for q in QUADRANT_IDS]
            + [("borgersyn", b) for b in CITIZEN_VIEW_IDS]
            + [("t_ledelse", t) for t in T_IDS]
            + [("linser", "oversaettelse"), ("linser", "fremtid")]
        )
