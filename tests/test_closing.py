"""The closing questions read in context (bot/closing.py): answers are answers, anything else is not."""
import pytest

from bot import closing


@pytest.mark.parametrize("text, expected", [
    ("ja", "anonym"), ("Ja gerne", "anonym"), ("okay", "anonym"), ("ja, uden mit navn", "anonym"),
    ("anonymt er fint", "anonym"), ("det må en coach gerne", "anonym"),
    ("ja med mit navn", "navngivet"), ("ja gerne, jeg vil gerne have en opfølgende samtale", "navngivet"),
    ("du må gerne kontakte mig", "navngivet"),
    ("nej", "nej"), ("nej tak", "nej"), ("helst ikke", "nej"), ("nej, den skal ikke deles", "nej"),
])
def test_sharing_answers(text, expected):
    assert closing.sharing(text) == expected


@pytest.mark.parametrize("text", [
    "nej, det handler mere om relationer end om resultater",
    "vægtningen passer ikke, det er mere relationer end resultater",
    "Vi skal spare 2 mio. og jeg ved ikke hvad jeg skal gøre",
    "ja, men jeg tænker også at økonomien betyder mere end jeg sagde",
    "farvel", "",
])
def test_what_is_not_a_sharing_answer_goes_to_the_coach(text):
    assert closing.sharing(text) is None


@pytest.mark.parametrize("text, expected", [
    ("4", "4"), ("4/5", "4"), ("3 ud af 5", "3"), ("fem", "5"), ("en 4'er", "4"), ("5 stjerner", "5"),
    ("spring over", closing.SKIPPED), ("nej tak", closing.SKIPPED),
    ("det var godt", None), ("vi har 14 borgere på venteliste og 3 pladser og ingen penge til flere", None),
    ("2027", None), ("7", None),
])
def test_rating_answers(text, expected):
    assert closing.rating(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("ja", "ja"), ("ja gerne", "ja"), ("ok", "ja"), ("fint med mig", "ja"), ("I må gerne bruge dem", "ja"),
    ("nej", "nej"), ("nej tak", "nej"), ("helst ikke", "nej"), ("spring over", "nej"),
    ("nej, det handler mere om relationer end om resultater", None), ("5", None), ("farvel", None), ("", None),
])
def test_learning_answers_are_yes_or_no_and_nothing_else(text, expected):
    """Consent to use the messages must be a clear yes; a correction or a rating is no answer at all."""
    assert closing.learning(text) == expected


def test_what_helped_is_one_trimmed_line_or_skipped():
    assert closing.helped("  at se   de fire hensyn\n samlet ") == "at se de fire hensyn samlet"
    assert closing.helped("spring over") == closing.SKIPPED
    assert len(closing.helped("x" * 2000)) == closing.MAX_HELPED_CHARS
    assert closing.helped("   ") is None
    for goodbye in ("tak", "farvel", "Tak for nu!", "mange tak for hjælpen", "hej hej"):
        assert closing.helped(goodbye) is None, "a goodbye is not what helped"


def test_the_questions_follow_each_other():
    assert closing.next_question("deling", "navngivet") == "kontakt"
    assert closing.next_question("deling", "nej") == "laering"
    assert closing.next_question("kontakt", "x") == "laering"
    assert closing.next_question("laering", "nej") == "vurdering"
    assert closing.next_question("vurdering", "4") == "hjalp"
    assert closing.next_question("hjalp", "x") is None
    assert closing.answer(None, "ja") is None
    assert closing.answer("deling", "ja") == ("deling", "anonym")


@pytest.mark.parametrize("text, expected", [
    ("hvad betyder det at en coach læser den?", True),
    ("hvem kan se den hvis jeg siger ja?", True),
    ("får min chef mit navn?", True),
    ("ja", False),
    ("hvad er pligtetik?", False),
    ("vægtningen passer ikke", False),
])
def test_a_question_about_sharing_while_it_is_asked_gets_the_privacy_answer(text, expected):
    assert closing.asks_about_sharing("deling", text) is expected
    assert closing.asks_about_sharing(None, text) is False
