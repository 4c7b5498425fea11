"""Every custom action with a real rasa_sdk Tracker and CollectingDispatcher: the Danish it says, the events."""
import asyncio

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as A
from conftest import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
DILEMMA = "Vi skal spare tre millioner på ældreområdet, og jeg er bekymret for trivslen blandt medarbejderne."


def tracker(text="", intent="beskriv_dilemma", slots=None, entities=None, active_loop=None):
    base = {s: (v.get("initial_value") if isinstance(v, dict) else None) for s, v in DOMAIN["slots"].items()}
    base.update(slots or {})
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker("leder-1", base, message, [], False, None, {"name": active_loop} if active_loop else {}, "action_listen")


def run(action, t):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, t, DOMAIN)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return dispatcher.messages, {e["name"]: e["value"] for e in result if e.get("event") == "slot"}


def texts(messages):
    return " ".join(m.get("text") or "" for m in messages)


def rendered(messages):
    """Messages as the Rasa server renders them: the response template filled with the action's values."""
    out = []
    for m in messages:
        template = DOMAIN["responses"][m["response"]][0]["text"]
        values = {k: v for k, v in m.items() if k not in ("response", "text")}
        values.update(m.get("kwargs", {}))
        out.append(template.format(**values) if values else template)
    return " ".join(out)


@pytest.fixture(scope="module")
def analysed():
    messages, slots = run(A.ActionAnalysereDilemma(), tracker(DILEMMA))
    return messages, slots


def test_dilemma_is_mirrored_with_the_leaders_words(analysed):
    messages, slots = analysed
    assert messages[0]["response"] == "utter_spejling_hoerer"
    text = rendered(messages)
    assert text.startswith("Jeg hører især hensynet til ")
    assert "Resultater" in text and "Relationer" in text
    assert "trivslen" in text and ("spare" in text or "millioner" in text)
    assert slots["trin"] == "refleksion"
    assert [h["id"] for h in slots["kvadranter"]][:2] in (["resultater", "relationer"], ["relationer", "resultater"])
    assert slots["negligeret"] in ("stabilitet", "fornyelse")
    assert slots["dilemma"] == DILEMMA
    assert slots["billede_historik"][0]["negligeret"] == slots["negligeret"]
    assert "svar_etik" in slots["linser"]


def test_unclear_dilemma_asks_for_more():
    messages, slots = run(A.ActionAnalysereDilemma(), tracker("tjah"))
    assert [m["response"] for m in messages] == ["utter_dilemma_uklart"]
    assert slots == {"trin": "start"}


def test_neglected_question_names_the_quadrant(analysed):
    _, slots = analysed
    messages, events = run(A.ActionAskSvarNegligeret(), tracker(slots=slots, active_loop="refleksion_form"))
    text = rendered(messages)
    neglected = {"stabilitet": "Stabilitet", "fornyelse": "Fornyelse"}[slots["negligeret"]]
    assert f"Jeg hører ikke så meget om hensynet til {neglected}." in text
    assert "Hvordan får vi da det hensyn med?" in text
    assert events == {}


def test_ethics_question_names_ethics(analysed):
    _, slots = analysed
    text = rendered(run(A.ActionAskSvarEtik(), tracker(slots=slots))[0])
    assert "konsekvensetik" in text and "nærhedsetik" in text


def test_correction_updates_the_map(analysed):
    _, slots = analysed
    form = A.ValidateRefleksionForm()
    t = tracker("nej, det handler mere om reglerne og dokumentationen", intent="afkraefte", slots=slots,
                active_loop="refleksion_form")
    dispatcher = CollectingDispatcher()
    result = form.validate_kortlaegning("afkraeftet", dispatcher, t, DOMAIN)
    assert result["kortlaegning"] == "rettet"
    assert result["kvadranter"][0]["id"] == "stabilitet"
    assert {**slots, **result}["negligeret"] != "stabilitet"
    assert "jeg hører nu især hensynet til Stabilitet" in rendered(dispatcher.messages)


def test_bare_no_asks_which_consideration(analysed):
    _, slots = analysed
    form = A.ValidateRefleksionForm()
    dispatcher = CollectingDispatcher()
    result = form.validate_kortlaegning("afkraeftet", dispatcher, tracker("nej", "afkraefte", slots), DOMAIN)
    assert result["kortlaegning"] is None and result["kortlaegning_uklar"] is True
    messages, _ = run(A.ActionAskKortlaegning(), tracker(slots={**slots, "kortlaegning_uklar": True}))
    assert messages[0]["response"] == "utter_kortlaegning_hvilket"
    buttons = DOMAIN["responses"]["utter_kortlaegning_hvilket"][0]["buttons"]
    assert len(buttons) == 4 and all("kvadrant" in b["payload"] for b in buttons)


