"""Custom actions: read slots, call `bot/`, choose a response from domain.yml, return events.

The coaching logic lives in `bot.coaching` and `bot.analysis`; the Danish lives in domain.yml. Heavy
objects (spaCy, embeddings, the classifier) are built on first use, never at import.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import coaching, safety
from bot import settings as settings_module
from bot.knowledge import default_model

_analyser = None

PICTURE_SLOTS = ["kvadranter", "negligeret", "etikker", "borgersyn", "roller", "t_ledelse", "oversaettelse", "fremtid"]
ANSWER_SLOTS = ["kortlaegning", "svar_negligeret", "svar_balance", *coaching.LENS_SLOTS, "naeste_skridt"]


def analyser():
    global _analyser
    if _analyser is None:
        from bot.analysis import Analyser

        _analyser = Analyser()
    return _analyser


def analysis_of(tracker: Tracker, text: str):
    """The analysis of the leader's latest message, already made by the NLU pipeline when it is that text."""
    from bot.analysis import Analysis

    latest = tracker.latest_message or {}
    if latest.get("balance") and (latest.get("text") or "").strip() == (text or "").strip():
        return Analysis.from_dict(latest["balance"])
    return analyser().analyse(text)


def fragment(domain: DomainDict, name: str, **values: Any) -> str:
    """A sentence part from domain.yml, filled in: actions assemble Danish only from the domain's words."""
    text = domain["responses"][name][0]["text"]
    return text.format(**values) if values else text


def domain_words(domain: DomainDict):
    """`fragment` bound to this domain, in the shape `bot.coaching` takes it."""
    return lambda name, **values: fragment(domain, name, **values)


def picture(tracker: Tracker) -> coaching.Picture:
    return {slot: tracker.get_slot(slot) for slot in PICTURE_SLOTS}


def picture_events(new: coaching.Picture, tracker: Optional[Tracker]) -> List[EventType]:
    """Slot events for the parts of the picture that changed (all of it for a new dilemma), plus one entry in
    its history so coaches can see how it moved. Unchanged parts are left out: every event is stored and sent
    with each later turn."""
    history = list((tracker.get_slot("billede_historik") if tracker else None) or [])
    history.append({"kvadranter": [h["id"] for h in new.get("kvadranter") or []], "negligeret": new.get("negligeret")})
    changed = [slot for slot in PICTURE_SLOTS if tracker is None or tracker.get_slot(slot) != new.get(slot)]
    return [SlotSet(slot, new.get(slot)) for slot in changed] + [SlotSet("billede_historik", history)]


def picture_slots(new: coaching.Picture, tracker: Optional[Tracker]) -> Dict[Text, Any]:
    """The picture's slot events as the slot dict a form validation returns."""
    return {e["name"]: e["value"] for e in picture_events(new, tracker)}


def names(ids: List[str]) -> List[str]:
    model = default_model()
    return [model.name(i) for i in ids]


