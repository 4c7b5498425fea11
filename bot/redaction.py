"""Names and numbers out of what a leader writes, before anything is stored: `[navn]`, `[cpr]`, `[telefon]`,
`[email]`, `[adresse]` in their place, ordinary Danish left alone.

Numbers have shapes (CPR with a real date, Danish phone numbers, e-mail, a street name ending in -gade, -vej
… with a house number). Names come from models/navne.json (built from PyPI's names-dataset by
ops/build_names.py: Danish names in depth and the commonest names of the countries Denmark's immigrants
come from), read with the one thing Danish spelling gives away: inside a sentence only proper nouns are
capitalised. So a listed name inside a sentence is a name ("og Bo er gået ned"), unless it is a place after a
preposition ("i Sunds") or part of a body ("Herning Kommune"). At the start of a sentence a listed name that is
also a Danish word counts only with more evidence: a pronoun or other function word ("Hans datter", "De
siger", "Hvad mener I") only when a name follows ("Hans Ove Mikkelsen"); one of the commonest Danish first
names ("Kim har sendt", "Per og Lone") also when a verb or "og" and a name follows; any other Danish word
("Familien vil", "Ring til mig") only when a name follows. A capitalised word right after a name is part of it
("Mohammed Al-Hassan").
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, List, Optional, Tuple

NAMES_FILE = Path(__file__).resolve().parent.parent / "models" / "navne.json"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CPR = re.compile(r"(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])(\d{2})[- ]?(\d{4})(?!\d)")
_PHONE = re.compile(r"(?<![\d+])(?:\+45[ -]?|0045[ -]?)?(?:\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2})(?![\d])")
_STREET = (r"(?:gade|vej|vejen|allé|alle|stræde|strædet|plads|pladsen|torv|torvet|vænget|væng|parken|park|"
           r"bakken|toften|have|haven|løkken|højen|holm|engen|stien|boulevard|kaj|kajen|gyde|hegn|lund|krog|"
           r"ager|agre|mark|marken|bro|broen|sti|dal|dalen)")
_ADDRESS = re.compile(r"\b[A-ZÆØÅ][a-zæøåé]+(?:[ -][A-ZÆØÅ]?[a-zæøåé]+)?" + _STREET + r"\s+\d{1,4}(?:\s?[A-Za-z](?![A-Za-zæøå]))?"
                      r"(?:,\s*\d{1,2}\.\s*(?:th|tv|mf|sal)\.?)?")
_WORD = re.compile(r"[A-Za-zÆØÅæøåÉéÜüÖöÄäÇçĞğŞşİı]+(?:-[A-Za-zÆØÅæøåÉéÜüÖöÄäÇçĞğŞşİı]+)*")
_SENTENCE_ENDS = ".!?:;"
_PLACE_BEFORE = frozenset("i på fra til ved mod over under nær omkring udenfor syd nord øst vest".split())
_BODY_AFTER = frozenset("Kommune Kommunes Region Regions Kommunalbestyrelse Byråd Byråds Hospital Sygehus "
                        "Station Universitet".split())
_VERBS_AFTER_NAME = frozenset(
    "har er siger sagde vil skal kan mener synes fortæller fortalte ringer ringede kommer kom bliver blev fik "
    "var gik går tror spurgte spørger skriver skrev føler arbejder og sendte sender truer".split())
_TITLES = frozenset("fru hr hr. frk frk. Fru Hr Hr. Frk Frk.".split())


class NamesMissing(FileNotFoundError):
    pass


@lru_cache(maxsize=1)
def _names() -> Tuple[FrozenSet[str], ...]:
    """First names, surnames, the commonest Danish first names, the names that are also Danish words, and the
    names that are also Danish function words ("Hans", "De") — all decided when the file is built."""
    if not NAMES_FILE.exists():
        raise NamesMissing(f"{NAMES_FILE} findes ikke; kør 'make train' (ops/build_names.py)")
    data = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    return tuple(frozenset(data[key]) for key in ("fornavne", "efternavne", "almindelige_danske", "ogsaa_ord",
                                                  "ogsaa_smaaord"))


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper() or (len(word) > 1 and word[:1].isupper() and "-" in word)


def _names_in(text: str) -> List[Tuple[int, int]]:
    first, last, common, also_words, also_function_words = _names()
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    found = [False] * len(words)
    for i, (start, end, word) in enumerate(words):
        if not _is_capitalised(word):
            continue
        before = text[:start].rstrip()
        initial = not before or before[-1] in _SENTENCE_ENDS
        previous = words[i - 1][2] if i else ""
        following = words[i + 1][2] if i + 1 < len(words) else ""
        between = text[end:words[i + 1][0]] if i + 1 < len(words) else ""
        listed = word in first or word in last
        if previous in _TITLES or previous.rstrip(".") in _TITLES:
            found[i] = True
        elif i and found[i - 1] and text[words[i - 1][1]:start].strip() == "":
            found[i] = True  # the rest of a name: "Mohammed Al-Hassan"
        elif not listed:
            continue
        elif following in _BODY_AFTER and not between.strip():
            continue  # "Herning Kommune"
        elif previous.lower() in _PLACE_BEFORE and word not in first:
            continue  # "i Sunds", "i Herning"
        elif initial and word in also_words:
            then = words[i + 2][2] if i + 2 < len(words) else ""
            name_follows = not between.strip() and (following in first or following in last)
            and_name = following == "og" and _is_capitalised(then) and (then in first or then in last)
            if word in also_function_words:
                found[i] = name_follows
            elif word in common:
                found[i] = name_follows or and_name or following in _VERBS_AFTER_NAME
            else:
                found[i] = name_follows
        else:
            found[i] = True
    return [(start, end) for (start, end, _), hit in zip(words, found) if hit]


def redact(text: Optional[str]) -> str:
    """`text` with names, CPR and phone numbers, e-mail and street addresses replaced by placeholders."""
    if not text:
        return text or ""
    text = _EMAIL.sub("[email]", text)
    text = _CPR.sub(lambda m: "[cpr]" if _real_date(m) else m.group(0), text)
    text = _ADDRESS.sub("[adresse]", text)
    text = _PHONE.sub("[telefon]", text)
    spans = _names_in(text)
    for start, end in reversed(spans):
        text = text[:start] + "[navn]" + text[end:]
    return re.sub(r"\[navn\](?:\s+\[navn\])+", "[navn]", text)


def _real_date(match: "re.Match") -> bool:
    import datetime

    day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    for century in (1900, 2000):
        try:
            datetime.date(century + year, month, day)
            return True
        except ValueError:
            continue
    return False
