"""Danish text handling without downloads: spaCy's blank Danish tokenizer plus the lookup lemmatizer.

Leaders write as they speak, so input is cleaned (control characters, runs of whitespace) and capped before
any analysis; the cap is documented in the README and returned with the analysis.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import List, Optional

MAX_CHARS = 5000
"""Longest text analysed. Longer messages are cut at a word boundary before this many characters."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACE = re.compile(r"\s+")

_nlp = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Token:
    text: str
    lower: str
    lemma: str
    start: int
    end: int


def clean(text: Optional[str], limit: int = MAX_CHARS) -> str:
    """Normalise a leader's message: NFC, no control characters, single spaces, at most `limit` chars."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    text = _CONTROL.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit]
    return text


def nlp():
    """The Danish pipeline, built on first use (never at import time)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import spacy

                pipeline = spacy.blank("da")
                pipeline.add_pipe("lemmatizer", config={"mode": "lookup"})
                pipeline.initialize()
                _nlp = pipeline
    return _nlp


def tokens(text: str) -> List[Token]:
    """Word tokens with lower-case form and lemma; punctuation and spaces are dropped."""
    pipeline = nlp()
    table = pipeline.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    doc = pipeline(text)
    out = []
    for tok in doc:
        if tok.is_space or tok.is_punct:
            continue
        lower = tok.lower_
        # The lookup table is case-sensitive: "Trivslen" first in a sentence must still become "trivsel".
        lemma = (tok.lemma_ or lower).lower()
        if lemma == lower:
            lemma = str(table.get(lower, lower)).lower()
        out.append(Token(tok.text, lower, lemma, tok.idx, tok.idx + len(tok.text)))
    return out


_WORD = re.compile(r"\w+(?:[-']\w+)*")
_lemmas: Optional[dict] = None


def lemma_table() -> dict:
    """spaCy's Danish lookup lemmas, read straight from spacy-lookups-data (built on first use)."""
    global _lemmas
    if _lemmas is None:
        with _lock:
            if _lemmas is None:
                import gzip
                import json

                import spacy_lookups_data

                with gzip.open(str(spacy_lookups_data.get_file("da_lemma_lookup.json.gz"))) as table:
                    _lemmas = json.load(table)
    return _lemmas


def light_tokens(text: str) -> List[Token]:
    """Word tokens with the same lookup lemmas as `tokens`, without spaCy: importing spaCy brings TensorFlow
    into a process (600 MB), which the action server needs for nothing else."""
    table = lemma_table()
    return [Token(m.group(0), m.group(0).lower(), str(table.get(m.group(0).lower(), m.group(0).lower())).lower(),
                  m.start(), m.end()) for m in _WORD.finditer(text)]


_CLAUSE = re.compile(
    r"(?<=[.!?;:])\s+|,\s+(?=(?:men|og|så|samtidig|fordi|selvom|mens|hvor|der|som|eller)\b)|\s+(?=men\b)|\s+[-–—]\s+",
    re.I)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\s+(?=men\b)", re.I)
_NO_BREAK = re.compile(
    r"\b(?:mio|mia|kr|ca|fx|f\.eks|bl\.a|dvs|mv|osv|nr|kl|evt|inkl|ekskl|jf|pt|tlf|st|pga|iflg|ift|mht|vedr)\.|"
    r"\b\d{1,2}\.(?=\s+(?:[a-zæøå]|\d))",
    re.I)


def clauses_with_spans(text: str, fine: bool = True) -> List[tuple]:
    """(start, end, clause) for each clause a coach would quote back; "2 mio. på" and "1. juni" stay whole.

    `fine=False` splits only at sentence ends and "men": an answer's relative clauses belong to its idea.
    """
    protected = _NO_BREAK.sub(lambda m: m.group(0)[:-1] + "\x00", text)
    out, start = [], 0
    for found in list((_CLAUSE if fine else _SENTENCE).finditer(protected)) + [None]:
        end = found.start() if found else len(text)
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip(" ,.;:"))
        clause = piece.strip(" ,.;:")
        if len(clause) > 2:
            out.append((start + lead, start + lead + len(clause), clause))
        if found:
            start = found.end()
    return out


def clauses(text: str) -> List[str]:
    """Split a message into the clauses a coach would quote back."""
    return [clause for _, _, clause in clauses_with_spans(text)]
