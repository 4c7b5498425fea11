"""Every custom action with a real rasa_sdk Tracker and CollectingDispatcher: the Danish it says, the events."""
import json
import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as A
from bot.domain_parts import merged_domain

DOMAIN = merged_domain()  # as Rasa sees build/domain: domain.yml and the responses made from bot/knowledge.yml
DILEMMA = "Vi skal spare tre millioner på ældreområdet, og jeg er bekymret for trivslen blandt medarbejderne."


def tracker(text="", intent="beskriv_dilemma", slots=None, entities=None, active_loop=None, events=None):
    base = {s: (v.get("initial_value") if isinstance(v, dict) else None) for s, v in DOMAIN["slots"].items()}
    base.update(slots or {})
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker("leder-1", base, message, events or [], False, None, {"name": active_loop} if active_loop else {},
                   "action_listen")


def run(action, t):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, t, DOMAIN)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return dispatcher.messages, {e["name"]: e["value"] for e in result if e.get("event") == "slot"}


def said(messages):
    return " ".join(m.get("text") or "" for m in messages)


def picture_of(messages):
    return next(m["custom"]["data"]["balancebillede"] for m in messages if m.get("custom"))


def ask(slot, t):
    return run(next(a for a in A.ASK_ACTIONS if a.slot == slot)(), t)


def validate(slot, value, t):
    dispatcher = CollectingDispatcher()
    result = getattr(A.ValidateRefleksionForm(), f"validate_{slot}")(value, dispatcher, t, DOMAIN)
    return dispatcher.messages, result


@pytest.fixture(scope="module")
def analysed():
    return run(A.ActionAnalysereDilemma(), tracker(DILEMMA))


@pytest.fixture(scope="module")
def slots(analysed):
    return analysed[1]


def test_dilemma_is_mirrored_in_the_leaders_phrases(analysed):
    messages, slots = analysed
    text = said(messages)
    assert text.startswith("Jeg hører især")
    assert "Resultater" in text and "Relationer" in text
    assert '"Vi skal spare tre millioner på ældreområdet"' in text
    assert '"jeg er bekymret for trivslen blandt medarbejderne"' in text
    assert slots["trin"] == "refleksion" and slots["dilemma"] == DILEMMA
    assert {h["id"] for h in slots["kvadranter"]} >= {"resultater", "relationer"}
    assert slots["negligeret"] in ("stabilitet", "fornyelse")
    assert slots["billede_historik"][0]["negligeret"] == slots["negligeret"]
    assert slots["linser"][-1] == "svar_etik" and slots["vaegtning"] is None


def test_a_dilemma_set_aside_is_not_mirrored_as_voiced():
    messages, slots = run(A.ActionAnalysereDilemma(), tracker(
        "Det handler ikke om penge. Det handler om, at vi ikke kan få uddannede folk nok, og at kvaliteten falder."))
    assert "resultater" not in [h["id"] for h in slots["kvadranter"]] and "resultater" in slots["tilsidesat"]
    assert '"penge"' not in said(messages) and slots["negligeret"] != "resultater"


def test_unclear_text_asks_for_more():
    messages, slots = run(A.ActionAnalysereDilemma(), tracker("tjah"))
    assert "Fortæl lidt mere" in said(messages) and slots == {"trin": "start"}


def test_neglected_question_names_the_quadrant_and_asks_how_to_get_it_in(slots):
    messages, events = ask("svar_negligeret", tracker(slots=slots, active_loop="refleksion_form"))
    neglected = {"stabilitet": "Stabilitet", "fornyelse": "Fornyelse"}[slots["negligeret"]]
    assert f"Jeg hører ikke så meget om hensynet til {neglected}." in said(messages)
    assert "Hvordan får vi da det hensyn med?" in said(messages) and events == {}


def test_a_question_asked_again_is_short():
    asked = [{"event": "slot", "name": "requested_slot", "value": "svar_balance"},
             {"event": "user", "text": "hvad er et hensyn?"}]
    messages, _ = ask("svar_balance", tracker("hvad er et hensyn?", "spoerg_om_model", active_loop="refleksion_form",
                                             events=asked))
    assert said(messages) == DOMAIN["responses"]["utter_ask_svar_balance_igen"][0]["text"]


def test_after_a_request_for_advice_the_question_is_put_as_one_to_a_colleague(slots):
    messages, _ = ask("svar_negligeret", tracker("giv mig et råd", "bede_om_raad", slots, active_loop="refleksion_form"))
    assert "kollega" in said(messages) and "hensynet til" in said(messages)


