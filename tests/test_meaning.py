"""Meaning, not keywords (bot/meaning.py): what is set aside, talk about the conversation, the phrase to quote."""
import pytest

from bot.meaning import Reading, answer_phrase, key_phrase, set_aside_spans, strip_meta


def aside(text):
    return [text[s:e].lower() for s, e in set_aside_spans(text)]


@pytest.mark.parametrize("text, word", [
    ("Det handler ikke om penge. Det handler om, at vi mangler folk.", "penge"),
    ("nej, det drejer sig faktisk ikke så meget om budgettet", "budgettet"),
    ("Økonomien er sekundær her; det vigtige er at ingen går ned.", "økonomien"),
    ("pengene er ikke problemet, det er kulturen", "pengene"),
    ("Reglerne er ikke det vigtigste i den her sag", "reglerne"),
    ("det er ikke det vigtigste at spare, men at vi holder på folk", "spare"),
    ("Budgettet spiller ingen rolle lige nu", "budgettet"),
    ("nej, ikke økonomien, men reglerne", "økonomien"),
    ("mindre økonomi, mere trivsel", "økonomi"),
    ("vi gør det ikke for pengenes skyld", "penge"),
])
def test_set_aside_is_found(text, word):
    assert any(word in span for span in aside(text)), aside(text)


@pytest.mark.parametrize("text", [
    "vi har ikke penge til kurser, men folk vil gerne lære",
    "Der er ingen penge i budgettet til vikarer.",
    "Det handler ikke kun om penge, men også om kvaliteten.",
    "Vi skal spare, og trivslen er i bund.",
])
def test_scarcity_and_plain_statements_are_not_set_aside(text):
    assert aside(text) == []


def test_the_embedding_sees_the_message_without_what_was_set_aside():
    reading = Reading.of("Det handler ikke om penge. Det handler om tillid.")
    assert "penge" not in reading.masked and "tillid" in reading.masked


@pytest.mark.parametrize("text, left", [
    ("ved ikke rigtig hvad jeg skal skrive", ""),
    ("undskyld, det var ikke sådan ment, jeg er bare træt", "jeg er bare træt"),
    ("okay. Vi kunne bytte vagter på tværs af teams.", "Vi kunne bytte vagter på tværs af teams"),
    ("godt spørgsmål. Måske skal vi tale med forældrene.", "Måske skal vi tale med forældrene"),
])
def test_talk_about_the_conversation_is_dropped(text, left):
    assert strip_meta(text) == left


def test_key_phrase_is_the_clause_around_the_signal():
    text = ("Byrådet har besluttet, at vi skal spare 2 mio. på hjemmeplejen. Jeg er bekymret for trivslen i mine "
            "grupper, som allerede løber stærkt.")
    at = text.index("spare")
    assert key_phrase(text, at, at + 5) == "vi skal spare 2 mio. på hjemmeplejen"
    at = text.index("trivslen")
    assert key_phrase(text, at, at + 8) == "Jeg er bekymret for trivslen i mine grupper"


def test_key_phrase_stops_where_a_new_clause_begins_without_a_comma():
    text = "vi skal spare 3 mio i skolen næste år og lærerne er allerede pressede"
    at = text.index("spare")
    assert key_phrase(text, at, at + 5) == "vi skal spare 3 mio i skolen næste år"


@pytest.mark.parametrize("answer, phrase", [
    ("okay. Vi kunne lade de gamle og de nye tage vagterne sammen to og to.",
     "lade de gamle og de nye tage vagterne sammen to og to"),
    ("Vi kunne måske lave et lille forsøg med frivillige, der tager sig af gåture.",
     "lave et lille forsøg med frivillige, der tager sig af gåture"),
    ("jeg vil gerne kunne se dem i øjnene", "kunne se dem i øjnene"),
    ("hvis vi lukker en afdeling kan de andre måske prøve noget nyt",
     "hvis vi lukker en afdeling kan de andre måske prøve noget nyt"),
])
def test_answer_phrase_is_the_idea_without_hedges(answer, phrase):
    assert answer_phrase(answer) == phrase


@pytest.mark.parametrize("text, word", [
    ("Det er ikke pengene, der er problemet, det er at ingen tager ansvar.", "pengene"),
    ("det er ikke et spørgsmål om at spare, det er et spørgsmål om tillid", "spare"),
    ("Det er ikke fordi vi mangler penge.", "penge"),
    ("Jeg er ikke bekymret for tilsynet, men for stemningen.", "tilsynet"),
    ("Jeg tror ikke, det er økonomien, der står i vejen.", "økonomien"),
    ("Det er ikke budgettet, det er stemningen i gruppen.", "budgettet"),
])
def test_clefts_and_not_because_set_aside(text, word):
    assert any(word in span for span in aside(text)), aside(text)


@pytest.mark.parametrize("text", [
    "Det er ikke nemt at spare, når folk allerede løber stærkt.",
    "Der er ikke nok penge til vikarer.",
    "Det er ikke til at holde budgettet, når sygefraværet stiger.",
])
def test_hard_and_lacking_are_not_set_aside(text):
    assert aside(text) == []


def test_key_phrase_is_one_clause_of_a_list_of_clauses():
    text = "forældrene er rasende, lærerne er delte, nogle synes det er fint fagligt, andre synes det er et svigt"
    at = text.index("rasende")
    assert key_phrase(text, at, at + 7) == "forældrene er rasende"
    at = text.index("fagligt")
    assert key_phrase(text, at, at + 7) == "nogle synes det er fint fagligt"
