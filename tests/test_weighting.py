"""The leader's own weighting (bot/weighting.py), parsed from real phrasings without a trained model."""
import pytest

from bot.weighting import Weighting, correct, parse

DILEMMA = ["resultater", "relationer"]  # voiced, strongest first: savings against the staff's wellbeing


@pytest.mark.parametrize("text, voiced, weights, order, floors", [
    ("Lige nu 60/40 til økonomien, men trivslen må ikke glide helt ud.", DILEMMA,
     {"resultater": 60, "relationer": 40}, ["resultater", "relationer"], ["relationer"]),
    ("relationer 50, resultater 30 og fornyelse 20", DILEMMA,
     {"relationer": 50, "resultater": 30, "fornyelse": 20}, ["relationer", "resultater", "fornyelse"], []),
    ("Relationer 50, Resultater 30", DILEMMA, {"relationer": 50, "resultater": 30}, ["relationer", "resultater"], []),
    ("halvt om halvt", DILEMMA, {"resultater": 50, "relationer": 50}, ["resultater", "relationer"], []),
    ("50 % til medarbejderne, 30 % til budgettet og 20 % til nye idéer", [],
     {"relationer": 50, "resultater": 30, "fornyelse": 20}, ["relationer", "resultater", "fornyelse"], []),
    ("70 procent drift og 30 procent udvikling", ["stabilitet", "fornyelse"],
     {"stabilitet": 70, "fornyelse": 30}, ["stabilitet", "fornyelse"], []),
    ("hmm 70/30 til medarbejderne", ["relationer", "stabilitet", "resultater"],
     {"relationer": 70, "resultater": 30}, ["relationer", "resultater"], []),
    ("trivsel 70 og økonomi 30", [], {"relationer": 70, "resultater": 30}, ["relationer", "resultater"], []),
    ("80 % resultater", DILEMMA, {"resultater": 80}, ["resultater"], []),
    ("økonomien vejer tungest lige nu", ["relationer", "resultater"], {}, ["resultater"], []),
    ("mest trivsel lige nu", DILEMMA, {}, ["relationer"], []),
    ("trivslen betyder mere end økonomien", DILEMMA, {}, ["relationer", "resultater"], []),
    ("det er mere relationer end resultater", DILEMMA, {}, ["relationer", "resultater"], []),
    ("trivslen må ikke glide ud", DILEMMA, {}, [], ["relationer"]),
])
def test_stated_weightings(model, text, voiced, weights, order, floors):
    result = parse(text, voiced, model)
    assert (result.vaegte, result.orden, result.gulv) == (weights, order, floors)


@pytest.mark.parametrize("text", [
    "det vigtigste er at være ærlig over for mine folk",
    "Vi skal spare 1,5 mio. på ældreområdet",
    "vi har 3 uger til at finde en løsning",
    "",
])
def test_no_weighting_is_invented(model, text):
    result = parse(text, DILEMMA, model)
    assert result.form == "ingen" and result.to_slot() is None


def test_slot_round_trip_drops_unknown_ids():
    stored = {"vaegte": {"relationer": 60, "kaos": 40}, "orden": ["relationer", "kaos"], "gulv": ["resultater"]}
    assert Weighting.from_slot(stored) == Weighting({"relationer": 60}, ["relationer"], ["resultater"])
    assert Weighting.from_slot(None).form == "ingen"


def test_more_x_than_y_swaps_the_numbers(model):
    current = Weighting({"resultater": 60, "relationer": 40}, ["resultater", "relationer"], [])
    corrected = correct(current, "vægtningen passer ikke, det er mere relationer end resultater", model)
    assert corrected.vaegte == {"resultater": 40, "relationer": 60} and corrected.orden[0] == "relationer"


def test_a_consideration_moved_up_in_words_turns_the_numbers_into_an_order(model):
    current = Weighting({"relationer": 60, "resultater": 40}, ["relationer", "resultater"], [])
    corrected = correct(current, "vægtningen passer ikke, stabilitet fylder mere", model)
    assert corrected.vaegte == {} and corrected.orden == ["stabilitet", "relationer", "resultater"]


def test_new_numbers_replace_the_old(model):
    current = Weighting({}, ["resultater"], [])
    assert correct(current, "nej, 70/30 til trivslen", model).vaegte == {"relationer": 70, "resultater": 30}


def test_a_correction_without_weights_is_not_a_weighting(model):
    assert correct(Weighting({}, ["resultater"], []), "det passer ikke", model) is None
