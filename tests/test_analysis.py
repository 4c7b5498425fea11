"""The analysis on real Danish sentences (written for these tests, not taken from any evaluation set)."""
import pytest

from bot.lexicon import Lexicon
from bot.text import MAX_CHARS, clean, tokens


def ids(result):
    return [h.id for h in result.kvadranter]


def test_lemmas_reach_signal_words(model):
    text = "Trivslen blandt medarbejderne er presset, og vikarbudgettet er skåret."
    evidence = Lexicon(model).evidence(tokens(text), text)
    assert "trivslen" in [p.lower() for p in evidence["kvadranter"]["relationer"].phrases]
    assert "vikarbudgettet" in evidence["kvadranter"]["resultater"].phrases


def test_overlapping_patterns_count_once(model):
    text = "budgettet"
    evidence = Lexicon(model).evidence(tokens(text), text)
    assert evidence["kvadranter"]["resultater"].score == pytest.approx(1.0)


def test_savings_against_wellbeing(analyser):
    result = analyser.analyse(
        "Vi skal spare fire millioner på hjemmeplejen, og jeg kan mærke at trivslen i mine grupper allerede er i bund."
    )
    assert set(ids(result)) >= {"resultater", "relationer"}
    assert result.negligeret in {"stabilitet", "fornyelse"}
    heard = {h.id: h for h in result.kvadranter}
    assert any("spare" in s.lower() or "millioner" in s.lower() for s in heard["resultater"].signaler)
    assert any("trivsl" in s.lower() for s in heard["relationer"].signaler)
    assert "konsekvensetik" in result.etikker and "naerhedsetik" in result.etikker


def test_pilot_against_rules(analyser):
    result = analyser.analyse(
        "Vi vil gerne lave et forsøg med skærmbesøg i hjemmeplejen, men jeg er usikker på om det overholder "
        "reglerne om dokumentation og databeskyttelse."
    )
    assert {"fornyelse", "stabilitet"} <= set(ids(result))
    assert result.negligeret in {"relationer", "resultater"}


def test_neglected_is_the_diagonal_of_the_strongest(analyser):
    result = analyser.analyse("Budgettet skal overholdes, og vi skal nedbringe udgifterne med ti procent i år.")
    assert ids(result)[0] == "resultater"
    assert "relationer" not in ids(result)
    assert result.negligeret == "relationer"


def test_citizen_views_and_roles(analyser):
    result = analyser.analyse(
        "En borger har klaget over afgørelsen om hjælpemidler. Reglerne er klare, men hun er ensom og sårbar, "
        "og jeg kan se at afgørelsen rammer hende hårdt."
    )
    assert "rettighedsbaerer" in result.borgersyn
    assert "saarbart_medmenneske" in result.borgersyn
    assert "myndighed" in result.roller


def test_volunteers_are_co_creators(analyser):
    result = analyser.analyse(
        "Vi vil lave samskabelse med frivillige foreninger og borgerne i lokalområdet om et nyt mødested."
    )
    assert "aktiv_medskaber" in result.borgersyn
    assert "facilitator" in result.roller
    assert "fornyelse" in ids(result)


def test_chain_of_leaders_is_the_pillar(analyser):
    result = analyser.analyse(
        "Byrådet har besluttet at lukke to afdelinger, og jeg skal forklare mine medarbejdere hvorfor."
    )
    assert result.t_ledelse == "soejle"
    assert result.oversaettelse is True


def test_across_departments(analyser):
    result = analyser.analyse(
        "Vi skal samarbejde på tværs med de andre afdelinger om en fælles indsats, men ingen ved hvem der har ansvaret."
    )
    assert result.t_ledelse == "tvaers"


def test_future_creation(analyser):
    result = analyser.analyse(
        "Kommunen vil nå verdensmålene og skære CO2-udledningen, og jeg skal tænke bæredygtighed ind i driften."
    )
    assert result.fremtid is True


def test_greeting_hears_nothing(analyser):
    result = analyser.analyse("hej")
    assert result.kvadranter == [] and result.negligeret is None


