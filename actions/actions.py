"""Custom actions: read slots, call `bot/`, choose a response from domain.yml, return events.

The coaching logic lives in `bot.coaching`, `bot.turns`, `bot.weighting` and `bot.analysis`; the Danish lives
in domain.yml. Heavy objects (spaCy, embeddings, the classifier) are built on first use, never at import.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import closing as closing_module
from bot import coaching, meaning, safety, turns, weighting
from bot import picture as picture_module
from bot import settings as settings_module
from bot.knowledge import default_model

_analyser = None

PICTURE_SLOTS = coaching.PICTURE_KEYS
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
    if (text or "").startswith("/"):
        return Analysis()  # a button press: its payload says what was chosen, there are no words to hear
    return analyser().analyse(text)


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def user_turns(tracker: Tracker) -> int:
    return sum(1 for e in tracker.events if e.get("event") == "user")


def fragment(domain: DomainDict, name: str, **values: Any) -> str:
    """A sentence part from domain.yml, filled in: actions assemble Danish only from the domain's words."""
    text = domain["responses"][name][0]["text"]
    return text.format(**values) if values else text


def domain_words(domain: DomainDict):
    """`fragment` bound to this domain, in the shape `bot.coaching` takes it."""
    return lambda name, **values: fragment(domain, name, **values)


def say(dispatcher: CollectingDispatcher, domain: DomainDict, tracker: Tracker, name: str, **values: Any) -> None:
    """Utter a response from domain.yml, filled in, its variant turning with the conversation.

    Rasa picks variants at random, so the same acknowledgement can come back turn after turn; counting the
    leader's turns makes consecutive replies differ, and the same conversation replays the same way.
    """
    variants = domain["responses"][name]
    chosen = variants[user_turns(tracker) % len(variants)]
    filled = {**{k: v for k, v in tracker.current_slot_values().items() if v is not None}, **values}
    message: Dict[str, Any] = {"text": chosen["text"].format(**filled)}
    if chosen.get("buttons"):
        message["buttons"] = [{"title": b["title"], "payload": b["payload"].format(**filled)} for b in chosen["buttons"]]
    if chosen.get("custom"):  # a signal to the client, e.g. that the widget must forget a deleted conversation
        message["json_message"] = chosen["custom"]
    dispatcher.utter_message(**message)


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


