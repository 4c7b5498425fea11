"""The coaching moves (bot/coaching.py) without a trained model: corrections, reflections, lenses, the summary.

Analyses are built by hand here, so these tests say what the coach does with what it heard, not what it hears.
"""
import pytest

from bot import coaching
from bot.analysis import Analysis, Heard
from bot.domain_parts import merged_domain
from bot.weighting import Weighting

RESPONSES = merged_domain()["responses"]


def words(name, **values):
    text = RESPONSES[name][0]["text"]
    return text.format(**values) if values else text


def heard(qid, quote="", signals=("ord",)):
    return Heard(qid, qid.capitalize(), 0.9, list(signals), quote)


def analysis(*quadrants, set_aside=(), **fields):
    return Analysis(kvadranter=list(quadrants), tilsidesat=list(set_aside), **fields)


@pytest.fixture
def savings(model):
    """The picture of "we must save 1.5 million, and my staff are worn out"."""
    return coaching.picture_from(analysis(heard("resultater", "vi skal spare 1,5 mio."),
                                          heard("relationer", "mine folk er slidte"), negligeret="stabilitet"))


# --- corrections ---------------------------------------------------------------------------------------------


def test_what_it_is_not_about_is_removed_and_what_it_is_about_comes_in(model, savings):
    said = "nej, det handler ikke om økonomien. Det handler om, at de nye regler for dokumentation tager al tiden."
    heard_now = analysis(heard("stabilitet", "de nye regler for dokumentation tager al tiden"), set_aside=["resultater"])
    correction = coaching.read_correction(said, heard_now)
    assert correction.fjern == ["resultater"] and correction.frem == ["stabilitet"]
    new, changes = coaching.apply_correction(savings, correction, heard_now, model)
    assert [h["id"] for h in new["kvadranter"]] == ["stabilitet", "relationer"]
    assert changes.fjernet == ["resultater"] and changes.tilfoejet == [("stabilitet", heard_now.kvadranter[0].citat)]
    assert new["negligeret"] == "fornyelse" and new["tilsidesat"] == ["resultater"]
    said = coaching.changes_text(changes, model, words)
    assert said == 'Resultater træder i baggrunden, og Stabilitet kommer ind — "de nye regler for dokumentation tager al tiden"'


def test_x_is_not_a_quadrant_moves_it(model, savings):
    correction = coaching.read_correction("det er ikke Relationer, det er Stabilitet", analysis())
    new, changes = coaching.apply_correction(savings, correction, analysis(), model)
    assert [h["id"] for h in new["kvadranter"]] == ["stabilitet", "resultater"]
    assert changes.fjernet == ["relationer"] and [q for q, _ in changes.tilfoejet] == ["stabilitet"]


def test_more_of_one_moves_it_to_the_front(model, savings):
    correction = coaching.read_correction("billedet passer ikke, relationer fylder meget mere for mig", analysis())
    new, changes = coaching.apply_correction(savings, correction, analysis(), model)
    assert [h["id"] for h in new["kvadranter"]] == ["relationer", "resultater"]
    assert changes.rykket_frem == ["relationer"] and not changes.fjernet


def test_less_of_one_and_a_button(model, savings):
    correction = coaching.read_correction("mindre resultater", analysis(), button="fornyelse")
    assert correction.fjern == ["resultater"] and correction.frem == ["fornyelse"]


def test_a_correction_that_names_nothing_changes_nothing(model, savings):
    correction = coaching.read_correction("du har ikke rettet noget", analysis())
    assert correction.empty
    new, changes = coaching.apply_correction(savings, correction, analysis(), model)
    assert changes.empty and new["kvadranter"] == savings["kvadranter"]


def test_weighting_corrections_are_told_apart(model):
    stated = Weighting({}, ["resultater"], [])
    assert coaching.is_weighting_correction("vægtningen passer ikke, det er mere relationer end resultater", stated)
    assert not coaching.is_weighting_correction("det handler ikke om økonomien", stated)
    assert not coaching.is_weighting_correction("det er mere relationer end resultater", Weighting())


# --- reflections -----------------------------------------------------------------------------------------------


def test_an_answer_to_the_neglected_question_brings_it_in(model, savings):
    text = "Vi kunne lade de gamle og de nye tage vagterne sammen to og to."
    response, values = coaching.reflection("svar_negligeret", text, analysis(), savings, model)
    assert response == "utter_refleksion_hensyn"
    assert values == {"navn": "Stabilitet", "citat": "lade de gamle og de nye tage vagterne sammen to og to"}


def test_an_answer_that_sets_the_neglected_aside_is_heard_as_a_choice(model, savings):
    response, values = coaching.reflection("svar_negligeret", "det er ikke relevant her", analysis(), savings, model)
    assert response == "utter_refleksion_fravalgt" and values == {"navn": "Stabilitet"}


def test_a_lens_answer_names_a_consideration_only_when_the_leader_used_its_words(model, savings):
    text = "jeg vil gerne kunne se dem i øjnene"
    hunch = analysis(heard("resultater", signals=()))
    assert coaching.reflection("svar_etik", text, hunch, savings, model)[0] == "utter_refleksion_svar"
    said = analysis(heard("relationer", signals=("trivslen",)))
    assert coaching.reflection("svar_etik", "trivslen skal med", said, savings, model) == (
        "utter_refleksion_hensyn", {"navn": "Relationer", "citat": "trivslen skal med"})


