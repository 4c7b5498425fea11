"""Runs the balance analysis (`bot.analysis`) inside the NLU pipeline and adds it to the parse data.

The e5 embedding the intent classifier needs is the one the analysis needs, so computing it once here saves
a second embedding in the action server on every turn. The result travels as `balance` in the parse data:
custom actions read it from `tracker.latest_message`, and coaches can see in the stored conversation what
the coach heard in each message.

The analysis travels inside the Rasa model: training copies the analysis classifier (models/analyse.pkl, or
BALANCECOACH_ANALYSE_MODEL) and the balance model (bot/knowledge.yml, or BALANCECOACH_KNOWLEDGE) into this
component's resource, and a server loading the model reads them from there. So one artifact carries
everything that understands a message; deploying or rolling back a model swaps both at once, and a server can
never pair a Rasa model with another model's analysis.
"""
from __future__ import annotations

import rasa_addons.patches  # noqa: F401  (the Rasa 3.6 fixes, before Rasa runs anything of ours)

import hashlib
import pickle
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.e5_featurizer import E5_VECTOR

BALANCE = "balance"
CLASSIFIER_FILE = "analyse.pkl"
KNOWLEDGE_FILE = "knowledge.yml"


def sources() -> Dict[str, Path]:
    """The files a training packs into the model: the defaults `make train` builds, or a candidate's own."""
    from bot.settings import packed_analysis

    classifier_path, knowledge_path = packed_analysis()
    return {CLASSIFIER_FILE: classifier_path, KNOWLEDGE_FILE: knowledge_path}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class BalanceAnalysis(GraphComponent):
    def __init__(self, model_storage: ModelStorage, resource: Resource,
                 packed: Optional[Dict[str, bytes]] = None) -> None:
        self._storage = model_storage
        self._resource = resource
        self._packed = packed
        self._analyser = None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Rasa caches trained components by their inputs; the packed files are inputs Rasa cannot see."""
        digest = hashlib.sha256()
        for name, path in sorted(sources().items()):
            digest.update(name.encode())
            digest.update(path.read_bytes() if path.exists() else b"-")
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        """Pack the analysis classifier and the balance model (trained by `python -m bot train`)."""
        with self._storage.write_to(self._resource) as directory:
            for name, path in sources().items():
                if not path.exists():
                    raise FileNotFoundError(f"{path} mangler: kør 'make train' (eller 'python -m bot train').")
                (directory / name).write_bytes(path.read_bytes())
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> GraphComponent:
        with model_storage.read_from(resource) as directory:
            packed = {name: (directory / name).read_bytes() for name in (CLASSIFIER_FILE, KNOWLEDGE_FILE)}
        return cls(model_storage, resource, packed)

    def _get_analyser(self):
        if self._analyser is None:
            import tempfile

            from bot.analysis import Analyser
            from bot.knowledge import load_model

            if self._packed is None:
                self._analyser = Analyser()
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    knowledge = Path(tmp) / KNOWLEDGE_FILE
                    knowledge.write_bytes(self._packed[KNOWLEDGE_FILE])
                    model = load_model(knowledge)
                self._analyser = Analyser(model=model, trained=pickle.loads(self._packed[CLASSIFIER_FILE]))
        return self._analyser

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # the analysis learns from data/analyse/ in `python -m bot train`, not here

    def process(self, messages: List[Message]) -> List[Message]:
        todo = [m for m in messages if m.get(TEXT) and not str(m.get(TEXT)).startswith("/")]
        if not todo:
            return messages
        vectors = [m.get(E5_VECTOR) for m in todo]
        embeddings = np.vstack(vectors) if all(v is not None for v in vectors) else None
        results = self._get_analyser().analyse_many([m.get(TEXT) for m in todo], embeddings)
        for message, result in zip(todo, results):
            message.set(BALANCE, result.to_dict(), add_to_output=True)
        return messages
