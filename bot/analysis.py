"""Hear which considerations a leader voices, and which one to bring in.

Plain Python, no Rasa: the CLI, the evaluation and the conversation's custom actions all call
`Analyser.analyse`, so coaches, HR and leaders see one and the same analysis.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np

from . import classifier, meaning
from .knowledge import CITIZEN_VIEW_IDS, QUADRANT_IDS, BalanceModel, default_model
from .lexicon import Lexicon
from .text import MAX_CHARS, clauses_with_spans, clean, tokens

FLOOR = 0.3
"""A text that voices nothing above its thresholds still gets its strongest quadrant if it reaches this, with
or without a signal word: a dilemma of a dozen words always weighs something, and the coach needs one side to
balance against."""

SHORT_TEXT_WORDS = 8
"""In a message this short ("budget vs trivsel på natholdet") the embedding has little to go on: a full
signal word is enough for its consideration, as long as the classifier reaches FLOOR."""

CONFIDENT = 0.475
MIN_WORDS_WITHOUT_SIGNAL = 4
"""Without a single signal word, the classifier alone must be this sure, and the text this long, to voice a
consideration beside others: embeddings of "tjah" or "hej" say nothing about a dilemma. Near the learned
thresholds (0.40-0.50): a paraphrase ("pengene slår ikke til") is heard without a word for it, but a consideration
with a low threshold needs a little more certainty when no word of the leader's carries it."""

PARTLY_HEARD = 0.6
"""Signal weight at which an unvoiced consideration counts as touched on, not neglected."""

T_CONFIDENT = 0.5
T_WITH_WORDS = 0.4
"""The T lens needs the classifier to be sure, or a word for the chain or the other areas beside it: a
lens question about politicians or other departments that the leader never mentioned would feel off."""

SET_ASIDE_OUTWEIGHS = 0.5
"""Signal weight a consideration needs outside what the leader set aside to count as voiced after all: a
stray weak word ("al tiden") does not undo "det handler ikke om økonomien"."""

VIEW_WITHOUT_CITIZENS = 0.5
"""How sure the classifier must be of a view of the citizen when no citizen, and no word for that view, is in
the text: "vi skal spare, og folk er slidte" is about staff, and a question about users or customers would feel
off."""

LENS_MIN_SCORE = 1.0
"""Lexicon score at which a lens (T, translation, future) counts on words alone."""


@dataclass
class Heard:
    id: str
    navn: str
    score: float
    signaler: List[str]  # the signal words, as written
    citat: str = ""  # the phrase that carries the consideration: what the coach quotes back


@dataclass
class Analysis:
    kvadranter: List[Heard] = field(default_factory=list)
    negligeret: Optional[str] = None
    etikker: List[str] = field(default_factory=list)
    borgersyn: List[str] = field(default_factory=list)
    roller: List[str] = field(default_factory=list)
    t_ledelse: Optional[str] = None
    oversaettelse: bool = False
    fremtid: bool = False
    borgere: bool = False  # citizens are in the dilemma (the knowledge file's words for them)
    tilsidesat: List[str] = field(default_factory=list)  # named only to be set aside ("ikke om penge")
    tegn: int = 0
    afkortet: bool = False

    def to_dict(self) -> Dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict) -> "Analysis":
        """The analysis as it travels in Rasa's parse data (see rasa_addons/balance_analysis.py)."""
        fields = dict(data)
        fields["kvadranter"] = [Heard(**h) for h in data.get("kvadranter") or []]
        return cls(**{k: v for k, v in fields.items() if k in cls.__dataclass_fields__})

    @property
    def voiced(self) -> List[str]:
        return [h.id for h in self.kvadranter]