def test_an_unreadable_weighting_is_asked_again(model, savings):
    assert coaching.reflection("svar_balance", "hmm tja", analysis(), savings, model, Weighting()) is None
    response, values = coaching.reflection("svar_balance", "det vigtigste er at være ærlig over for dem",
                                           analysis(), savings, model, Weighting())
    assert response == "utter_refleksion_vaegtning_ord" and values["citat"] == "det vigtigste er at være ærlig over for dem"


def test_answers_add_only_what_was_said_in_words(model, savings):
    merged = coaching.merge(savings, analysis(heard("fornyelse", "et forsøg"), heard("stabilitet", signals=())), model)
    assert [h["id"] for h in merged["kvadranter"]] == ["resultater", "relationer", "fornyelse"]
    assert merged["negligeret"] == "stabilitet"


# --- lenses ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("picture, lenses", [
    ({"borgersyn": ["bruger_kunde"], "borgere": True}, ["svar_borgersyn", "svar_etik"]),
    ({"borgersyn": ["bruger_kunde"], "borgere": False}, ["svar_etik"]),
    ({"t_ledelse": "soejle", "oversaettelse": True}, ["svar_oversaettelse", "svar_etik"]),
    ({"t_ledelse": "tvaers", "oversaettelse": True}, ["svar_oversaettelse", "svar_t_ledelse"]),
    ({"t_ledelse": "soejle", "borgersyn": ["saarbart_medmenneske"], "borgere": True},
     ["svar_t_ledelse", "svar_borgersyn"]),
    ({"fremtid": True}, ["svar_fremtid", "svar_etik"]),
    ({}, ["svar_etik"]),
])
def test_lenses_fit_the_dilemma(picture, lenses):
    assert coaching.choose_lenses(picture) == lenses


def test_at_most_two_citizen_views_are_named():
    picture = {"borgersyn": ["aktiv_medskaber", "bruger_kunde", "saarbart_medmenneske", "rettighedsbaerer"]}
    assert coaching.citizen_views(picture) == ["aktiv_medskaber", "bruger_kunde"]


# --- weighting and summary -------------------------------------------------------------------------------------


@pytest.mark.parametrize("weighting, said", [
    (Weighting({"relationer": 50, "resultater": 30, "fornyelse": 20}, ["relationer", "resultater", "fornyelse"], []),
     "Relationer 50 %, Resultater 30 % og Fornyelse 20 %"),
    (Weighting({}, ["resultater"], ["relationer"]), "Resultater vejer tungest, men Relationer må ikke glide ud"),
    (Weighting({}, ["stabilitet", "relationer", "resultater"], []),
     "Stabilitet vejer tungest, derefter Relationer og Resultater"),
    (Weighting({}, [], ["relationer"]), "Relationer må ikke glide ud"),
    (Weighting(), ""),
])
def test_weighting_in_words(model, weighting, said):
    assert coaching.weighting_text(weighting, model, words) == said


def test_summary_states_the_weighting_and_leaves_out_what_was_skipped(model, savings):
    slots = {**savings, "vaegtning": Weighting({"relationer": 60, "resultater": 40},
                                                ["relationer", "resultater"], []).to_slot(),
             "svar_balance": "60/40 til trivslen", "svar_negligeret": "Vi kunne aftale faste rutiner for overlap.",
             "svar_etik": coaching.SKIPPED, "linser": ["svar_etik"], "naeste_skridt": None}
    lines = coaching.summary_lines(slots, model, words).splitlines()
    assert lines == [
        "• Hensyn, du bragte frem: Resultater og Relationer",
        "• Din vægtning: Relationer 60 % og Resultater 40 %",
        '• Det oversete hensyn, Stabilitet: "aftale faste rutiner for overlap"',
    ]


def test_summary_never_quotes_what_was_not_an_answer(model, savings):
    lines = coaching.summary_lines({**savings, "naeste_skridt": coaching.SKIPPED}, model, words)
    assert "Dit næste skridt" not in lines and coaching.SKIPPED not in lines


@pytest.mark.parametrize("question, concepts", [
    ("hvad er forskellen på relationer og resultater?", ["kvadranter:relationer", "kvadranter:resultater"]),
    ("balancen mellem hvilke ting?", ["balance"]),
    ("hvad er en sikker nok handlegrund", ["sikker_nok"]),
    ("hvad betyder naerhedsetik", ["etikker:naerhedsetik"]),
    ("hvad er lean", []),
])
def test_model_questions_find_their_concepts(model, question, concepts):
    assert coaching.find_concepts(question, model) == concepts


def test_a_consideration_the_leader_weighs_joins_the_picture(model, savings):
    stated = Weighting({}, ["fornyelse", "resultater"], [])
    new = coaching.with_weighted({**savings, "tilsidesat": ["fornyelse"]}, stated, model)
    assert [h["id"] for h in new["kvadranter"]] == ["resultater", "relationer", "fornyelse"]
    assert new["tilsidesat"] == []
    assert coaching.with_weighted(savings, Weighting(), model) is savings