class ActionSessionStart(Action):
    """Start each session with the retention period from the settings, so the coach states it truthfully."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        days = settings_module.load().retention_days
        return [SessionStarted(), SlotSet("opbevaring_dage", str(days)), ActionExecuted("action_listen")]


class ActionAnalysereDilemma(Action):
    """Hear the considerations in the dilemma, mirror them back and open the reflection."""

    def name(self) -> Text:
        return "action_analysere_dilemma"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        concern = safety.assess(text)
        if concern == "krise":
            dispatcher.utter_message(response="utter_krise_hjaelp")
            return [SlotSet("trin", "start"), SlotSet("pause", False)]
        if concern == "belastning":
            dispatcher.utter_message(response="utter_belastning_omsorg")
            dispatcher.utter_message(response="utter_belastning_fortsaette")
            return [SlotSet("trin", "start"), SlotSet("pause", True)]
        analysis = analysis_of(tracker, text)
        if not analysis.kvadranter:
            dispatcher.utter_message(response="utter_dilemma_uklart")
            return [SlotSet("trin", "start")]
        new = coaching.picture_from(analysis)
        dispatcher.utter_message(
            response="utter_spejling_hoerer", hensyn=coaching.heard_phrases(new, domain_words(domain))
        )
        events = [SlotSet("dilemma", text[:2000]), SlotSet("billede_historik", [])]
        events += [SlotSet(slot, None) for slot in ANSWER_SLOTS]
        events += picture_events(new, None)
        events += [
            SlotSet("linser", coaching.choose_lenses(new)),
            SlotSet("kortlaegning_uklar", False),
            SlotSet("pause", False),
            SlotSet("trin", "refleksion"),
        ]
        return events


class ActionAskKortlaegning(Action):
    def name(self) -> Text:
        return "action_ask_kortlaegning"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("kortlaegning_uklar"):
            dispatcher.utter_message(response="utter_kortlaegning_hvilket")
        else:
            dispatcher.utter_message(response="utter_ask_kortlaegning")
        return []


class _AskWithPicture(Action):
    """Ask a reflection question whose wording depends on the balance picture."""

    slot = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        model = default_model()
        p = picture(tracker)
        neglected = model.kvadranter[p.get("negligeret") or "fornyelse"]
        ethic = model.etikker[neglected.etik]
        voiced = [h["id"] for h in p.get("kvadranter") or [] if h["id"] != neglected.id]
        t = p.get("t_ledelse")
        values = {
            "negligeret_navn": neglected.navn,
            "negligeret_beskrivelse": neglected.beskrivelse,
            "negligeret_spoergsmaal": neglected.spoergsmaal,
            "negligeret_etik": ethic.navn.lower(),
            "negligeret_etik_beskrivelse": ethic.beskrivelse,
            "hensyn_navne": coaching.join(names(voiced), fragment(domain, "utter_del_og")),
            "etik_navne": coaching.join(
                [model.etikker[model.kvadranter[q].etik].navn.lower() for q in voiced], fragment(domain, "utter_del_og")
            ),
            "borgersyn_navne": coaching.join(
                [n.lower() for n in names(p.get("borgersyn") or [])], fragment(domain, "utter_del_og")
            ) or fragment(domain, "utter_del_ingen"),
            "t_tekst": fragment(domain, f"utter_del_t_{t}") if t in ("soejle", "tvaers") else "",
        }
        dispatcher.utter_message(response=f"utter_ask_{self.slot}", **values)
        return []


class ActionAskSvarNegligeret(_AskWithPicture):
    slot = "svar_negligeret"


class ActionAskSvarEtik(_AskWithPicture):
    slot = "svar_etik"


class ActionAskSvarBorgersyn(_AskWithPicture):
    slot = "svar_borgersyn"


class ActionAskSvarTLedelse(_AskWithPicture):
    slot = "svar_t_ledelse"


class ValidateRefleksionForm(FormValidationAction):
    """Every answer is kept in the leader's words and folded into the balance picture."""

    def name(self) -> Text:
        return "validate_refleksion_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        lenses = [s for s in (tracker.get_slot("linser") or []) if s in coaching.LENS_SLOTS]
        return ["kortlaegning", "svar_negligeret", "svar_balance", *lenses, "naeste_skridt"]

    def validate_kortlaegning(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        """Yes moves on; a correction or any other words re-map the picture and move on too.

        Only a bare "nej" with nothing to go on asks which consideration fills most (buttons), so a leader
        who answers in free text is never asked the same question twice.
        """
        if value in ("bekraeftet", "rettet", "suppleret"):  # a yes, or the form re-validating its own earlier result
            return {"kortlaegning": value, "kortlaegning_uklar": False}
        model = default_model()
        text = tracker.latest_message.get("text") or ""
        analysis = analysis_of(tracker, text)
        named = coaching.named_quadrants(text, analysis, model, button=tracker.get_slot("kvadrant"))
        if value == "afkraeftet" and not named:
            return {"kortlaegning": None, "kortlaegning_uklar": True, "kvadrant": None}
        if named:
            new = coaching.correct(picture(tracker), named, analysis, model)
            response = "utter_spejling_rettet"
        else:
            new = coaching.merge(picture(tracker), analysis, model)
            response = "utter_spejling_hoerer"
        dispatcher.utter_message(response=response, hensyn=coaching.heard_phrases(new, domain_words(domain)))
        slots = picture_slots(new, tracker)
        slots.update({"kortlaegning": "rettet" if named else "suppleret", "kortlaegning_uklar": False,
                      "kvadrant": None, "linser": coaching.choose_lenses(new)})
        return slots

    def _answer(self, slot: str, value: Any, dispatcher, tracker: Tracker) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if text != (tracker.latest_message.get("text") or "").strip():
            # Rasa re-validates answers already given when the form is resumed (after a pause): keep them as
            # they are, without a second acknowledgement or analysis.
            return {slot: value}
        kind = coaching.answer_kind(text)
        if kind == "kort" and slot != "naeste_skridt":
            dispatcher.utter_message(response="utter_svar_kort")
        elif kind == "lang":
            dispatcher.utter_message(response="utter_svar_langt")
        new = coaching.merge(picture(tracker), analysis_of(tracker, text), default_model())
        slots = picture_slots(new, tracker)
        slots[slot] = text[:2000]
        return slots


def _answer_validator(slot: str):
    def validate(self, value, dispatcher, tracker, domain):
        return self._answer(slot, value, dispatcher, tracker)

    validate.__name__ = f"validate_{slot}"
    return validate


# rasa_sdk looks up `validate_<slot>` by name; every reflection answer is validated the same way.
for _slot in ANSWER_SLOTS[1:]:
    setattr(ValidateRefleksionForm, f"validate_{_slot}", _answer_validator(_slot))


class ActionOpsummereRefleksion(Action):
    """The closing summary, also on request later in the same conversation."""

    def name(self) -> Text:
        return "action_opsummere_refleksion"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.active_loop_name:
            dispatcher.utter_message(response="utter_opsummering_undervejs")
            return []
        if not tracker.get_slot("naeste_skridt"):
            dispatcher.utter_message(response="utter_opsummering_mangler")
            return []
        from bot.picture import render  # matplotlib loads on the first summary, not when the server starts

        values = coaching.summary_values(
            {slot: tracker.get_slot(slot) for slot in PICTURE_SLOTS + ANSWER_SLOTS + ["linser"]},
            default_model(),
            domain_words(domain),
        )
        balance = render(tracker.get_slot("kvadranter"), tracker.get_slot("negligeret"), default_model())
        # Under "data": Rasa's socket.io channel emits custom JSON as `emit(event, **json_message)`, so any
        # other top-level key would crash the send; REST and the Teams channel read the same shape.
        dispatcher.utter_message(
            response="utter_opsummering", json_message={"data": {"balancebillede": balance.payload()}}, **values
        )
        dispatcher.utter_message(response="utter_afslutning")
        return [SlotSet("trin", "afsluttet")]


class ActionForklareModel(Action):
    """A short, correct explanation of a concept; the rules then return to where the conversation was."""

    def name(self) -> Text:
        return "action_forklare_model"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        model = default_model()
        concept = coaching.find_concept(tracker.latest_message.get("text") or "", model)
        overview = {"oversigt": "utter_model_oversigt", "etikker": "utter_model_etikker",
                    "roller": "utter_model_roller", "sikker_nok": "utter_model_sikker_nok"}
        if concept is None:
            dispatcher.utter_message(response="utter_model_ukendt")
        elif concept in overview:
            dispatcher.utter_message(response=overview[concept])
        else:
            found = coaching.explanation(concept, model)
            dispatcher.utter_message(response="utter_model_forklaring", **found)
        if tracker.active_loop_name:
            dispatcher.utter_message(response="utter_model_tilbage")
        return []


class ActionViseOmsorg(Action):
    """Care before coaching: acknowledge, point to people who can help, ask whether to go on."""

    def name(self) -> Text:
        return "action_vise_omsorg"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if safety.assess(tracker.latest_message.get("text")) == "krise":
            dispatcher.utter_message(response="utter_krise_hjaelp")
        dispatcher.utter_message(response="utter_belastning_omsorg")
        dispatcher.utter_message(response="utter_belastning_fortsaette")
        return [SlotSet("pause", True)]


class ActionAfbrydeRefleksion(Action):
    """After a crisis message the coaching stops; the picture stays for the record, the flow does not resume."""

    def name(self) -> Text:
        return "action_afbryde_refleksion"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SlotSet("trin", "start"), SlotSet("pause", False), SlotSet("requested_slot", None)]


class ActionGenoptageSamtale(Action):
    """Resume after a pause: back into the reflection if one was under way, else invite a dilemma."""

    def name(self) -> Text:
        return "action_genoptage_samtale"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        trin = tracker.get_slot("trin") or "start"
        if trin != "refleksion":
            dispatcher.utter_message(response="utter_hilse_invitation")
        return [SlotSet("pause", False), SlotSet("trin", trin)]


class ActionSpoergeSletning(Action):
    def name(self) -> Text:
        return "action_spoerge_sletning"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_slet_data_spoerg")
        return [SlotSet("sletning_afventer", True)]


class ActionSletteSamtale(Action):
    """Ask the tracker store to delete the conversation: it sees `slet_samtale` and removes every event."""

    def name(self) -> Text:
        return "action_slette_samtale"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_slet_data_udfoert")
        return [SlotSet("slet_samtale", True), SlotSet("sletning_afventer", False), SlotSet("trin", "start")]


class ActionAnnullereSletning(Action):
    def name(self) -> Text:
        return "action_annullere_sletning"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_slet_data_annulleret")
        trin = tracker.get_slot("trin") or "start"
        return [SlotSet("sletning_afventer", False), SlotSet("trin", trin)]
