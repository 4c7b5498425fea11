"""Hear which considerations a leader voices, and which one to bring in.

Plain Python, no Rasa: the CLI, the evaluation and the conversation's custom actions all call
`Analyser.analyse`, so coaches, HR and leaders see one and the same analysis.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np

from . import classifier
from .knowledge import CITIZEN_VIEW_IDS, QUADRANT_IDS, BalanceModel, default_model
from .lexicon import Lexicon
from .text import MAX_CHARS, clauses, clean, tokens

FLOOR = 0.3
"""A text that voices nothing above its thresholds still gets its strongest quadrant if it reaches this."""

CONFIDENT = 0.5
MIN_WORDS_WITHOUT_SIGNAL = 4
"""Without a single signal word, the classifier alone must be this sure, and the text this long, to voice a
consideration: embeddings of "tjah" or "hej" say nothing about a dilemma."""

PARTLY_HEARD = 0.6
"""Share of its threshold at which an unvoiced consideration counts as touched on, not neglected."""

T_CONFIDENT = 0.75
T_WITH_WORDS = 0.4
"""The T lens needs the classifier to be sure, or a word for the chain or the other areas beside it: a
lens question about politicians or other departments that the leader never mentioned would feel off."""

LENS_MIN_SCORE = 1.0
"""Lexicon score at which a lens (T, translation, future) counts on words alone."""


@dataclass
class Heard:
    id: str
    navn: str
    score: float
    signaler: List[str]


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
        """Analyse texts; `embeddings` (one e5 vector per text) may be passed in when already computed."""
        cleaned = [clean(t) for t in texts]
        results: List[Optional[Analysis]] = [None] * len(texts)
        todo = []
        for i, (raw, text) in enumerate(zip(texts, cleaned)):
            if not any(ch.isalpha() for ch in text):
                results[i] = Analysis(tegn=len(text), afkortet=len(str(raw or "")) > MAX_CHARS)
            else:
                todo.append(i)
        if todo:
            evidence = [self.lexicon.evidence(tokens(cleaned[i]), cleaned[i]) for i in todo]
            lexical = np.vstack([classifier.lexicon_features(e) for e in evidence])
            vectors = embeddings[todo] if embeddings is not None else classifier.embed([cleaned[i] for i in todo])
            feats = classifier.features(vectors, lexical)
            probs = self.trained.predict(feats)
            for row, i in enumerate(todo):
                p = {name: float(values[row]) for name, values in probs.items()}
                results[i] = self._decide(cleaned[i], evidence[row], p, len(str(texts[i] or "")) > MAX_CHARS)
        return results  # type: ignore[return-value]

    def _decide(self, text: str, evidence, p: Dict[str, float], cut: bool) -> Analysis:
        thresholds = self.trained.thresholds
        scores = {q: p[f"kvadrant:{q}"] for q in QUADRANT_IDS}
        lexical = evidence["kvadranter"]
        long_enough = len(text.split()) >= MIN_WORDS_WITHOUT_SIGNAL

        def grounded(q: str) -> bool:
            return lexical[q].score > 0 or (long_enough and scores[q] >= CONFIDENT)

        voiced = [q for q in QUADRANT_IDS if scores[q] >= thresholds[f"kvadrant:{q}"] and grounded(q)]
        top = max(QUADRANT_IDS, key=scores.get)
        if not voiced and scores[top] >= FLOOR and grounded(top):
            voiced = [top]
        voiced.sort(key=lambda q: -scores[q])
        clause_probs = {}
        heard = [
            Heard(q, self.model.kvadranter[q].navn, round(scores[q], 3),
                  self._why(text, evidence["kvadranter"][q], q, clause_probs))
            for q in voiced
        ]

        views = [b for b in CITIZEN_VIEW_IDS if p[f"borgersyn:{b}"] >= thresholds[f"borgersyn:{b}"]]
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

        presence = {
            q: max(scores[q] / thresholds[f"kvadrant:{q}"], evidence["kvadranter"][q].score) for q in QUADRANT_IDS
        }
        partly = {q for q in QUADRANT_IDS if q not in voiced and presence[q] >= PARTLY_HEARD}
        return Analysis(
            kvadranter=heard,
            negligeret=neglected(self.model, voiced, presence, partly) if voiced else None,
            etikker=ethics,
            borgersyn=views,
            roller=roles,
            t_ledelse=self._t(evidence["t_ledelse"], p),
            oversaettelse=self._lens("oversaettelse", evidence, p),
            fremtid=self._lens("fremtid", evidence, p),
            tegn=len(text),
            afkortet=cut,
        )

    def _why(self, text: str, ev, quadrant: str, cache: Dict) -> List[str]:
        """The leader's own words behind a consideration: signal words, else the clause that carries it.

        Clauses are scored once per text (`cache`), however many considerations need them.
        """
        if ev.phrases:
            return ev.phrases
        parts = clauses(text)
        if len(parts) <= 1:
            return [text[:120]]
        if "probs" not in cache:
            lexical = np.vstack([classifier.lexicon_features(self.lexicon.evidence(tokens(c), c)) for c in parts])
            cache["probs"] = self.trained.predict(classifier.features(classifier.embed(parts), lexical))
        return [parts[int(np.argmax(cache["probs"][f"kvadrant:{quadrant}"]))][:120]]

    def _t(self, ev, p: Dict[str, float]) -> Optional[str]:
        learned = max(classifier.T_CLASSES, key=lambda c: p.get(f"t:{c}", 0.0))
        if learned != "ingen":
            sure = p[f"t:{learned}"]
            if sure >= T_CONFIDENT or (ev[learned].score > 0 and sure >= T_WITH_WORDS):
                return learned
        words = max(("soejle", "tvaers"), key=lambda t: ev[t].score)
        return words if ev[words].score >= LENS_MIN_SCORE else None

    def _lens(self, lens: str, evidence, p: Dict[str, float]) -> bool:
        return p[f"linse:{lens}"] >= self.trained.thresholds[f"linse:{lens}"] or (
            evidence["linser"][lens].score >= LENS_MIN_SCORE
        )


def neglected(model: BalanceModel, voiced: List[str], presence: Dict[str, float], partly=frozenset()) -> Optional[str]:
    """The diagonal opposite of the strongest voiced consideration, else the weakest unvoiced one.

    A consideration the leader touches on without it reaching the threshold (`partly`) is not the
    neglected one: the coach would be asking about something the leader just said.
    """
    if not voiced:
        return None
    opposite = model.diagonal(voiced[0])
    if opposite not in voiced and opposite not in partly:
        return opposite
    unvoiced = [q for q in QUADRANT_IDS if q not in voiced and q not in partly] or [
        q for q in QUADRANT_IDS if q not in voiced
    ]
    pool = unvoiced or list(voiced)
    return min(pool, key=lambda q: presence.get(q, 0.0))