class Analyser:
    """Holds the loaded knowledge and classifier; build once, analyse many texts."""

    def __init__(self, model: Optional[BalanceModel] = None, trained: Optional[classifier.TrainedModel] = None):
        self.model = model or default_model()
        self.lexicon = Lexicon(self.model)
        self.trained = trained or classifier.load()

    def analyse(self, text: Optional[str]) -> Analysis:
        return self.analyse_many([text])[0]

    def analyse_many(self, texts: List[Optional[str]], embeddings: Optional[np.ndarray] = None) -> List[Analysis]:
        """Analyse texts; `embeddings` (one e5 vector per text) may be passed in when already computed.

        Words about the conversation are dropped first, and what the leader sets aside is heard as set aside:
        the lexicon ignores it and the embedding is made of the message without it.
        """
        results: List[Optional[Analysis]] = [None] * len(texts)
        todo, readings, cleaned_texts = [], {}, {}
        for i, raw in enumerate(texts):
            cleaned = cleaned_texts[i] = clean(raw)
            reading = meaning.Reading.of(cleaned)
            if not any(ch.isalpha() for ch in reading.masked):
                quadrants = self._evidence(reading)["kvadranter"] if reading.text else {}
                results[i] = Analysis(tilsidesat=[q for q, ev in quadrants.items() if ev.skipped],
                                      tegn=len(cleaned), afkortet=len(str(raw or "")) > MAX_CHARS)
            else:
                todo.append(i)
                readings[i] = reading
        if todo:
            evidence = {i: self._evidence(readings[i]) for i in todo}
            lexical = np.vstack([classifier.lexicon_features(evidence[i]) for i in todo])
            masked = [readings[i].masked for i in todo]
            vectors = self._vectors(todo, cleaned_texts, readings, embeddings)
            probs = self.trained.predict(classifier.features(vectors, lexical, masked))
            for row, i in enumerate(todo):
                p = {name: float(values[row]) for name, values in probs.items()}
                results[i] = self._decide(readings[i], evidence[i], p, len(str(texts[i] or "")) > MAX_CHARS)
        return results  # type: ignore[return-value]

    @staticmethod
    def _vectors(todo: List[int], cleaned, readings, embeddings: Optional[np.ndarray]) -> np.ndarray:
        """The e5 vectors: the ones passed in where the analysis reads the same words as were embedded (a
        full stop or a leading "ja," changes nothing), a fresh embedding where it set words aside or dropped
        talk about the conversation."""
        same = [embeddings is not None and readings[i].same_words_as(cleaned[i]) for i in todo]
        fresh = [readings[i].masked for i, keep in zip(todo, same) if not keep]
        embedded = iter(classifier.embed(fresh)) if fresh else iter(())
        return np.vstack([embeddings[i] if keep else next(embedded) for i, keep in zip(todo, same)])

    def _evidence(self, reading: "meaning.Reading"):
        return self.lexicon.evidence(tokens(reading.text), reading.text, skip=reading.spans)

    def _decide(self, reading: "meaning.Reading", evidence, p: Dict[str, float], cut: bool) -> Analysis:
        text = reading.text
        thresholds = self.trained.thresholds
        scores = {q: p[f"kvadrant:{q}"] for q in QUADRANT_IDS}
        lexical = evidence["kvadranter"]
        long_enough = len(reading.masked.split()) >= MIN_WORDS_WITHOUT_SIGNAL
        set_aside = [q for q in QUADRANT_IDS if lexical[q].skipped and lexical[q].score < SET_ASIDE_OUTWEIGHS]

        def grounded(q: str, sure: float = CONFIDENT) -> bool:
            if q in set_aside:
                return False
            return lexical[q].score > 0 or (long_enough and scores[q] >= sure)

        short = len(reading.masked.split()) <= SHORT_TEXT_WORDS

        def threshold(q: str) -> float:
            if short and lexical[q].score >= 1.0:
                return min(thresholds[f"kvadrant:{q}"], FLOOR)
            return thresholds[f"kvadrant:{q}"]

        voiced = [q for q in QUADRANT_IDS if scores[q] >= threshold(q) and grounded(q)]
        top = max(QUADRANT_IDS, key=scores.get)
        if not voiced and scores[top] >= FLOOR and grounded(top, sure=FLOOR):
            voiced = [top]
        voiced.sort(key=lambda q: -scores[q])
        clause_probs = {}
        heard = [
            Heard(q, self.model.kvadranter[q].navn, round(scores[q], 3), lexical[q].phrases,
                  self._quote(reading, lexical[q], q, clause_probs))
            for q in voiced
        ]

        citizens = evidence["borgere"]["borgere"].score > 0
        views = [b for b in CITIZEN_VIEW_IDS if p[f"borgersyn:{b}"] >= thresholds[f"borgersyn:{b}"] and (
            citizens or evidence["borgersyn"][b].score > 0 or p[f"borgersyn:{b}"] >= VIEW_WITHOUT_CITIZENS)]
        views.sort(key=lambda b: -p[f"borgersyn:{b}"])
        roles = []
        for b in views:
            role = self.model.borgersyn[b].rolle
            if role not in roles:
                roles.append(role)
        for role, ev in evidence["roller"].items():
            if ev.score >= LENS_MIN_SCORE and role not in roles:
                roles.append(role)

        ethics = [self.model.kvadranter[q].etik for q in voiced]
        for ethic, ev in evidence["etikker"].items():
            if ev.score >= LENS_MIN_SCORE and ethic not in ethics:
                ethics.append(ethic)

        presence = {q: self.trained.likelihood(f"kvadrant:{q}", scores[q]) for q in QUADRANT_IDS}
        partly = {q for q in QUADRANT_IDS if q not in voiced and lexical[q].score >= PARTLY_HEARD}
        t = self._t(evidence["t_ledelse"], p)
        return Analysis(
            kvadranter=heard,
            negligeret=neglected(self.model, voiced, presence, partly, set_aside) if voiced else None,
            etikker=ethics,
            borgersyn=views,
            roller=roles,
            t_ledelse=t,
            oversaettelse=self._lens("oversaettelse", evidence, p, from_above=t == "soejle"),
            fremtid=self._lens("fremtid", evidence, p),
            borgere=citizens,
            tilsidesat=set_aside,
            tegn=len(text),
            afkortet=cut,
        )

    def _quote(self, reading: "meaning.Reading", ev, quadrant: str, cache: Dict) -> str:
        """The phrase that carries a consideration: around its strongest signal word, else its likeliest clause.

        Clauses are scored once per text (`cache`), however many considerations need them.
        """
        text = reading.text
        if ev.hits:
            best = max(range(len(ev.hits)), key=lambda k: (ev.hits[k].weight, -ev.hits[k].start))
            start, end = ev.chars[best]
            return meaning.key_phrase(text, start, end)
        parts = [c for c in clauses_with_spans(reading.masked) if any(ch.isalpha() for ch in c[2])]
        if not parts:
            return ""
        if len(parts) == 1:
            return meaning.key_phrase(text, parts[0][0], parts[0][0] + 1)
        if "probs" not in cache:
            clause_texts = [c[2] for c in parts]
            lexical = np.vstack([classifier.lexicon_features(self.lexicon.evidence(tokens(c), c)) for c in clause_texts])
            inputs = classifier.features(classifier.embed(clause_texts), lexical, clause_texts)
            cache["probs"] = self.trained.predict(inputs)
        start = parts[int(np.argmax(cache["probs"][f"kvadrant:{quadrant}"]))][0]
        return meaning.key_phrase(text, start, start + 1)

    def _t(self, ev, p: Dict[str, float]) -> Optional[str]:
        learned = max(classifier.T_CLASSES, key=lambda c: p.get(f"t:{c}", 0.0))
        if learned != "ingen":
            sure = p[f"t:{learned}"]
            if sure >= T_CONFIDENT or (ev[learned].score > 0 and sure >= T_WITH_WORDS):
                return learned
        words = max(("soejle", "tvaers"), key=lambda t: ev[t].score)
        return words if ev[words].score >= LENS_MIN_SCORE else None

    def _lens(self, lens: str, evidence, p: Dict[str, float], from_above: bool = False) -> bool:
        """A lens by the classifier, or by its words; half-weight words (passing a message on) count only
        beside a decision from above: telling the staff what the byråd decided is translation."""
        words = evidence["linser"][lens].score
        return p[f"linse:{lens}"] >= self.trained.thresholds[f"linse:{lens}"] or words >= LENS_MIN_SCORE or (
            from_above and words >= LENS_MIN_SCORE / 2)


def neglected(model: BalanceModel, voiced: List[str], presence: Dict[str, float], partly=frozenset(),
              set_aside=()) -> Optional[str]:
    """The unvoiced consideration least likely to be in the leader's mind; of equals, the diagonal opposite of
    the strongest voiced one.

    `presence` is how likely each consideration is in the text. Only the least likely qualifies, even over
    the diagonal: asking about what the leader said in other words would show the coach was not listening.
    So would asking about one touched on in words below the threshold (`partly`), or one the leader set aside
    on purpose ("det handler ikke om penge"); those come in only when nothing else is left.
    """
    if not voiced:
        return None
    opposite = model.diagonal(voiced[0])
    for pool in ([q for q in QUADRANT_IDS if q not in voiced and q not in partly and q not in set_aside],
                 [q for q in QUADRANT_IDS if q not in voiced and q not in set_aside],
                 [q for q in QUADRANT_IDS if q not in voiced], list(voiced)):
        if pool:
            return min(pool, key=lambda q: (presence.get(q, 0.0), q != opposite))
    return None

