"""Which lent messages reach HR and why (bot/learning.py), and how they are kept in step (review/record.py)."""
import pytest
import sqlalchemy as sa

from bot import facts as facts_module
from bot import learning
from review import db, record
from review.models import LaeringsBesked, Samtale


def said(text, intent, confidence, runner=None, runner_confidence=None, t=1.0, heard=()):
    ranking = [{"name": intent, "confidence": confidence}]
    if runner:
        ranking.append({"name": runner, "confidence": runner_confidence})
    return {"event": "user", "text": text, "timestamp": t,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking,
                           "balance": {"kvadranter": [{"id": q} for q in heard], "etikker": [], "borgersyn": []}}}


def slot(name, value, t=1.0):
    return {"event": "slot", "name": name, "value": value, "timestamp": t}


LENT = [
    said("vi skal skære i vikarbudgettet og folk er trætte", "beskriv_dilemma", 0.92, "svar_refleksion", 0.05,
         100.0, heard=("resultater", "relationer")),
    said("øh altså det der med vagtplanen du ved", "nlu_fallback", 0.45, "svar_refleksion", 0.3, 101.0),
    said("måske lidt af begge", "svar_refleksion", 0.41, "usikker", 0.38, 102.0),
    said("hele kommunen skal digitalisere postgangen", "beskriv_dilemma", 0.9, "svar_refleksion", 0.02, 103.0),
    said("nej, det handler mere om trivslen", "korrigere_billede", 0.88, "svar_refleksion", 0.1, 104.0),
    said("jeg er helt kørt ned", "belastning", 0.95, t=105.0),
    said("Hanne Lund, [telefon]", "svare_afslutning", 1.0, t=106.0),
    slot("laering", "ja", 106.5),
]


def test_each_lent_message_says_why_hr_should_look_at_it():
    messages = {m.tekst: m for m in learning.messages(LENT)}
    assert "jeg er helt kørt ned" not in messages, "a strained leader's words never reach HR"
    assert not any("Hanne" in t for t in messages), "closing answers (a contact may be in them) never reach HR"
    assert messages["vi skal skære i vikarbudgettet og folk er trætte"].grunde == []
    assert messages["øh altså det der med vagtplanen du ved"].grunde == ["fallback"]
    assert messages["måske lidt af begge"].grunde == ["usikker", "taet"]
    assert messages["hele kommunen skal digitalisere postgangen"].grunde == ["intet_hoert", "rettet"]
    assert messages["nej, det handler mere om trivslen"].grunde == ["rettelse"]
    first = messages["måske lidt af begge"]
    assert (first.intent, first.tillid, first.naestbedste, first.naestbedste_tillid) == (
        "svar_refleksion", 0.41, "usikker", 0.38)


def test_near_duplicates_share_a_group():
    a = learning.group_key("Vi skal spare 2 mio. på [navn]s afdeling!")
    b = learning.group_key("vi skal spare 3 mio på afdeling")
    assert learning.similar(a, b)
    assert not learning.similar(a, learning.group_key("medarbejderne er trætte af de nye regler"))


def test_only_a_yes_lends_the_messages():
    assert facts_module.of_events("web-a", LENT[:-1]).beskeder == []
    assert facts_module.of_events("web-a", LENT[:-1] + [slot("laering", "nej")]).beskeder == []
    assert len(facts_module.of_events("web-a", LENT).beskeder) == 5


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, fresh_database):
    engine = db.engine_for(fresh_database(request.param))
    db.upgrade(engine)
    yield engine
    engine.dispose()


def lent(engine):
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(sa.select(LaeringsBesked.__table__)
                                                    .order_by(LaeringsBesked.__table__.c.nr))]


def test_lent_messages_are_stored_kept_in_step_and_go_with_a_withdrawal(engine):
    before_correction = LENT[:4] + [slot("laering", "ja", 103.5)]
    with engine.begin() as c:
        record.record(c, "web-a", 100.0, facts_module.of_events("web-a", before_correction), "L-1")
    assert [(r["nr"], r["grunde"]) for r in lent(engine)] == [(1, ""), (2, "fallback"), (3, "usikker,taet"),
                                                               (4, "intet_hoert")]
    with engine.begin() as c:
        record.record(c, "web-a", 100.0, facts_module.of_events("web-a", LENT), "L-1", changed=set())
    rows = lent(engine)
    assert [(r["nr"], r["grunde"]) for r in rows][3:] == [(4, "intet_hoert,rettet"), (5, "rettelse")]
    assert rows[0]["hoert"] == '{"kvadranter": ["resultater", "relationer"], "etikker": [], "borgersyn": []}'
    with engine.begin() as c:  # another leader who said no lends nothing
        record.record(c, "web-b", 100.0, facts_module.of_events("web-b", LENT[:-1]), "L-2")
    assert {r["samtale_id"] for r in lent(engine)} == {
        sa_id for (sa_id,) in engine.connect().execute(sa.select(Samtale.id).where(Samtale.sender_id == "web-a"))}
    with engine.begin() as c:
        record.withdraw(c, "web-a", None)
    assert lent(engine) == []
    with engine.connect() as c:
        assert c.execute(sa.select(Samtale.laering).where(Samtale.sender_id == "web-a")).scalar() == "nej"


def test_retention_keeps_only_what_hr_labelled_and_deletion_keeps_nothing(engine):
    with engine.begin() as c:
        record.record(c, "web-a", 100.0, facts_module.of_events("web-a", LENT), "L-1")
        c.execute(sa.update(LaeringsBesked.__table__).where(LaeringsBesked.__table__.c.nr == 2)
                  .values(status="maerket", maerke_intent="svar_refleksion"))
    with engine.begin() as c:
        record.expire(c, "web-a", None)
    assert [r["nr"] for r in lent(engine)] == [2]
    with engine.begin() as c:
        record.record(c, "web-b", 100.0, facts_module.of_events("web-b", LENT), "L-2")
        record.forget(c, "web-b")
    assert [r["nr"] for r in lent(engine)] == [2]
