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


_CLAUSE = re.compile(r"(?<=[.!?;:])\s+|,\s+(?=(?:men|og|så|samtidig|fordi|selvom|mens|hvor|der|som)\b)|\s+(?=men\b)", re.I)


def clauses(text: str) -> List[str]:
    """Split a message into the clauses a coach would quote back."""
    parts = [p.strip(" ,.;:") for p in _CLAUSE.split(text)]
    return [p for p in parts if len(p) > 2]