def as_dict(events: List[EventType]) -> Dict[Text, Any]:
    """Slot events as the slot dict a form validation returns."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def names(ids: List[str]) -> List[str]:
    model = default_model()
    return [model.name(i) for i in ids]


def slots_of(tracker: Tracker) -> Dict[str, Any]:
    wanted = PICTURE_SLOTS + ANSWER_SLOTS + ["linser", "vaegtning", "negligeret_fravalgt"]
    return {slot: tracker.get_slot(slot) for slot in wanted}


def show_summary(dispatcher, domain: DomainDict, tracker: Tracker, response: str,
                 slots: Optional[Dict[str, Any]] = None) -> List[EventType]:
    """The summary lines under `response`, and the balance picture of the leader's own weighting. The
    conversation keeps what is needed to draw the picture (slot `balancebillede`), never image data; the
    channel draws it once per version and the widget fetches it by id (channels/pictures.py)."""
    values = slots_of(tracker)
    values.update(slots or {})
    lines = coaching.summary_lines(values, default_model(), domain_words(domain))
    drawing = picture_module.drawing(values.get("kvadranter"), values.get("negligeret"), values.get("vaegtning"))
    # Under "data": Rasa's socket.io channel emits custom JSON as `emit(event, **json_message)`, so any
    # other top-level key would crash the send; REST and the Teams channel read the same shape.
    text = domain["responses"][response][0]["text"].format(linjer=lines)
    dispatcher.utter_message(text=text, json_message={
        "data": {"balancebillede": picture_module.message(drawing, default_model())}})
    if (tracker.get_slot("balancebillede") or {}).get("id") == drawing["id"]:
        return []
    return [SlotSet("balancebillede", drawing)]


def closing(dispatcher, domain: DomainDict, tracker: Tracker, tired: bool = False) -> List[EventType]:
    """The closing fits the leader's state: no call to action for someone running out of steam. It asks,
    once, whether a coach may read the conversation; the rating and the line on what helped follow only for
    a leader who is not worn out (ActionModtageAfslutning)."""
    gentle = tired or tracker.get_slot("belastet")
    say(dispatcher, domain, tracker, "utter_afslutning_skaansom" if gentle else "utter_afslutning")
    if tracker.get_slot("deling"):
        return []
    say(dispatcher, domain, tracker, "utter_afslutning_deling")
    return [SlotSet("afslutning_afventer", "deling")]


class ActionModtageAfslutning(Action):
    """An answer to one of the closing questions (read by bot/closing.py, or sent by a button): record it,
    confirm it in a sentence, and ask the next one."""

    def name(self) -> Text:
        return "action_modtage_afslutning"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        entities = {e.get("entity"): e.get("value") for e in (tracker.latest_message or {}).get("entities") or []}
        question = next((q for q in closing_module.QUESTIONS if entities.get(q)), None)
        if question is None:  # typed later, without the question right before it
            text = (tracker.latest_message or {}).get("text") or ""
            for question, read in (("deling", closing_module.sharing), ("vurdering", closing_module.rating)):
                entities[question] = read(text)
                if entities[question]:
                    break
            else:
                say(dispatcher, domain, tracker, "utter_afslutning_deling")
                return [SlotSet("afslutning_afventer", "deling")]
        value = str(entities[question])
        events: List[EventType] = [SlotSet(question, value)]
        if question == "deling":
            if value == "nej":
                say(dispatcher, domain, tracker, "utter_afslutning_deling_nej")
            elif value == "anonym":
                say(dispatcher, domain, tracker, "utter_afslutning_deling_anonym")
        elif question == "kontakt":
            if value == closing_module.SKIPPED:
                events.append(SlotSet("deling", "anonym"))
            say(dispatcher, domain, tracker, "utter_afslutning_kontakt_sprunget_over"
                if value == closing_module.SKIPPED else "utter_afslutning_kontakt_tak")
        elif question == "laering":
            say(dispatcher, domain, tracker, f"utter_afslutning_laering_{'ja' if value == 'ja' else 'nej'}")
        following = closing_module.next_question(question, value)
        if following in ("laering", "vurdering", "hjalp") and tracker.get_slot("belastet"):
            following = None  # no more questions for a leader who is carrying a lot
        if following:
            say(dispatcher, domain, tracker, f"utter_afslutning_{following}")
        elif question != "deling":
            say(dispatcher, domain, tracker, "utter_afslutning_tak")
        return events + [SlotSet("afslutning_afventer", following)]


class ActionTraekkeSamtykkeTilbage(Action):
    """No coach may read any of this leader's conversations from now on; the tracker store carries the
    withdrawal to every shared conversation of this channel identity (review/record.py)."""

    def name(self) -> Text:
        return "action_traekke_samtykke_tilbage"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, domain, tracker, "utter_samtykke_trukket_tilbage")
        return [SlotSet("deling", "nej"), SlotSet("laering", "nej"), SlotSet("samtykke_tilbage", True),
                SlotSet("kontakt", None),
                SlotSet("afslutning_afventer", None)]


class ActionSessionStart(Action):
    """Start each session with the retention period from the settings, so the coach states it truthfully."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        days = settings_module.load().retention_days
        return [SessionStarted(), SlotSet("opbevaring_dage", str(days)), ActionExecuted("action_listen")]