def test_advice_is_declined_kindly_with_the_reason():
    messages, events = run(A.ActionForklareIngenRaad(), tracker("giv mig et råd", "bede_om_raad", {"trin": "refleksion"},
                                                                 active_loop="refleksion_form"))
    text = said(messages)
    assert "Jeg giver ikke råd" in text and "din situation" in text and events == {}
    messages, _ = run(A.ActionForklareIngenRaad(), tracker("hvad skal jeg gøre", "bede_om_raad", {"trin": "afsluttet"}))
    assert "opsummering" in said(messages)


def test_correction_at_the_mirror_removes_and_adds(slots):
    text = "nej, det handler faktisk ikke om økonomien, men om de nye regler for dokumentationen"
    messages, result = validate("kortlaegning", text, tracker(text, "korrigere_billede", slots, active_loop="refleksion_form"))
    assert result["kortlaegning"] == "rettet"
    assert result["kvadranter"][0]["id"] == "stabilitet"
    assert "resultater" not in [h["id"] for h in result["kvadranter"]]
    assert {**slots, **result}["negligeret"] not in ("stabilitet", "resultater")
    text = said(messages)
    assert text.startswith("Tak, så retter jeg billedet: Resultater træder i baggrunden, og Stabilitet kommer ind")
    assert "Resultater" not in text.split("Nu hører jeg især:")[1]


def test_bare_no_asks_which_consideration_with_buttons(slots):
    messages, result = validate("kortlaegning", "afkraeftet", tracker("nej", "afkraefte", slots, active_loop="refleksion_form"))
    assert result["kortlaegning"] is None and result["kortlaegning_uklar"] is True and messages == []
    messages, _ = ask("kortlaegning", tracker(slots={**slots, "kortlaegning_uklar": True}, active_loop="refleksion_form"))
    assert "Hvilket hensyn fylder mest" in said(messages)
    assert [b["payload"] for b in messages[0]["buttons"]][0] == '/korrigere_billede{"kvadrant": "relationer"}'


def test_yes_to_which_consideration_is_no_answer():
    empty = {"kvadranter": [], "kortlaegning_uklar": True, "trin": "refleksion"}
    _, result = validate("kortlaegning", "bekraeftet", tracker("ja", "bekraefte", empty, active_loop="refleksion_form"))
    assert result == {"kortlaegning": None, "kortlaegning_uklar": True}


def test_a_correction_button_mid_way(slots):
    t = tracker("/korrigere_billede", "korrigere_billede", {**slots, "kvadrant": "fornyelse", "requested_slot": "svar_balance"},
                active_loop="refleksion_form")
    messages, events = run(A.ActionRetteBillede(), t)
    assert events["kvadranter"][0]["id"] == "fornyelse" and "Fornyelse kommer ind" in said(messages)
    assert "trin" not in events  # inside the form the rules do not branch on it


def test_a_correction_the_coach_cannot_read_asks_instead_of_claiming(slots):
    t = tracker("du har ikke rettet noget", "korrigere_billede", {**slots, "requested_slot": "svar_negligeret",
                                                                  "kortlaegning": "rettet"}, active_loop="refleksion_form")
    messages, events = run(A.ActionRetteBillede(), t)
    assert "retter jeg billedet:" not in said(messages)
    assert events["kortlaegning"] is None and events["kortlaegning_uklar"] is True
    messages, events = run(A.ActionRetteBillede(), tracker("det passer ikke", "korrigere_billede", {**slots, "trin": "afsluttet"}))
    assert messages[0]["buttons"] and events["trin"] == "afsluttet"


def test_a_correction_after_the_summary_updates_weighting_and_summary(slots):
    done = {**slots, "trin": "afsluttet", "svar_balance": "økonomien vejer tungest",
            "vaegtning": {"vaegte": {}, "orden": ["resultater"], "gulv": []}}
    messages, events = run(A.ActionRetteBillede(), tracker(
        "vægtningen passer ikke, det er mere relationer end resultater", "korrigere_billede", done))
    assert events["vaegtning"]["orden"][:2] == ["relationer", "resultater"]
    assert "Tak, så retter jeg vægtningen: Relationer vejer tungest, derefter Resultater" in said(messages)
    assert "Her er din balance nu" in said(messages)
    picture = picture_of(messages)
    assert picture["etiketter"]["relationer"] == "1. prioritet" and picture["etiketter"]["resultater"] == "2. prioritet"
    assert events["trin"] == "afsluttet"


