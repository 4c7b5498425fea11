"""Runs the balance analysis (`bot.analysis`) inside the NLU pipeline and adds it to the parse data.

The e5 embedding the intent classifier needs is the one the analysis needs, so computing it once here saves
a second embedding in the action server on every turn. The result travels as `balance` in the parse data:
custom actions read it from `tracker.latest_message`, and coaches can see in the stored conversation what
the coach heard in each message.
"""
from __future__ import annotations

import rasa_addons.patches  # noqa: F401  (the Rasa 3.6 fixes, before Rasa runs anything of ours)

from typing import Any, Dict, List, Text

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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class BalanceAnalysis(GraphComponent):
    def __init__(self) -> None:
        self._analyser = None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls()

    def _get_analyser(self):
        if self._analyser is None:
            from bot.analysis import Analyser

            self._analyser = Analyser()
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