def analyse_dilemma(dispatcher, tracker: Tracker, domain: DomainDict, text: str) -> List[EventType]:
    """Hear the considerations in a new dilemma, mirror them back in the leader's words, open the reflection."""
    if tracker.get_slot("efter_krise"):
        say(dispatcher, domain, tracker, "utter_krise_tjek_ind", **crisis_numbers())
        return [SlotSet("efter_krise", False), SlotSet("trin", "start")]
    concern = safety.assess(text)
    if concern == "krise":
        return give_crisis_help(dispatcher, domain, tracker)
    if concern == "belastning":
        return show_care(dispatcher, domain, tracker) + [SlotSet("trin", "start")]
    analysis = analysis_of(tracker, text)
    new = coaching.picture_from(analysis)
    observed = coaching.lens_observations(new, domain_words(domain))
    if analysis.kvadranter:
        say(dispatcher, domain, tracker, "utter_spejling_hoerer", hensyn=coaching.heard_lines(new, domain_words(domain)))
    elif observed or len(text.split()) >= coaching.DILEMMA_WORDS:
        # A dilemma in which no consideration stands out: say what was heard, and let the leader point.
        say(dispatcher, domain, tracker, "utter_spejling_uden_hensyn" if observed else "utter_spejling_intet",
            linser=observed)
    else:
        say(dispatcher, domain, tracker, "utter_dilemma_uklart")
        return [SlotSet("trin", "start")]
    events = [SlotSet("dilemma", text[:2000]), SlotSet("billede_historik", [])]
    events += [SlotSet(slot, None) for slot in ANSWER_SLOTS]
    events += picture_events(new, None)
    events += [
        SlotSet("linser", coaching.choose_lenses(new)),
        SlotSet("vaegtning", None),
        SlotSet("negligeret_fravalgt", False),
        SlotSet("kortlaegning_uklar", not analysis.kvadranter),
        SlotSet("pause", False),
        SlotSet("trin", "refleksion"),
    ]
    return events


class ActionAnalysereDilemma(Action):
    """Hear the considerations in the dilemma, mirror them back and open the reflection."""

    def name(self) -> Text:
        return "action_analysere_dilemma"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return analyse_dilemma(dispatcher, tracker, domain, tracker.latest_message.get("text") or "")


def last_question(tracker: Tracker) -> Optional[str]:
    """The reflection question asked last before the leader's latest message (None if none was).

    The form runs its ask actions itself, so they leave no event of their own; the `requested_slot` it set
    before the leader answered tells which question was open.
    """
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == "requested_slot":
            return event.get("value")
    return None


def question_values(tracker: Tracker, domain: DomainDict) -> Dict[str, str]:
    """The picture's names and words that the reflection questions are filled with."""
    model = default_model()
    p = picture(tracker)
    neglected = model.kvadranter[p.get("negligeret") or "fornyelse"]
    ethic = model.etikker[neglected.etik]
    voiced = [h["id"] for h in p.get("kvadranter") or [] if h["id"] != neglected.id]
    and_ = fragment(domain, "utter_del_og")
    return {
        "negligeret_navn": neglected.navn,
        "negligeret_beskrivelse": neglected.beskrivelse,
        "negligeret_spoergsmaal": neglected.spoergsmaal,
        "negligeret_etik": ethic.navn.lower(),
        "negligeret_etik_beskrivelse": ethic.beskrivelse,
        "hensyn_navne": coaching.join(names(voiced), and_),
        "etik_navne": coaching.join([model.etikker[model.kvadranter[q].etik].navn.lower() for q in voiced], and_),
        "borgersyn_navne": coaching.join([n.lower() for n in names(coaching.citizen_views(p))], and_)
        or fragment(domain, "utter_del_ingen"),
    }