def test_answers_are_reflected_with_the_leaders_phrase_and_fold_in(slots):
    answer = "Vi kunne prøve et forsøg med frivillige og pårørende, som kommer og hjælper med aktiviteter."
    messages, result = validate("svar_negligeret", answer, tracker(answer, "svar_refleksion", slots))
    assert result["svar_negligeret"] == answer
    assert "fornyelse" in [h["id"] for h in result["kvadranter"]]
    assert "negligeret" not in result  # unchanged, so not set again
    assert 'prøve et forsøg med frivillige og pårørende' in said(messages)
    assert len(result["billede_historik"]) == len(slots["billede_historik"]) + 1


def test_reflections_vary_from_turn_to_turn(slots):
    answer = "Vi kunne bruge de erfarne som mentorer for de nye."
    seen = set()
    for turns in range(3):
        history = [{"event": "user", "text": "x"}] * turns
        messages, _ = validate("svar_negligeret", answer, tracker(answer, "svar_refleksion", slots, events=history))
        seen.add(said(messages))
    assert len(seen) == 3


def test_the_leaders_weighting_is_parsed_and_reflected(slots):
    answer = "Relationer 50, Resultater 30 og Stabilitet 20"
    messages, result = validate("svar_balance", answer, tracker(answer, "svar_refleksion", slots))
    assert result["vaegtning"]["vaegte"] == {"relationer": 50, "resultater": 30, "stabilitet": 20}
    assert "Relationer 50 %, Resultater 30 % og Stabilitet 20 %" in said(messages)


def test_an_unreadable_weighting_is_asked_for_again(slots):
    messages, result = validate("svar_balance", "hmm", tracker("hmm", "svar_refleksion", slots))
    assert result == {"svar_balance": None} and "60/40" in said(messages)


def test_going_on_is_not_an_answer(slots):
    messages, result = validate("svar_etik", "lad os komme videre", tracker("lad os komme videre", "fortsaette", slots))
    assert result == {"svar_etik": None} and said(messages) == "Godt, så fortsætter vi."


def test_not_knowing_skips_the_question_without_storing_anything(slots):
    t = tracker("det ved jeg ikke", "usikker", {**slots, "requested_slot": "svar_balance"}, active_loop="refleksion_form")
    messages, events = run(A.ActionSpringeSpoergsmaalOver(), t)
    assert events == {"svar_balance": A.coaching.SKIPPED} and "helt i orden" in said(messages)
    messages, _ = run(A.ActionSpringeSpoergsmaalOver(), tracker("ved ikke hvad jeg skal skrive", "usikker"))
    assert "Tænk på en situation" in said(messages)


def test_required_slots_follow_the_lenses(slots):
    t = tracker(slots={**slots, "linser": ["svar_oversaettelse", "svar_etik"]})
    required = asyncio.run(A.ValidateRefleksionForm().required_slots([], CollectingDispatcher(), t, DOMAIN))
    assert required == ["kortlaegning", "svar_negligeret", "svar_balance", "svar_oversaettelse", "svar_etik", "naeste_skridt"]


def test_summary_in_the_leaders_words_with_their_weighting_in_the_picture(slots):
    done = {**slots, "kortlaegning": "bekraeftet", "svar_negligeret": "Vi kunne inddrage frivillige.",
            "svar_balance": "70/30 til økonomien", "svar_etik": "At være ærlig.",
            "vaegtning": {"vaegte": {"resultater": 70, "relationer": 30}, "orden": ["resultater", "relationer"], "gulv": []},
            "naeste_skridt": "Tale med MED-udvalget på mandag.", "linser": ["svar_etik"]}
    messages, events = run(A.ActionOpsummereRefleksion(), tracker("", "vis_opsummering", done))
    text = said(messages)
    assert "Din vægtning: Resultater 70 % og Relationer 30 %" in text
    assert '"Tale med MED-udvalget på mandag"' in text and '"inddrage frivillige"' in text
    assert "Linser, vi brugte: etikken" in text and "Værsgo" not in text
    shown = picture_of(messages)
    assert shown["vaegte"] == {"resultater": 70, "relationer": 30}
    assert "svg" not in shown and "png" not in shown, "image data is never stored in the conversation"
    assert events["trin"] == "afsluttet"
    stored = events["balancebillede"]
    assert stored["id"] == shown["id"] and stored["vaegtning"]["vaegte"] == {"resultater": 70, "relationer": 30}
    assert len(json.dumps(stored)) < 1000
    _, again = run(A.ActionOpsummereRefleksion(), tracker("", "vis_opsummering", {**done, "balancebillede": stored}))
    assert "balancebillede" not in again, "an unchanged picture is not stored again"