def test_button_correction_uses_the_entity(analysed):
    _, slots = analysed
    form = A.ValidateRefleksionForm()
    dispatcher = CollectingDispatcher()
    t = tracker("/afkraefte", "afkraefte", {**slots, "kvadrant": "fornyelse"})
    result = form.validate_kortlaegning("afkraeftet", dispatcher, t, DOMAIN)
    assert result["kvadranter"][0]["id"] == "fornyelse"
    assert {**slots, **result}["negligeret"] == "stabilitet"


def test_answers_update_the_picture(analysed):
    _, slots = analysed
    form = A.ValidateRefleksionForm()
    dispatcher = CollectingDispatcher()
    answer = "Vi kunne prøve et forsøg med frivillige og pårørende, som kommer og hjælper med aktiviteter."
    result = form.validate_svar_negligeret(answer, dispatcher, tracker(answer, slots=slots), DOMAIN)
    assert result["svar_negligeret"] == answer
    assert "fornyelse" in [h["id"] for h in result["kvadranter"]]
    assert "negligeret" not in result  # unchanged, so not set again
    assert len(result["billede_historik"]) == len(slots["billede_historik"]) + 1


def test_one_word_answer_is_acknowledged(analysed):
    _, slots = analysed
    dispatcher = CollectingDispatcher()
    result = A.ValidateRefleksionForm().validate_svar_balance("ved ikke", dispatcher, tracker("ved ikke", slots=slots), DOMAIN)
    assert result["svar_balance"] == "ved ikke"
    assert [m["response"] for m in dispatcher.messages] == ["utter_svar_kort"]


def test_required_slots_follow_the_lenses(analysed):
    _, slots = analysed
    t = tracker(slots={**slots, "linser": ["svar_borgersyn", "svar_etik"]})
    required = asyncio.run(A.ValidateRefleksionForm().required_slots([], CollectingDispatcher(), t, DOMAIN))
    assert required == ["kortlaegning", "svar_negligeret", "svar_balance", "svar_borgersyn", "svar_etik", "naeste_skridt"]


def test_summary_in_the_leaders_words(analysed):
    _, slots = analysed
    done = {**slots, "kortlaegning": "bekraeftet", "svar_negligeret": "Vi kunne inddrage frivillige.",
            "svar_balance": "70/30 til økonomien lige nu.", "svar_etik": "At være ærlig.",
            "naeste_skridt": "Tale med MED-udvalget på mandag.", "linser": ["svar_etik"]}
    messages, events = run(A.ActionOpsummereRefleksion(), tracker("", "vis_opsummering", done))
    text = rendered(messages)
    assert "70/30 til økonomien lige nu." in text and "Tale med MED-udvalget på mandag." in text
    assert "Resultater" in text and "etikken" in text
    assert "handl der, hvor du er" in text
    assert events == {"trin": "afsluttet"}


def test_summary_before_the_end_says_so():
    messages, events = run(A.ActionOpsummereRefleksion(), tracker("vis opsummering", "vis_opsummering"))
    assert [m["response"] for m in messages] == ["utter_opsummering_mangler"] and events == {}


@pytest.mark.parametrize(
    "question, expected",
    [
        ("hvad er pligtetik?", "Pligtetik"),
        ("hvad betyder naerhedsetik", "Nærhedsetik"),
        ("forklar de fire kvadranter", "Relationer"),
        ("hvad er T-formet ledelse", "lodrette kæde"),
        ("hvilke roller har kommunen", "serviceproducent"),
        ("hvad er en sikker nok handlegrund", "sikker-nok handlegrund"),
        ("hvad er lean?", "kender jeg ikke"),
    ],
)
def test_model_questions(question, expected):
    messages, events = run(A.ActionForklareModel(), tracker(question, "spoerg_om_model"))
    assert expected.lower() in rendered(messages).lower()
    assert events == {}


def test_model_question_mid_flow_returns():
    messages, _ = run(A.ActionForklareModel(), tracker("hvad er pligtetik", "spoerg_om_model", active_loop="refleksion_form"))
    assert messages[-1]["response"] == "utter_model_tilbage"


def test_strain_is_met_with_care_first():
    messages, events = run(A.ActionViseOmsorg(), tracker("jeg kan ikke sove", "belastning"))
    text = rendered(messages)
    assert "læge" in text and "HR" in text and "MED" in text
    assert "hvordan får vi da" not in text.lower()
    assert events == {"pause": True}


def test_crisis_stops_the_coaching():
    _, events = run(A.ActionAfbrydeRefleksion(), tracker("", "krise", {"trin": "refleksion"}))
    assert events["trin"] == "start" and events["pause"] is False