class _AskReflection:
    """Ask a reflection question in the words its context calls for.

    The first time in full; again after an interruption or an answer the coach could not use, in a short
    form; after a request for advice, as the question a leader would put to a colleague in the same spot.
    """

    slot = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    def response(self, tracker: Tracker) -> str:
        base = f"utter_ask_{self.slot}"
        if self.slot == "svar_t_ledelse":
            base += "_tvaers" if tracker.get_slot("t_ledelse") == "tvaers" else "_soejle"
        if self.slot == "svar_etik" and tracker.get_slot("negligeret_fravalgt") and last_question(tracker) != self.slot:
            return base + "_fravalgt"  # the leader chose the neglected one away: ask from what they weigh
        if latest_intent(tracker) == "bede_om_raad":
            return f"utter_raad_kollega_{self.slot}"
        if self.slot == "kortlaegning" and tracker.get_slot("kortlaegning_uklar"):
            return "utter_kortlaegning_hvilket"
        if last_question(tracker) == self.slot:
            return base + "_igen"
        return base

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, domain, tracker, self.response(tracker), **question_values(tracker, domain))
        return []


def _ask_action(slot: str) -> type:
    return type(f"ActionAsk_{slot}", (_AskReflection, Action), {"slot": slot})


# One ask action per reflection slot; rasa_sdk registers every Action subclass it finds in this module.
ASK_ACTIONS = [_ask_action(slot) for slot in ANSWER_SLOTS]