def test_summary_before_any_dilemma_says_so():
    messages, events = run(A.ActionOpsummereRefleksion(), tracker("vis opsummering", "vis_opsummering"))
    assert "ikke nået til en opsummering" in said(messages) and events == {}


def test_skip_to_the_summary_at_any_point_and_gently_when_tired(slots):
    t = tracker("jeg orker ikke flere spørgsmål", "traet_af_spoergsmaal", {**slots, "svar_negligeret": "måske"},
                active_loop="refleksion_form")
    messages, events = run(A.ActionSpringeTilOpsummering(), t)
    text = said(messages)
    assert text.startswith("Helt i orden — vi stopper spørgsmålene her.") and "Tag fat" not in text
    assert "du har meget at bære" in text
    assert events.pop("balancebillede")["negligeret"] == slots["negligeret"]
    assert events == {"trin": "afsluttet", "pause": False, "requested_slot": None, "afslutning_afventer": "deling"}
    assert "Må en coach fra HR & Organisation læse denne samtale?" in text, "asked once, even when tired"
    messages, _ = run(A.ActionSpringeTilOpsummering(), tracker("spring til slutningen", "springe_til_opsummering", slots))
    assert said(messages).startswith("Selvfølgelig. Her er det, vi nåede:") and "Tag fat der, hvor du står" in said(messages)


def closing_answer(text, entity=None, value=None, slots=None):
    entities = [{"entity": entity, "value": value}] if entity else []
    return run(A.ActionModtageAfslutning(), tracker(text, "svare_afslutning", slots or {}, entities=entities))


def test_the_closing_questions_follow_each_other_and_are_recorded(slots):
    messages, events = closing_answer("/svare_afslutning", "deling", "anonym", {**slots, "trin": "afsluttet"})
    assert events == {"deling": "anonym", "afslutning_afventer": "laering"}
    assert "uden at se hvem du er" in said(messages) and "uafhængigt af det første" in said(messages)
    assert [b["title"] for b in messages[-1]["buttons"]] == ["Nej tak", "Ja, det må I gerne"]
    messages, events = closing_answer("ja", "laering", "ja")
    assert events == {"laering": "ja", "afslutning_afventer": "vurdering"}
    assert "HR kan nu se de af dine beskeder" in said(messages) and "fra 1" in said(messages)
    assert [b["title"] for b in messages[-1]["buttons"]] == ["1", "2", "3", "4", "5", "Spring over"]
    messages, events = closing_answer("4", "vurdering", "4")
    assert events == {"vurdering": "4", "afslutning_afventer": "hjalp"} and "hvad hjalp dig mest" in said(messages)
    messages, events = closing_answer("at se det hele", "hjalp", "at se det hele")
    assert events == {"hjalp": "at se det hele", "afslutning_afventer": None}
    assert "Tak for samtalen" in said(messages)


def test_a_named_share_asks_how_to_be_contacted_and_skipping_it_shares_without_the_name():
    messages, events = closing_answer("ja med mit navn", "deling", "navngivet")
    assert events == {"deling": "navngivet", "afslutning_afventer": "kontakt"}
    assert "Hvordan må coachen kontakte dig?" in said(messages)
    messages, events = closing_answer("spring over", "kontakt", A.closing_module.SKIPPED)
    assert events["deling"] == "anonym" and "uden dit navn" in said(messages)
    assert events["afslutning_afventer"] == "laering", "the use of the messages is asked apart from sharing"
    messages, events = closing_answer("nej tak", "laering", "nej")
    assert events == {"laering": "nej", "afslutning_afventer": "vurdering"}
    assert "dine beskeder bruges ikke" in said(messages) and "fra 1" in said(messages)


def test_a_strained_leader_is_asked_only_about_sharing():
    messages, events = closing_answer("nej tak", "deling", "nej", {"belastet": True})
    assert events == {"deling": "nej", "afslutning_afventer": None}
    assert said(messages) == "Det er helt i orden — samtalen deles ikke."


