"""Turn understanding (bot/turns.py) without a trained model: what each kind of leader turn is taken for.

The phrasings are written for these tests in the way leaders write in a chat; none comes from an evaluation set.
"""
import pytest

from bot.turns import INTENT_OF_KIND, understand


@pytest.mark.parametrize("text, kind", [
    # questions about the model, also mid-way and very short
    ("hvad betyder både-og?", "model"),
    ("balancen mellem hvilke ting?", "model"),
    ("hvad mener du med hensyn?", "model"),
    ("hvad er en sikker nok handlegrund", "model"),
    ("forklar lige fremtidsskabelse", "model"),
    ("søjle??", "model"),
    # the coach's own question, in other words
    ("hvad mener du?", "uddybning"),
    ("det forstår jeg ikke helt", "uddybning"),
    ("kan du sige det på en anden måde", "uddybning"),
    ("hvorfor spørger du om det", "uddybning"),
    # advice
    ("giv mig nu bare et råd", "raad"),
    ("hvad synes du at jeg skal gøre?", "raad"),
    ("jeg spurgte hvad du selv ville gøre", "raad"),
    ("hvad anbefaler du", "raad"),
    ("kan du ikke bare sige det", "raad"),
    # skipping, fatigue, stop, going on
    ("kan vi springe til opsummeringen?", "springe"),
    ("lad os runde af", "springe"),
    ("giv mig den korte version", "springe"),
    ("jeg orker ikke flere spørgsmål, kan vi springe til slutningen", "traet"),
    ("jeg gider ikke flere spørgsmål", "traet"),
    ("jeg stopper her for i dag", "stop"),
    ("tak, men jeg vil gerne fortsætte lidt med dilemmaet", "fortsaette"),
    ("lad os komme videre", "fortsaette"),
    # not knowing
    ("det ved jeg ikke", "usikker"),
    ("ved ikke rigtig hvad jeg skal skrive", "usikker"),
    ("det er svært at sige højt", "usikker"),
    ("kan ikke rigtigt se noget nyt", "usikker"),
    ("har ingen idéer lige nu", "usikker"),
    ("ingen anelse", "usikker"),
    # corrections
    ("nej, det handler ikke om økonomien, men om reglerne", "korrektion"),
    ("billedet passer ikke, stabilitet fylder meget mere for mig", "korrektion"),
    ("vægtningen passer ikke, det er mere relationer end resultater", "korrektion"),
    ("du har ikke rettet noget", "korrektion"),
    ("det er ikke Relationer, det er Stabilitet", "korrektion"),
    # safety before everything
    ("jeg kan ikke mere, jeg er helt udbrændt", "belastning"),
    ("jeg er ærligt talt ved at være kørt helt ned", "belastning"),
    ("nogle dage har jeg mest lyst til at forsvinde helt", "krise"),
])
def test_clear_cues_decide_the_kind(text, kind):
    turn = understand(text, "svar_refleksion")
    assert turn.kind == kind, turn
    assert turn.intent == INTENT_OF_KIND[kind]


@pytest.mark.parametrize("text, intent", [
    ("Vi kunne lade de gamle og de nye tage vagterne sammen to og to.", "svar_refleksion"),
    ("kan ikke se at vi kan ansætte flere uden penge fra byrådet", "svar_refleksion"),
    ("jeg tager en snak med MED-udvalget på mandag", "svar_refleksion"),
    ("60/40 til økonomien", "svar_refleksion"),
    ("Det handler ikke om penge. Det handler om, at vi ikke kan få uddannet personale nok.", "beskriv_dilemma"),
    ("ja", "bekraefte"),
    ("nej ikke helt", "afkraefte"),
    ("er du en robot?", "bot_udfordring"),
    ("hvem kan læse det her?", "privatliv"),
])
def test_answers_and_the_classifiers_own_intents_stand(text, intent):
    turn = understand(text, intent)
    assert turn.intent == intent and turn.cue == "nlu", turn


def test_a_dilemma_that_ends_in_a_plea_for_advice_is_a_dilemma_first():
    text = ("Jeg har en medarbejder, der igen og igen kommer for sent, og kollegerne er begyndt at brokke sig "
            "over det. Hvad skal jeg gøre?")
    assert understand(text, "beskriv_dilemma", heard_considerations=2).intent == "beskriv_dilemma"
    assert understand("hvad skal jeg gøre?", "beskriv_dilemma").kind == "raad"


def test_a_long_dilemma_with_balance_in_it_is_not_a_model_question():
    text = "Hvordan balancerer jeg mellem at være tæt på mine folk og at være den, der træffer de svære valg om ressourcer?"
    assert understand(text, "beskriv_dilemma", heard_considerations=2).kind == "svar"


def test_drift_only_when_the_classifier_had_nothing_better():
    assert understand("hvornår lukker kantinen i dag?", "svar_refleksion").kind == "udenfor"
    assert understand("hvornår lukker kantinen i dag?", "nlu_fallback").kind == "udenfor"
    assert understand("hvem kan se det jeg skriver?", "privatliv").kind == "andet"
    assert understand("hvornår skal jeg sige det til dem?", "svar_refleksion").kind == "svar"


def test_buttons_keep_their_intent():
    assert understand("/korrigere_billede", "korrigere_billede").intent == "korrigere_billede"


@pytest.mark.parametrize("text, routed", [
    ("jeg tror relationerne vejer mest, 70/30", "svar_refleksion"),
    ("60 procent resultater", "svar_refleksion"),
    ("nej, relationer vejer mest", None),
    ("det passer ikke, stabilitet fylder mere", None),
])
def test_a_weighting_given_when_asked_for_is_an_answer_not_a_correction(text, routed):
    from bot.turns import weighing_when_asked

    assert weighing_when_asked(text, "korrigere_billede", "svar_balance") == routed
    assert weighing_when_asked(text, "korrigere_billede", "svar_negligeret") is None