class ValidateRefleksionForm(FormValidationAction):
    """Every answer is understood for what it is, reflected in the leader's words and folded into the picture."""

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
        if value in ("bekraeftet", "rettet", "suppleret", coaching.SKIPPED):
            if not tracker.get_slot("kvadranter"):
                # "ja" to "which consideration fills most?" names none: ask again, with the buttons.
                return {"kortlaegning": None, "kortlaegning_uklar": True}
            return {"kortlaegning": value, "kortlaegning_uklar": False}
        model = default_model()
        text = tracker.latest_message.get("text") or ""
        analysis = analysis_of(tracker, text)
        correction = coaching.read_correction(text, analysis, button=tracker.get_slot("kvadrant"))
        if value == "afkraeftet" and correction.empty:
            return {"kortlaegning": None, "kortlaegning_uklar": True, "kvadrant": None}
        if correction.empty:
            new = coaching.merge(picture(tracker), analysis, model)
            if not new["kvadranter"]:
                return {"kortlaegning": None, "kortlaegning_uklar": True, "kvadrant": None}
            if [h["id"] for h in new["kvadranter"]] == [h["id"] for h in picture(tracker).get("kvadranter") or []]:
                # Nothing new to mirror: say it back in one line instead of repeating the whole picture.
                say(dispatcher, domain, tracker, "utter_refleksion_svar", citat=meaning.answer_phrase(text))
                return {"kortlaegning": "bekraeftet", "kortlaegning_uklar": False, "kvadrant": None}
            say(dispatcher, domain, tracker, "utter_spejling_hoerer",
                hensyn=coaching.heard_lines(new, domain_words(domain)))
            state = "suppleret"
        else:
            new, changes = coaching.apply_correction(picture(tracker), correction, analysis, model)
            if changes.empty:  # the leader named what was heard first: that confirms the picture
                say(dispatcher, domain, tracker, "utter_spejling_bekraeftet", navn=model.kvadranter[correction.frem[0]].navn)
                return {"kortlaegning": "bekraeftet", "kortlaegning_uklar": False, "kvadrant": None}
            reply_correction(dispatcher, domain, tracker, new, changes)
            state = "rettet"
        slots = as_dict(picture_events(new, tracker))
        slots.update({"kortlaegning": state, "kortlaegning_uklar": False, "kvadrant": None,
                      "linser": coaching.choose_lenses(new)})
        return slots

    def _answer(self, slot: str, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if text != (tracker.latest_message.get("text") or "").strip():
            # Rasa re-validates answers already given when the form is resumed (after a pause): keep them as
            # they are, without a second acknowledgement or analysis.
            return {slot: value}
        turn = turns.understand(text, latest_intent(tracker))
        if turn.kind == "fortsaette":
            say(dispatcher, domain, tracker, "utter_fortsaette_undervejs")
            return {slot: None}
        model = default_model()
        analysis = analysis_of(tracker, text)
        current = picture(tracker)
        stated = weighting.parse(text, [h["id"] for h in current.get("kvadranter") or []], model) \
            if slot == "svar_balance" else None
        reflection = coaching.reflection(slot, text, analysis, current, model, stated)
        if reflection is None and slot == "svar_balance":
            say(dispatcher, domain, tracker, "utter_refleksion_vaegtning_uklar")
            return {slot: None}
        merged = coaching.merge(current, analysis, model)
        if stated is not None:
            merged = coaching.with_weighted(merged, stated, model)
        slots = as_dict(picture_events(merged, tracker))
        slots[slot] = text[:2000]
        if reflection:
            response, values = reflection
            if response == "utter_refleksion_vaegtning":
                values = {"vaegtning": coaching.weighting_text(stated, model, domain_words(domain))}
            if response == "utter_refleksion_fravalgt":
                slots["negligeret_fravalgt"] = True
            say(dispatcher, domain, tracker, response, **values)
        if stated is not None:
            slots["vaegtning"] = stated.to_slot()
        return slots


def _answer_validator(slot: str):
    def validate(self, value, dispatcher, tracker, domain):
        return self._answer(slot, value, dispatcher, tracker, domain)

    validate.__name__ = f"validate_{slot}"
    return validate


# rasa_sdk looks up `validate_<slot>` by name; every reflection answer is validated the same way.
for _slot in ANSWER_SLOTS[1:]:
    setattr(ValidateRefleksionForm, f"validate_{_slot}", _answer_validator(_slot))


def reply_correction(dispatcher, domain: DomainDict, tracker: Tracker, new: coaching.Picture,
                     changes: coaching.Changes) -> None:
    words = domain_words(domain)
    heard = coaching.heard_lines(new, words)
    heard = heard.replace(words("utter_del_hensyn_flere"), words("utter_del_hensyn_nu"), 1)
    say(dispatcher, domain, tracker, "utter_spejling_rettet",
        aendringer=coaching.changes_text(changes, default_model(), words), hensyn=heard)


class ActionRetteBillede(Action):
    """A correction changes the picture (or the weighting) and says what changed; if the coach cannot tell
    what the leader means, it asks instead of claiming to have corrected anything."""

    def name(self) -> Text:
        return "action_rette_billede"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        trin = tracker.get_slot("trin") or "start"
        if trin == "start":
            return analyse_dilemma(dispatcher, tracker, domain, text)
        model = default_model()
        events: List[EventType] = []
        current_weighting = weighting.Weighting.from_slot(tracker.get_slot("vaegtning"))
        corrected = None
        if coaching.is_weighting_correction(text, current_weighting) or (
                trin == "afsluttet" and current_weighting.form == "ingen" and re.search(r"\bvægt", text, re.I)):
            corrected = weighting.correct(current_weighting, text, model)
        if corrected is not None:
            say(dispatcher, domain, tracker, "utter_vaegtning_rettet",
                vaegtning=coaching.weighting_text(corrected, model, domain_words(domain)))
            events.append(SlotSet("vaegtning", corrected.to_slot()))
            new = picture(tracker)
        else:
            analysis = analysis_of(tracker, text)
            correction = coaching.read_correction(text, analysis, button=tracker.get_slot("kvadrant"))
            new, changes = coaching.apply_correction(picture(tracker), correction, analysis, model)
            if changes.empty and correction.frem:  # what was heard first is named again: a confirmation
                say(dispatcher, domain, tracker, "utter_spejling_bekraeftet", navn=model.kvadranter[correction.frem[0]].navn)
                confirmed = [SlotSet("kvadrant", None)] + self._trin(tracker)
                if tracker.active_loop_name and tracker.get_slot("requested_slot") == "kortlaegning":
                    confirmed += [SlotSet("kortlaegning", "bekraeftet"), SlotSet("kortlaegning_uklar", False)]
                return confirmed
            if changes.empty and tracker.active_loop_name:
                # Ask which consideration fills more, with the mapping question the form asks first.
                say(dispatcher, domain, tracker, "utter_spejling_rettet_hvad")
                return [SlotSet("kvadrant", None), SlotSet("kortlaegning", None), SlotSet("kortlaegning_uklar", True)]
            if changes.empty:
                say(dispatcher, domain, tracker, "utter_spejling_rettet_uklart")
                return [SlotSet("kvadrant", None)] + self._trin(tracker)
            reply_correction(dispatcher, domain, tracker, new, changes)
            events += picture_events(new, tracker)
            if trin != "afsluttet":
                events.append(SlotSet("linser", coaching.choose_lenses(new)))
        if trin == "afsluttet":
            events += show_summary(dispatcher, domain, tracker, "utter_opsummering_rettet",
                                   slots={**new, **as_dict(events)})
        if tracker.active_loop_name and tracker.get_slot("requested_slot") == "kortlaegning":
            events += [SlotSet("kortlaegning", "rettet"), SlotSet("kortlaegning_uklar", False)]
        return events + [SlotSet("kvadrant", None)] + self._trin(tracker)

    @staticmethod
    def _trin(tracker: Tracker) -> List[EventType]:
        """Outside the form the rules go on by `trin`: back into the reflection, or stay after the summary."""
        if tracker.active_loop_name:
            return []
        return [SlotSet("pause", False), SlotSet("trin", tracker.get_slot("trin") or "start")]


class ActionModtageTilfoejelse(Action):
    """After the summary, an answer-like message adds to it (often the next step) rather than opening a new
    dilemma; only a message that voices a dilemma of its own starts a new reflection."""

    def name(self) -> Text:
        return "action_modtage_tilfoejelse"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        analysis = analysis_of(tracker, text)
        if len(analysis.kvadranter) >= 2 and len(text.split()) >= 15:
            return analyse_dilemma(dispatcher, tracker, domain, text)
        phrase = meaning.answer_phrase(text)
        if not coaching.answered(tracker.get_slot("naeste_skridt")) and coaching.is_action_step(text) and phrase:
            say(dispatcher, domain, tracker, "utter_tilfoejelse_skridt", citat=phrase)
            return [SlotSet("naeste_skridt", text[:2000]), SlotSet("trin", "afsluttet")]
        say(dispatcher, domain, tracker, "utter_tilfoejelse", citat=phrase)
        return [SlotSet("trin", "afsluttet")]


class ActionOpsummereRefleksion(Action):
    """The closing summary; during the reflection, the picture so far; later in the conversation, again."""

    def name(self) -> Text:
        return "action_opsummere_refleksion"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not tracker.get_slot("kvadranter"):
            say(dispatcher, domain, tracker, "utter_opsummering_mangler")
            return []
        if tracker.active_loop_name:
            return show_summary(dispatcher, domain, tracker, "utter_opsummering_indtil_nu")
        events = show_summary(dispatcher, domain, tracker, "utter_opsummering")
        events += closing(dispatcher, domain, tracker)
        return events + [SlotSet("trin", "afsluttet")]


class ActionSpringeTilOpsummering(Action):
    """Straight to a short summary of what the conversation reached, at any point; gently when tired."""

    def name(self) -> Text:
        return "action_springe_til_opsummering"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not tracker.get_slot("kvadranter"):
            say(dispatcher, domain, tracker, "utter_opsummering_mangler")
            return []
        tired = latest_intent(tracker) == "traet_af_spoergsmaal"
        events = show_summary(dispatcher, domain, tracker,
                              "utter_opsummering_traet" if tired else "utter_opsummering_kort")
        events += closing(dispatcher, domain, tracker, tired=tired)
        return events + [SlotSet("trin", "afsluttet"), SlotSet("pause", False), SlotSet("requested_slot", None)]


class ActionSpringeSpoergsmaalOver(Action):
    """"Ved ikke", "det er svært at sige": acknowledged, nothing stored, and the next question."""

    def name(self) -> Text:
        return "action_springe_spoergsmaal_over"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        requested = tracker.get_slot("requested_slot")
        if not tracker.active_loop_name or not requested:
            trin = tracker.get_slot("trin") or "start"
            if tracker.get_slot("pause") and trin == "refleksion":
                say(dispatcher, domain, tracker, "utter_belastning_fortsaette")
            else:
                say(dispatcher, domain, tracker, "utter_usikker_start" if trin == "start" else "utter_usikker_efter")
            return []
        if re.search(r"svært|vanskeligt|sige højt|sætte ord på", text, re.I):
            response = "utter_refleksion_svaert"
        elif re.search(r"\bvil\s+(?:jeg\s+)?ikke\s+(?:svare|sige)|\bhar\s+ikke\s+lyst|\bdet\s+rager", text, re.I):
            response = "utter_usikker_afvist"
        else:
            response = "utter_usikker_undervejs"
        say(dispatcher, domain, tracker, response)
        return [SlotSet(requested, "bekraeftet" if requested == "kortlaegning" else coaching.SKIPPED)]


class ActionForklareModel(Action):
    """A short, correct explanation of a concept; the form then asks its question again."""

    def name(self) -> Text:
        return "action_forklare_model"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        model = default_model()
        concepts = coaching.find_concepts(tracker.latest_message.get("text") or "", model)
        overview = {"oversigt": "utter_model_oversigt", "etikker": "utter_model_etikker", "balance": "utter_model_balance",
                    "roller": "utter_model_roller", "sikker_nok": "utter_model_sikker_nok"}
        if not concepts:
            say(dispatcher, domain, tracker, "utter_model_ukendt")
        for concept in concepts:
            if concept in overview:
                say(dispatcher, domain, tracker, overview[concept])
            else:
                say(dispatcher, domain, tracker, "utter_model_forklaring", **coaching.explanation(concept, model))
        return []


class ActionForklareIngenRaad(Action):
    """Why the coach reflects instead of advising; the question that follows helps the leader find their own."""

    def name(self) -> Text:
        return "action_forklare_ingen_raad"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, domain, tracker, "utter_raad_ikke")
        if not tracker.active_loop_name:
            trin = tracker.get_slot("trin") or "start"
            say(dispatcher, domain, tracker,
                "utter_raad_efter_opsummering" if trin == "afsluttet" else "utter_hilse_invitation")
        return []


