"""The closing questions after the summary: may a coach read this conversation, may its messages (without
names) help the coach understand Danish better, how was it, what helped.

Each question is asked once, with buttons; what a leader types instead is read here, in the context of the
question just asked. "ja" after "må en coach læse samtalen?" means yes (without the name, the cautious
reading); "nej tak" means no; "4" after the rating question is a 4. Anything this cannot read as an answer is
not one: it goes to the coach as an ordinary message (a new thought, a correction, a goodbye), and the
question counts as unanswered — which for sharing means no.
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

QUESTIONS = ("deling", "kontakt", "laering", "vurdering", "hjalp")
"""What the coach may be waiting for, in order; `kontakt` only after a leader chose to be named. `laering` is
asked apart from sharing: a leader may let HR use single messages to improve the coach without letting a
coach read the conversation, and the other way round."""

SKIPPED = "sprunget_over"

_NO = re.compile(r"^\s*(?:nej|nope|næ+h?|nah|ikke\s+(?:nu|denne\s+gang)|helst\s+ikke|det\s+vil\s+jeg\s+(?:helst\s+)?ikke|"
                 r"ingen\s+deling|lad\s+(?:være|vær)|del\s+den\s+ikke|den\s+skal\s+ikke\s+deles)\b", re.I)
_NAMED = re.compile(r"\b(?:med\s+(?:mit|dit|mine?)\s+navn|navngiv\w*|mit\s+navn\s+må|du\s+må\s+(?:gerne\s+)?"
                    r"(?:bruge|skrive|give)\s+mit\s+navn|opfølg\w*|følge\s+op|kontakte?\s+mig|ring\w*\s+til\s+mig|"
                    r"tage?\s+en\s+snak|en\s+samtale\s+med)", re.I)
_ANONYMOUS = re.compile(r"\b(?:uden\s+(?:mit\s+)?navn|anonym\w*|ikke\s+(?:med\s+)?mit\s+navn)", re.I)
_YES = re.compile(r"^\s*(?:ja+|jo|jep|jah|yes|ok(?:ay)?|gerne|fint|selvfølgelig|klart|fint\s+med\s+mig|det\s+må\s+(?:hun|han|de|"
                  r"en\s+coach|coachen)?\s*(?:gerne|godt)|(?:en\s+coach|coachen|i|hr)\s+må\s+(?:gerne|godt)|"
                  r"del\s+(?:den|samtalen)|det\s+er\s+(?:fint|ok))\b", re.I)
_SKIP = re.compile(r"^\s*(?:spring\s+over|spring\s+det\s+over|skip|videre|nej\s+tak|ingen\s+kommentar|"
                   r"det\s+vil\s+jeg\s+ikke|ved\s+ikke|pass|næste)\s*[.!]?\s*$", re.I)
_NUMBER_WORDS = {"en": 1, "et": 1, "én": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5}
_RATING = re.compile(r"(?<![\d,.])([1-5])(?:\s*(?:/|ud\s+af|af)\s*5)?(?![\d,.]?\d)")
_RATING_WORD = re.compile(r"\b(en|et|én|to|tre|fire|fem)(?:'?er)?\b(?=\s*(?:$|[.!]|/|ud\s+af|stjern|point))", re.I)

_GOODBYE = re.compile(r"^\s*(?:tak|mange\s+tak|tusind\s+tak|farvel|hej\s+hej|hejhej|vi\s+ses|god\s+dag|"
                      r"det\s+var\s+det|ha(?:v)?\s+en\s+god\s+dag)(?:\s+(?:for\s+nu|for\s+i\s+dag|for\s+hjælpen|"
                      r"for\s+samtalen|skal\s+du\s+have))*\s*[.!]*\s*$", re.I)

MAX_HELPED_CHARS = 500


def sharing(text: str) -> Optional[str]:
    """"nej", "anonym" or "navngivet" for an answer to the sharing question, None if the text is no answer."""
    text = (text or "").strip()
    if not text or len(text) > 200:
        return None
    about_sharing = re.search(r"\b(?:del\w*|læse?|coach\w*|samtykke|hr)\b", text, re.I)
    short = len(text.split()) <= 5
    if _NO.match(text) and (short or about_sharing) and not _NAMED.search(text) \
            and not re.match(r"^\s*nej\s*,?\s*(?:gerne|da)\b", text, re.I):
        return "nej"
    if _ANONYMOUS.search(text):
        return "anonym"
    if _NAMED.search(text) and (_YES.match(text) or len(text.split()) <= 12):
        return "navngivet"
    if _YES.match(text) and (short or about_sharing):
        return "anonym"
    return None


def learning(text: str) -> Optional[str]:
    """"ja" or "nej" for an answer to the question whether the messages may improve the coach; None if the
    text is no answer. Anything unclear is no answer, and an unanswered question is no."""
    text = (text or "").strip()
    if not text or len(text) > 200:
        return None
    short = len(text.split()) <= 5
    about = re.search(r"\b(?:bruge?s?|beskeder|forbedre|lære|hr|coachen)\b", text, re.I)
    if (_NO.match(text) or _SKIP.match(text)) and (short or about) \
            and not re.match(r"^\s*nej\s*,?\s*(?:gerne|da)\b", text, re.I):
        return "nej"
    if _YES.match(text) and (short or about):
        return "ja"
    return None


def rating(text: str) -> Optional[str]:
    """"1"…"5", or SKIPPED, for an answer to the rating question; None if the text is no answer."""
    text = (text or "").strip()
    if not text or len(text) > 80:
        return None
    if _SKIP.match(text):
        return SKIPPED
    found = _RATING.search(text)
    if found and len(text.split()) <= 8:
        return found.group(1)
    word = _RATING_WORD.search(text)
    if word and len(text.split()) <= 6:
        return str(_NUMBER_WORDS[word.group(1).lower()])
    return None


def helped(text: str) -> Optional[str]:
    """The leader's line on what helped (trimmed), SKIPPED, or None for no text."""
    text = " ".join((text or "").split())
    if not text or _GOODBYE.match(text):
        return None  # a goodbye is no answer: the coach says goodbye
    if _SKIP.match(text):
        return SKIPPED
    return text[:MAX_HELPED_CHARS]