def test_contract_keys_and_types(analyser):
    data = analyser.analyse("Vi mangler penge til kurser, og medarbejderne savner kompetenceudvikling.").to_dict()
    assert set(data) >= {"kvadranter", "negligeret", "etikker", "borgersyn", "roller", "t_ledelse", "oversaettelse", "fremtid"}
    assert set(data) >= {"tilsidesat", "borgere"}
    for heard in data["kvadranter"]:
        assert set(heard) == {"id", "navn", "score", "signaler", "citat"}
        assert 0.0 <= heard["score"] <= 1.0 and len(heard["citat"].split()) >= 2
    scores = [h["score"] for h in data["kvadranter"]]
    assert scores == sorted(scores, reverse=True)


def test_what_the_leader_sets_aside_is_not_heard_as_voiced(analyser):
    result = analyser.analyse("Det handler ikke om penge. Det handler om, at vi ikke kan få uddannede folk nok, "
                              "og at kvaliteten i plejen falder.")
    assert "resultater" not in ids(result) and result.tilsidesat == ["resultater"]
    assert result.negligeret != "resultater" and ids(result)
    downplayed = analyser.analyse("Økonomien er sekundær her; det vigtige er, at teamet ikke knækker.")
    assert "resultater" not in ids(downplayed) and "relationer" in ids(downplayed)


def test_scarcity_is_still_voiced(analyser):
    assert "resultater" in ids(analyser.analyse("Vi har ikke penge i budgettet til at sende folk på kursus."))


def test_talk_about_the_conversation_is_never_mirrored(analyser):
    for text in ("ved ikke helt hvad jeg skal skrive her", "undskyld, det var ikke sådan ment"):
        assert analyser.analyse(text).kvadranter == []


def test_quotes_are_the_phrase_that_carries_the_consideration(analyser):
    result = analyser.analyse("Direktionen har besluttet, at vi skal spare 3 mio. på plejecentrene. Jeg er bange "
                              "for, hvad det gør ved sygefraværet, som allerede er højt.")
    heard = {h.id: h.citat for h in result.kvadranter}
    assert heard["resultater"] == "vi skal spare 3 mio. på plejecentrene"
    assert "sygefraværet" in heard["relationer"] and len(heard["relationer"].split()) <= 12


def test_clean_caps_long_text_at_a_word_boundary():
    text = "trivsel " * 10000
    cleaned = clean(text)
    assert len(cleaned) <= MAX_CHARS and not cleaned.endswith("trivs")
    assert clean("a\x00b\x1b[31m c\u200b") == "a b [31m c"


def test_long_text_is_analysed_and_flagged(analyser):
    text = "Vi skal spare på budgettet, og trivslen daler. " * 2000
    result = analyser.analyse(text)
    assert result.afkortet is True and result.tegn <= MAX_CHARS
    assert {"resultater", "relationer"} <= set(ids(result))


def test_embedding_threads_are_set_per_calling_thread_and_give_the_same_vectors():
    import threading

    import numpy as np

    from bot.classifier import embed, embedding_threads

    text = ["Vi skal spare på plejecentret, og jeg er bange for trivslen."]
    seen = {}

    def worker():
        embedding_threads(1)
        seen["worker"] = embedding_threads()
        seen["vector"] = embed(text)

    before = embedding_threads()
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["worker"] == 1 and embedding_threads() == before
    assert np.allclose(seen["vector"], embed(text), atol=1e-5)


def test_training_embeddings_are_remembered_and_forgotten_after_three_trainings(monkeypatch, tmp_path):
    import numpy as np

    from bot import classifier

    monkeypatch.setenv("BALANCECOACH_EMBED_CACHE", str(tmp_path))
    texts = ["Vi skal spare på hjemmeplejen.", "Medarbejderne er slidte."]
    first = classifier.embed_for_training(texts, "proeve")
    assert np.allclose(first, classifier.embed(texts), atol=1e-4)
    calls = []
    monkeypatch.setattr(classifier, "embed", lambda batch: calls.append(list(batch)) or np.zeros((len(batch), 384)))
    again = classifier.embed_for_training(texts[::-1], "proeve")
    assert calls == [] and np.array_equal(again, first[::-1]), "known texts come from the cache, in order"
    for _ in range(3):  # three trainings without the second text
        classifier.embed_for_training(texts[:1], "proeve")
    classifier.embed_for_training(texts, "proeve")
    assert calls == [[texts[1]]], "a text left out of three trainings is embedded anew"