class ActionUddybeSpoergsmaal(Action):
    """"Hvad mener du?": the pending question in other words, before the form asks it again."""

    def name(self) -> Text:
        return "action_uddybe_spoergsmaal"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        requested = tracker.get_slot("requested_slot") if tracker.active_loop_name else None
        name = f"utter_uddyb_{requested}"
        asks_why = re.search(r"\bhvorfor\b", tracker.latest_message.get("text") or "", re.I)
        if name not in domain["responses"] or asks_why:
            name = "utter_uddyb_generelt"
        values = question_values(tracker, domain) if tracker.get_slot("kvadranter") else {}
        say(dispatcher, domain, tracker, name, **values)
        return []


def show_care(dispatcher, domain: DomainDict, tracker: Tracker) -> List[EventType]:
    say(dispatcher, domain, tracker, "utter_belastning_omsorg")
    under_way = tracker.get_slot("trin") == "refleksion"
    say(dispatcher, domain, tracker,
        "utter_belastning_fortsaette" if under_way else "utter_belastning_fortsaette_uden_dilemma")
    return [SlotSet("pause", True), SlotSet("belastet", True)]


class ActionViseOmsorg(Action):
    """Care before coaching: acknowledge, point to people who can help, and let the leader choose the pace."""

    def name(self) -> Text:
        return "action_vise_omsorg"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if safety.assess(tracker.latest_message.get("text")) == "krise":
            return give_crisis_help(dispatcher, domain, tracker) + [SlotSet("pause", True)]
        return show_care(dispatcher, domain, tracker)


