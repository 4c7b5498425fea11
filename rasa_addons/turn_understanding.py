"""Rasa's NLU step that decides what a leader's turn is, with `bot.turns`, after the intent classifier.

The logistic regression reads "hvad er fremtidsskabelse" as an answer and "giv mig et råd" as a request
for help; clear Danish cues (a definition question about a concept of the model, a request for advice, a
wish to skip ahead, a correction, the leader's own strain or crisis) override it here, so Rasa's rules route
the turn for what it is. The classifier's own guess stays in the ranking, and the parse data says why under
`forstaaelse`, so coaches and HR can see when and why the coach overruled its classifier.
"""
from __future__ import annotations

import rasa_addons.patches  # noqa: F401  (the Rasa 3.6 fixes, before Rasa runs anything of ours)

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.balance_analysis import BALANCE

UNDERSTANDING = "forstaaelse"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TurnUnderstanding(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        from bot import turns

        for message in messages:
            text = message.get(TEXT)
            if not text or str(text).startswith("/"):
                continue
            predicted = message.get(INTENT) or {}
            analysis = message.get(BALANCE) or {}
            turn = turns.understand(str(text), predicted.get(INTENT_NAME_KEY),
                                    heard_considerations=len(analysis.get("kvadranter") or []))
            understanding = {"slags": turn.kind, "grund": turn.cue, "nlu_intent": predicted.get(INTENT_NAME_KEY)}
            if turn.cue != "nlu" and turn.intent and turn.intent != predicted.get(INTENT_NAME_KEY):
                chosen = {INTENT_NAME_KEY: turn.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != turn.intent]
                message.set(INTENT, chosen, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [chosen] + ranking, add_to_output=True)
            message.set(UNDERSTANDING, understanding, add_to_output=True)
        return messages