def test_an_answer_typed_later_without_buttons_is_read_and_anything_else_asks_again():
    _, events = closing_answer("ja, en coach må gerne læse samtalen")
    assert events["deling"] == "anonym"
    messages, events = closing_answer("hmm")
    assert events == {"afslutning_afventer": "deling"} and "Må en coach" in said(messages)


def test_withdrawing_consent_says_so_and_marks_it_for_every_conversation():
    messages, events = run(A.ActionTraekkeSamtykkeTilbage(), tracker("træk mit samtykke tilbage",
                                                                     "traekke_samtykke_tilbage",
                                                                     {"deling": "anonym", "opbevaring_dage": "30"}))
    assert events == {"deling": "nej", "laering": "nej", "samtykke_tilbage": True, "kontakt": None,
                      "afslutning_afventer": None}
    assert "trukket tilbage" in said(messages) and "30 dage" in said(messages)
    assert "HR bruger ikke dine beskeder" in " ".join(said(messages).split())


def test_after_the_summary_a_next_step_is_added_to_it(slots):
    done = {**slots, "trin": "afsluttet", "naeste_skridt": A.coaching.SKIPPED}
    messages, events = run(A.ActionModtageTilfoejelse(), tracker("jeg tager en snak med teamet på mandag", "svar_refleksion", done))
    assert events["naeste_skridt"] == "jeg tager en snak med teamet på mandag" and "føjet det til" in said(messages)


@pytest.mark.parametrize("question, expected", [
    ("hvad er pligtetik?", ["Pligtetik:"]),
    ("hvad er forskellen på relationer og resultater?", ["Relationer:", "Resultater:"]),
    ("balancen mellem hvilke ting?", ["de fire hensyn", "sjældent 50/50"]),
    ("forklar de fire kvadranter", ["Relationer", "Fornyelse"]),
    ("hvad er T-formet ledelse", ["lodrette kæde"]),
    ("hvad er en sikker nok handlegrund", ["sikker-nok handlegrund"]),
    ("hvad er lean?", ["kender jeg ikke"]),
])
def test_model_questions(question, expected):
    messages, events = run(A.ActionForklareModel(), tracker(question, "spoerg_om_model"))
    for part in expected:
        assert part.lower() in said(messages).lower()
    assert events == {}


def test_clarifying_the_pending_question(slots):
    t = tracker("hvad mener du?", "bede_om_uddybning", {**slots, "requested_slot": "svar_balance"}, active_loop="refleksion_form")
    messages, _ = run(A.ActionUddybeSpoergsmaal(), t)
    assert "100 point" in said(messages)


def test_strain_is_met_with_care_and_a_shorter_way(slots):
    messages, events = run(A.ActionViseOmsorg(), tracker("jeg kan ikke sove", "belastning", {**slots, "trin": "refleksion"}))
    text = said(messages)
    assert "læge" in text and "HR" in text and "MED" in text and "hvordan får vi da" not in text.lower()
    assert [b["title"] for b in messages[1]["buttons"]] == ["Fortsæt", "Kort opsummering", "Stop for i dag"]
    assert events == {"pause": True, "belastet": True}


def test_crisis_help_comes_from_the_settings_and_asks_nothing(monkeypatch):
    messages, events = run(A.ActionGiveKrisehjaelp(), tracker("", "krise", {"trin": "refleksion"}))
    text = said(messages)
    assert "70 201 201" in text and "112" in text and "Region Midtjylland" in text and "70 11 31 31" in text
    assert "1813" not in text and "?" not in text and not messages[0].get("buttons")
    assert events["trin"] == "start" and events["efter_krise"] is True
    monkeypatch.setenv("BALANCECOACH_HJAELP_LAEGEVAGT", "lægevagten i Region Syddanmark")
    monkeypatch.setenv("BALANCECOACH_HJAELP_LAEGEVAGT_NUMMER", "70 11 07 07")
    text = said(run(A.ActionGiveKrisehjaelp(), tracker("", "krise"))[0])
    assert "Region Syddanmark på 70 11 07 07" in text