def crisis_numbers() -> Dict[str, str]:
    help_ = settings_module.load().hjaelp
    return {"livslinien": help_.livslinien, "akut": help_.akut, "laegevagt": help_.laegevagt,
            "laegevagt_nummer": help_.laegevagt_nummer}


def give_crisis_help(dispatcher, domain: DomainDict, tracker: Tracker) -> List[EventType]:
    say(dispatcher, domain, tracker, "utter_krise_hjaelp", **crisis_numbers())
    return [SlotSet("trin", "start"), SlotSet("pause", False), SlotSet("efter_krise", True), SlotSet("belastet", True),
            SlotSet("requested_slot", None)]


class ActionGiveKrisehjaelp(Action):
    """Help from people, with the numbers from the settings; no coaching question, no offer to continue."""

    def name(self) -> Text:
        return "action_give_krisehjaelp"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return give_crisis_help(dispatcher, domain, tracker)


class ActionTjekkeIndEfterKrise(Action):
    """The message after a crisis reply gets a gentle check-in, whatever it says; never a mirror."""

    def name(self) -> Text:
        return "action_tjekke_ind_efter_krise"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, domain, tracker, "utter_krise_tjek_ind", **crisis_numbers())
        return [SlotSet("efter_krise", False)]


class ActionGenoptageSamtale(Action):
    """Resume after a pause: back into the reflection if one was under way, else invite a dilemma."""

    def name(self) -> Text:
        return "action_genoptage_samtale"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        trin = tracker.get_slot("trin") or "start"
        pending = pending_question(tracker)
        if trin == "refleksion" and latest_intent(tracker) == "svar_refleksion" and pending:
            # The leader simply answered the question that was open before the pause: the form, resumed next,
            # validates it as that answer (reflection included) and asks the following question.
            text = tracker.latest_message.get("text") or ""
            return [SlotSet(pending, text[:2000]), SlotSet("pause", False), SlotSet("trin", trin)]
        say(dispatcher, domain, tracker, "utter_genoptage" if trin == "refleksion" else "utter_hilse_invitation")
        return [SlotSet("pause", False), SlotSet("trin", trin)]