def test_resume_after_pause():
    messages, events = run(A.ActionGenoptageSamtale(), tracker("ja", "bekraefte", {"pause": True, "trin": "refleksion"}))
    assert messages == [] and events == {"pause": False, "trin": "refleksion"}
    messages, events = run(A.ActionGenoptageSamtale(), tracker("ja", "bekraefte", {"pause": True, "trin": "start"}))
    assert [m["response"] for m in messages] == ["utter_hilse_invitation"]


def test_deletion_is_asked_then_marked_for_the_store():
    messages, events = run(A.ActionSpoergeSletning(), tracker("slet mine data", "slet_data"))
    assert "slette hele samtalen" in rendered(messages) and events == {"sletning_afventer": True}
    messages, events = run(A.ActionSletteSamtale(), tracker("ja", "bekraefte", {"sletning_afventer": True}))
    assert "Samtalen er slettet" in rendered(messages)
    assert events["slet_samtale"] is True and events["sletning_afventer"] is False
    messages, events = run(A.ActionAnnullereSletning(), tracker("nej", "afkraefte", {"sletning_afventer": True, "trin": "refleksion"}))
    assert "sletter ikke" in rendered(messages) and events == {"sletning_afventer": False, "trin": "refleksion"}


def test_session_start_states_retention(monkeypatch):
    monkeypatch.setenv("BALANCECOACH_RETENTION_DAYS", "14")
    _, events = run(A.ActionSessionStart(), tracker())
    assert events["opbevaring_dage"] == "14"


def test_strain_hidden_in_a_dilemma_is_met_with_care():
    messages, events = run(A.ActionAnalysereDilemma(), tracker("jeg ryster på hænderne før møder med direktionen"))
    assert [m["response"] for m in messages] == ["utter_belastning_omsorg", "utter_belastning_fortsaette"]
    assert events == {"trin": "start", "pause": True}


def test_crisis_hidden_in_a_dilemma_gives_help_and_no_coaching():
    messages, events = run(A.ActionAnalysereDilemma(), tracker("vi skal spare, og jeg vil bare forsvinde for altid"))
    assert [m["response"] for m in messages] == ["utter_krise_hjaelp"]
    assert "70 201 201" in rendered(messages) and events["trin"] == "start"


def test_citizen_view_question_names_the_views_heard(analysed):
    _, slots = analysed
    text = rendered(run(A.ActionAskSvarBorgersyn(), tracker(slots={**slots, "borgersyn": ["saarbart_medmenneske"]}))[0])
    assert "Jeg hører især borgeren som sårbart medmenneske." in text
    assert "myndighed, serviceproducent og facilitator" in text


def test_t_question_follows_the_dimension(analysed):
    _, slots = analysed
    pillar = rendered(run(A.ActionAskSvarTLedelse(), tracker(slots={**slots, "t_ledelse": "soejle"}))[0])
    across = rendered(run(A.ActionAskSvarTLedelse(), tracker(slots={**slots, "t_ledelse": "tvaers"}))[0])
    assert "op og ned gennem søjlen" in pillar and "på tværs af områder" in across
    assert "trænger kæden til olie" in pillar


def test_mapping_question_is_yes_no_by_default(analysed):
    _, slots = analysed
    messages, events = run(A.ActionAskKortlaegning(), tracker(slots=slots))
    assert [m["response"] for m in messages] == ["utter_ask_kortlaegning"] and events == {}


def test_free_text_at_the_mirror_moves_on_instead_of_asking_again(analysed):
    _, slots = analysed
    form = A.ValidateRefleksionForm()
    dispatcher = CollectingDispatcher()
    text = "vi når ikke vores besøg, og borgerne venter"
    result = form.validate_kortlaegning(text, dispatcher, tracker(text, "svar_refleksion", {**slots, "kortlaegning_uklar": True}), DOMAIN)
    assert result["kortlaegning"] in ("rettet", "suppleret") and result["kortlaegning_uklar"] is False
    assert dispatcher.messages[0]["response"] in ("utter_spejling_rettet", "utter_spejling_hoerer")


def test_resumed_form_keeps_earlier_answers_quietly(analysed):
    _, slots = analysed
    form = A.ValidateRefleksionForm()
    dispatcher = CollectingDispatcher()
    t = tracker("ja lad os fortsætte", "bekraefte", {**slots, "kortlaegning": "suppleret", "svar_balance": "ved ikke"})
    assert form.validate_kortlaegning("suppleret", dispatcher, t, DOMAIN) == {"kortlaegning": "suppleret",
                                                                            "kortlaegning_uklar": False}
    assert form.validate_svar_balance("ved ikke", dispatcher, t, DOMAIN) == {"svar_balance": "ved ikke"}
    assert dispatcher.messages == []