def contact(text: str) -> Optional[str]:
    """How a coach may reach a leader who chose to be named: what they wrote, or SKIPPED."""
    return helped(text)


_QUESTION = re.compile(r"\?\s*$|^\s*(?:hvad|hvem|hvordan|hvorfor|hvor|hvilke[nt]?|kan|må|får|ser|er\s+det|betyder)\b", re.I)
_ABOUT_SHARING = re.compile(r"\b(?:coach\w*|læs\w*|del(?:e|er|es|t|ing\w*)?|samtykke\w*|navn\w*|hr|anonym\w*|"
                            r"ser|se\s+den|kontakt\w*|opfølg\w*|brug\w*|beskeder|forbedr\w*)\b", re.I)


def asks_about_sharing(question: Optional[str], text: str) -> bool:
    """"Hvad betyder det, at en coach læser den?" while the sharing question is open: a question about
    sharing, which the privacy answer explains — not a question about the balance model."""
    return question in ("deling", "kontakt", "laering") and bool(_QUESTION.search(text or "")) \
        and bool(_ABOUT_SHARING.search(text or ""))


def answer(question: Optional[str], text: str) -> Optional[Tuple[str, str]]:
    """(question, value) when `text` answers the closing question the coach just asked, else None."""
    if question == "deling":
        value = sharing(text)
    elif question == "laering":
        value = learning(text)
    elif question == "vurdering":
        value = rating(text)
    elif question == "hjalp":
        value = helped(text)
    elif question == "kontakt":
        value = contact(text)
    else:
        return None
    return (question, value) if value else None


def next_question(question: str, value: str) -> Optional[str]:
    """The question after this answer: the contact only for a named share, then the use of the messages,
    then rating, then what helped."""
    if question == "deling":
        return "kontakt" if value == "navngivet" else "laering"
    if question == "kontakt":
        return "laering"
    if question == "laering":
        return "vurdering"
    if question == "vurdering":
        return "hjalp"
    return None