def pending_question(tracker: Tracker) -> Optional[str]:
    """The reflection question that was open when the form was paused (its last requested slot)."""
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "requested_slot" and event.get("value"):
            return event["value"] if event["value"] != "kortlaegning" else None
    return None


class ActionSigeFarvel(Action):
    """Goodbye, gently to a leader who showed strain in this conversation."""

    def name(self) -> Text:
        return "action_sige_farvel"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, domain, tracker, "utter_farvel_skaansom" if tracker.get_slot("belastet") else "utter_farvel")
        return []


class ActionSpoergeSletning(Action):
    def name(self) -> Text:
        return "action_spoerge_sletning"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, domain, tracker, "utter_slet_data_spoerg")
        return [SlotSet("sletning_afventer", True)]


class ActionSletteSamtale(Action):
    """Ask the tracker store to delete the conversation: it sees `slet_samtale` and removes every event."""

    def name(self) -> Text:
        return "action_slette_samtale"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, domain, tracker, "utter_slet_data_udfoert")
        return [SlotSet("slet_samtale", True), SlotSet("sletning_afventer", False), SlotSet("trin", "start")]


class ActionAnnullereSletning(Action):
    def name(self) -> Text:
        return "action_annullere_sletning"

    def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, domain, tracker, "utter_slet_data_annulleret")
        trin = tracker.get_slot("trin") or "start"
        return [SlotSet("sletning_afventer", False), SlotSet("trin", trin)]
