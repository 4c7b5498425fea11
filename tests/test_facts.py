"""What a conversation amounted to (bot/facts.py), read from events shaped as Rasa stores them."""
from bot import closing, facts


def user(text, intent="svar_refleksion", t=1.0):
    return {"event": "user", "text": text, "timestamp": t, "parse_data": {"intent": {"name": intent}}}


def slot(name, value, t=1.0):
    return {"event": "slot", "name": name, "value": value, "timestamp": t}


def action(name, t=1.0):
    return {"event": "action", "name": name, "timestamp": t}


CONVERSATION = [
    action("action_session_start", 100.0),
    user("Vi skal spare, og [navn] er sygemeldt", "beskriv_dilemma", 101.0),
    slot("kvadranter", [{"id": "resultater"}, {"id": "relationer"}], 101.5),
    slot("negligeret", "fornyelse", 101.5),
    slot("etikker", ["omsorg"], 101.5),
    slot("borgersyn", ["medskaber"], 101.5),
    slot("requested_slot", "kortlaegning", 102.0),
    user("nej, det handler mere om relationer", "korrigere_billede", 103.0),
    slot("requested_slot", "svar_borgersyn", 104.0),
    user("jeg er helt kørt ned", "belastning", 105.0),
    slot("belastet", True, 105.5),
    slot("trin", "afsluttet", 106.0),
    user('/svare_afslutning{"deling": "navngivet"}', "svare_afslutning", 107.0),
    slot("deling", "navngivet", 107.5),
    user("[navn], [telefon]", "svare_afslutning", 108.0),
    slot("kontakt", "[navn], [telefon]", 108.5),
    user("4", "svare_afslutning", 109.0),
    slot("vurdering", "4", 109.5),
    user("at se de fire hensyn", "svare_afslutning", 110.0),
    slot("hjalp", "at se de fire hensyn", 110.5),
]


CONTACT = CONVERSATION[14]


def original(event):
    """The unredacted text the Rasa server holds for the turn being stored: here, the contact message's."""
    return "Mette Kjær, 21 43 65 87" if event is CONTACT else None


def test_a_whole_conversation_is_counted_without_its_words():
    f = facts.of_events("teams:t:a", CONVERSATION, original_of=original)
    assert f.kanal == "teams"
    assert f.leder_ture == 6  # the button press is not a turn the leader wrote
    assert f.rettelser == 1 and f.belastning and not f.krise
    assert f.opsummering and f.sidste_trin == "opsummering"
    assert f.negligeret == "fornyelse"
    assert f.hensyn == {("kvadrant", "resultater"), ("kvadrant", "relationer"), ("overset", "fornyelse"),
                        ("etik", "omsorg"), ("borgersyn", "medskaber"), ("linse", "borgersyn")}
    assert f.deling == "navngivet" and f.deling_valg[0][0] == "navngivet"
    assert f.kontakt == "Mette Kjær, 21 43 65 87" and not f.kontakt_gemt
    assert f.vurdering == 4 and f.hjalp == "at se de fire hensyn"
    assert "sygemeldt" in f.leder_tekst and "svare_afslutning" not in f.leder_tekst


def test_a_later_turn_does_not_replace_the_stored_contact_with_its_placeholders():
    f = facts.of_events("teams:t:a", CONVERSATION, original_of=lambda e: None)
    assert f.kontakt_gemt


def test_not_shared_keeps_no_text_and_no_contact():
    events = [e for e in CONVERSATION if not (e.get("name") in ("deling", "kontakt"))]
    f = facts.of_events("web-abc", events, original_of=original)
    assert f.kanal == "web" and f.deling == "nej" and f.leder_tekst == "" and f.kontakt is None


def test_withdrawal_is_the_last_word_and_skips_are_not_answers():
    events = CONVERSATION + [slot("deling", "nej", 120.0), slot("vurdering", closing.SKIPPED, 121.0),
                             slot("hjalp", closing.SKIPPED, 121.0)]
    f = facts.of_events("web-abc", events, original_of=original)
    assert f.deling == "nej" and [v for v, _ in f.deling_valg] == ["navngivet", "nej"]
    assert f.vurdering is None and f.hjalp is None and f.kontakt is None and f.leder_tekst == ""


def test_where_a_leader_stopped():
    start = CONVERSATION[:3]
    assert facts.of_events("web-a", start).sidste_trin == "dilemma"
    assert facts.of_events("web-a", CONVERSATION[:8]).sidste_trin == "kortlaegning"
    assert facts.of_events("web-a", [action("action_session_start", 1.0)]) is None


def test_a_withdrawn_named_share_keeps_no_contact():
    events = CONVERSATION + [slot("deling", "nej", 120.0)]
    f = facts.of_events("web-abc", events, original_of=lambda e: None)
    assert f.kontakt is None and not f.kontakt_gemt