def test_after_a_crisis_reply_the_next_message_gets_a_check_in_not_a_mirror():
    messages, events = run(A.ActionAnalysereDilemma(), tracker(
        "undskyld, det var ikke sådan ment, jeg er bare træt", "beskriv_dilemma", {"efter_krise": True}))
    assert "Hvordan har du det lige nu?" in said(messages) and "hører" not in said(messages)
    assert events == {"efter_krise": False, "trin": "start"}
    messages, events = run(A.ActionTjekkeIndEfterKrise(), tracker("ok", "bekraefte", {"efter_krise": True}))
    assert "Livslinien" in said(messages) and events == {"efter_krise": False}


def test_resume_after_a_pause():
    messages, events = run(A.ActionGenoptageSamtale(), tracker("jeg vil gerne fortsætte", "fortsaette",
                                                               {"pause": True, "trin": "refleksion"}))
    assert "i dit tempo" in said(messages) and events == {"pause": False, "trin": "refleksion"}
    messages, _ = run(A.ActionGenoptageSamtale(), tracker("ja", "bekraefte", {"pause": True, "trin": "start"}))
    assert "Fortæl mig om en situation" in said(messages)


def test_goodbye_fits_the_leaders_state():
    assert "Pas godt på dig selv" in said(run(A.ActionSigeFarvel(), tracker("tak", "farvel", {"belastet": True}))[0])
    assert "held og lykke" in said(run(A.ActionSigeFarvel(), tracker("tak", "farvel"))[0])


def test_deletion_is_asked_then_marked_for_the_store():
    messages, events = run(A.ActionSpoergeSletning(), tracker("slet mine data", "slet_data"))
    assert "slette hele samtalen" in said(messages) and events == {"sletning_afventer": True}
    messages, events = run(A.ActionSletteSamtale(), tracker("ja", "bekraefte", {"sletning_afventer": True}))
    assert "Samtalen er slettet" in said(messages)
    assert events["slet_samtale"] is True and events["sletning_afventer"] is False
    messages, events = run(A.ActionAnnullereSletning(), tracker("nej", "afkraefte", {"sletning_afventer": True, "trin": "refleksion"}))
    assert "sletter ikke" in said(messages) and events == {"sletning_afventer": False, "trin": "refleksion"}


def test_session_start_states_retention(monkeypatch):
    monkeypatch.setenv("BALANCECOACH_RETENTION_DAYS", "14")
    _, events = run(A.ActionSessionStart(), tracker())
    assert events["opbevaring_dage"] == "14"


def test_strain_hidden_in_a_dilemma_is_met_with_care():
    messages, events = run(A.ActionAnalysereDilemma(), tracker("jeg ryster på hænderne før møder med direktionen"))
    assert "Det lyder hårdt" in said(messages) and events == {"trin": "start", "pause": True, "belastet": True}


def test_citizen_lens_names_only_the_views_heard(slots):
    with_views = {**slots, "borgersyn": ["saarbart_medmenneske", "bruger_kunde", "aktiv_medskaber"]}
    text = said(ask("svar_borgersyn", tracker(slots=with_views))[0])
    assert "Jeg hører især borgeren som sårbart medmenneske og bruger/kunde." in text


def test_t_question_follows_the_dimension(slots):
    pillar = said(ask("svar_t_ledelse", tracker(slots={**slots, "t_ledelse": "soejle"}))[0])
    across = said(ask("svar_t_ledelse", tracker(slots={**slots, "t_ledelse": "tvaers"}))[0])
    assert "søjlen" in pillar and "Trænger kæden til olie?" in pillar
    assert "på tværs" in across and "kæden" not in across


def test_resumed_form_keeps_earlier_answers_quietly(slots):
    t = tracker("ja lad os fortsætte", "fortsaette", {**slots, "kortlaegning": "suppleret", "svar_balance": "ved ikke"})
    assert validate("kortlaegning", "suppleret", t) == ([], {"kortlaegning": "suppleret", "kortlaegning_uklar": False})
    assert validate("svar_balance", "ved ikke", t) == ([], {"svar_balance": "ved ikke"})


def test_naming_what_was_heard_first_confirms_the_picture(slots):
    first = slots["kvadranter"][0]["id"]
    t = tracker("/korrigere_billede", "korrigere_billede", {**slots, "kvadrant": first, "requested_slot": "kortlaegning",
                                                            "kortlaegning_uklar": True}, active_loop="refleksion_form")
    messages, events = run(A.ActionRetteBillede(), t)
    assert "fylder mest" in said(messages) and "retter jeg billedet" not in said(messages)
    assert events["kortlaegning"] == "bekraeftet" and events["kortlaegning_uklar"] is False
