"""The review app through Flask's test client, on SQLite and on a fresh PostgreSQL database: login and roles,
CSRF, consent (withdrawn means gone at once), the audit log, list filters, search and paging, the transcript
(what the analysis heard, hostile text escaped), security headers, and the organisation figures with
small-group suppression.

The data comes from the `seeded_db` fixture: it yields (engine, info) where info names what was seeded. It
writes rows shaped like the bot's (bc_samtaler, bc_samtale_hensyn, Rasa's `events`); a fixture that seeds by
driving the real bot can replace it as long as it yields the same keys.
"""
from __future__ import annotations

import dataclasses
import json
import re
import time
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.picture import drawing
from bot.settings import load
from review.auth import hash_kodeord
from review.db import engine_for, upgrade
from review.models import Bruger, Note, Revision, Samtale, SamtaleHensyn, Samtykke
from review import organisation
from review.web import CSP, create_app
from review.web.transkript import events_table

KODEORD = "korrekt-hest-batteri-klips"
BRUGERE = {"coach": "coach1", "hr": "hr1", "admin": "admin1"}
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
ID_IN_LINK = re.compile(r'href="/samtaler/([0-9a-f]{32})"')
TODAY = date.today()


# --- Seeding ------------------------------------------------------------------------------------------------


def _postgres_up() -> bool:
    from conftest import POSTGRES_ADMIN

    try:
        engine = sa.create_engine(POSTGRES_ADMIN)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _hex(n: int) -> str:
    return f"{n:032x}"


class _Events:
    """Rasa `events` rows for one sender, timestamps one second apart."""

    def __init__(self, sender_id: str, start: float):
        self.sender_id, self.t, self.rows = sender_id, start, []

    def add(self, type_name, data, intent_name=None, action_name=None, at=None):
        self.t = at if at is not None else self.t + 1.0
        data = dict(data, event=type_name, timestamp=self.t)
        self.rows.append({"sender_id": self.sender_id, "type_name": type_name, "timestamp": self.t,
                          "intent_name": intent_name, "action_name": action_name,
                          "data": json.dumps(data, ensure_ascii=False)})
        return self

    def session_start(self, at):
        self.add("action", {"name": "action_session_start"}, action_name="action_session_start", at=at - 0.01)
        self.add("session_started", {}, at=at)
        return self.add("action", {"name": "action_listen"}, action_name="action_listen")

    def user(self, text, intent, confidence, balance=None):
        parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
                 "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": [],
                 "balance": balance or {}}
        return self.add("user", {"text": text, "parse_data": parse}, intent_name=intent)

    def bot(self, text):
        self.add("action", {"name": "utter_x"}, action_name="utter_x")
        return self.add("bot", {"text": text, "data": {}})

    def picture(self, value):
        return self.add("slot", {"name": "balancebillede", "value": value})


def _conversation(session, n, *, startet, deling="anonym", kanal="web", hensyn=(), negligeret=None,
                  vurdering=None, tekst=None, opsummering=False, sidste_trin="kortlaegning", belastning=False,
                  krise=False, kontakt=None, sender_id=None, session_start=None, leder_ture=3):
    samtale = Samtale(id=_hex(n), sender_id=sender_id, session_start=session_start, startet=startet,
                      senest=startet + timedelta(minutes=12), kanal=kanal, pseudonym=f"p{n:05d}",
                      leder_ture=leder_ture, rettelser=0, opsummering=opsummering, sidste_trin=sidste_trin,
                      belastning=belastning, krise=krise, negligeret=negligeret, deling=deling,
                      deling_tid=startet if deling != "nej" else None, kontakt=kontakt, vurdering=vurdering,
                      hjalp=None, tekst=tekst if deling != "nej" else None)
    session.add(samtale)
    for slags, navn in set(hensyn) | ({("overset", negligeret)} if negligeret else set()):
        session.add(SamtaleHensyn(samtale_id=samtale.id, slags=slags, navn=navn))
    return samtale


def seed(engine) -> dict:
    """Users, four hand-made conversations (one with a full Rasa transcript), and 120 more to page through."""
    upgrade(engine)
    events_table.create(engine, checkfirst=True)
    base = datetime(2025, 3, 10, 9, 0)
    t0 = base.timestamp()  # naive: any fixed number works for Rasa's float timestamps
    with Session(engine, future=True, expire_on_commit=False) as session:
        for rolle, navn in BRUGERE.items():
            session.add(Bruger(brugernavn=navn, navn=f"{rolle.title()} Testesen", rolle=rolle,
                               kodeord_hash=hash_kodeord(KODEORD), kilde="lokal", oprettet=datetime.utcnow()))
        shared = _conversation(
            session, 1, startet=base, sender_id="leder-a", session_start=t0, vurdering=4, opsummering=True,
            sidste_trin="opsummering", negligeret="fornyelse", belastning=True,
            hensyn={("kvadrant", "relationer"), ("kvadrant", "resultater"), ("etik", "naerhedsetik"),
                    ("borgersyn", "rettighedsbaerer"), ("linse", "etik"), ("linse", "oversaettelse")},
            tekst="Vi skal spare på Økonomien, og medarbejdernes trivsel. " + HOSTILE_SCRIPT)
        named = _conversation(session, 2, startet=base + timedelta(days=10), deling="navngivet", kanal="teams",
                              kontakt="[navn], ring på [telefon]", hensyn={("kvadrant", "stabilitet")},
                              negligeret="relationer", vurdering=2, tekst="Vagtplanen og driften halter.")
        private = _conversation(session, 3, startet=base + timedelta(days=1), deling="nej",
                                sender_id="leder-c", session_start=t0 + 86400,
                                hensyn={("kvadrant", "relationer")}, tekst="HEMMELIG tekst")
        wildcard = _conversation(session, 4, startet=base + timedelta(days=2), tekst="Jeg er 100% sikker på a_b.",
                                 hensyn={("kvadrant", "fornyelse")})
        decoy = _conversation(session, 5, startet=base + timedelta(days=3), tekst="Jeg er 1000 gange axb sikker.",
                              hensyn={("kvadrant", "fornyelse")}, krise=True)
        session.add(Samtykke(samtale_id=shared.id, valg="anonym", tidspunkt=base + timedelta(minutes=11)))
        bulk = []
        for i in range(120):
            bulk.append(_conversation(session, 1000 + i, startet=datetime(2024, 1, 1) + timedelta(hours=7 * i),
                                      hensyn={("kvadrant", "stabilitet")}, vurdering=5 if i % 2 else None,
                                      tekst=f"Almindelig samtale nummer {i}", opsummering=i % 3 == 0,
                                      sidste_trin="opsummering" if i % 3 == 0 else "svar_balance"))
        for i in range(7):  # unshared, counted by the organisation view only
            _conversation(session, 2000 + i, startet=base + timedelta(days=4, hours=i), deling="nej",
                          hensyn={("kvadrant", "resultater")}, opsummering=True, sidste_trin="opsummering")
        session.commit()

    a1 = drawing([{"id": "relationer", "signaler": ["medarbejdere", "trivsel"]}], "fornyelse")
    a2 = drawing([{"id": "relationer", "signaler": ["medarbejdere"]}, {"id": "resultater", "signaler": ["resultaterne"]}],
                 "fornyelse")
    a3 = drawing([{"id": "resultater", "signaler": ["resultaterne"]}], "fornyelse")
    e = _Events("leder-a", t0).session_start(t0)
    e.user("Vi skal spare på Økonomien, og jeg er bekymret for medarbejdernes trivsel. " + HOSTILE_SCRIPT,
           "beskriv_dilemma", 0.93,
           {"kvadranter": [{"id": "relationer", "navn": "Relationer", "score": 0.8,
                            "signaler": ["medarbejdere", "trivsel"], "citat": "medarbejdernes trivsel"}],
            "negligeret": "fornyelse", "etikker": ["naerhedsetik"], "borgersyn": ["rettighedsbaerer"],
            "roller": ["myndighed"], "t_ledelse": "soejle", "oversaettelse": True, "fremtid": False, "borgere": True,
            "tilsidesat": ["stabilitet"], "tegn": 90, "afkortet": False})
    e.bot("Jeg hører, at relationerne fylder for dig.").picture(a1)
    e.user(HOSTILE_IMG + " Nej, det handler mere om resultaterne", "korrigere_billede", 0.88,
           {"kvadranter": [{"id": "resultater", "score": 0.7, "signaler": ["resultaterne"]}]})
    e.picture(a2).bot("Tak, nu har jeg rettet billedet.")
    e.user("nej, relationerne er ikke med alligevel", "afkraefte", 0.77, {})
    e.picture(a3).bot("Her er din opsummering.")
    e.picture(a3)  # set again, unchanged: not a new picture
    e.add("action", {"name": "action_listen"}, action_name="action_listen")
    e.session_start(t0 + 5000)
    e.user("NY SESSION der ikke hører til samtalen", "beskriv_dilemma", 0.5)
    other = _Events("leder-c", t0 + 86400).session_start(t0 + 86400)
    other.user("HEMMELIG tekst", "beskriv_dilemma", 0.9).bot("Svar til den private samtale")
    with engine.begin() as connection:
        connection.execute(events_table.insert(), e.rows + other.rows)
    return {
        "delt": shared.id, "navngivet": named.id, "privat": private.id, "wildcard": wildcard.id,
        "decoy": decoy.id, "bulk": [b.id for b in bulk], "delte_i_alt": 4 + 120,
        "brugere": dict(BRUGERE), "kodeord": KODEORD,
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, fresh_database):
    if request.param == "postgresql" and not _postgres_up():
        pytest.skip("PostgreSQL kører ikke på 127.0.0.1:5432")
    return fresh_database(request.param)


@pytest.fixture
def seeded_db(database_url):
    engine = engine_for(database_url)
    info = seed(engine)
    yield engine, info
    engine.dispose()


def _settings(tmp_path, engine, **changes):
    env = {"BALANCECOACH_STATE_DIR": str(tmp_path / "state"),
           "BALANCECOACH_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "BALANCECOACH_REVIEW_SECURE_COOKIES": "0"}
    return dataclasses.replace(load(env), **changes)


@pytest.fixture
def app(seeded_db, tmp_path):
    engine, _info = seeded_db
    app = create_app(_settings(tmp_path, engine), engine)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def info(seeded_db):
    return seeded_db[1]


@pytest.fixture
def engine(seeded_db):
    return seeded_db[0]


def _token(client, path="/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, f"ingen CSRF-nøgle på {path}"
    return found.group(1)


def login(client, rolle: str):
    response = client.post("/login", data={"csrf_token": _token(client), "brugernavn": BRUGERE[rolle],
                                           "kodeord": KODEORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def coach(app):
    return login(app.test_client(), "coach")


def _ids(response) -> list:
    return ID_IN_LINK.findall(response.get_data(as_text=True))


def _audit(engine, handling=None):
    with Session(engine, future=True) as session:
        query = sa.select(Revision).order_by(Revision.id)
        if handling:
            query = query.where(Revision.handling == handling)
        return session.execute(query).scalars().all()


# --- Login, roles, CSRF -------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(app, info):
    client = app.test_client()
    for path in ("/", "/samtaler", f"/samtaler/{info['delt']}", f"/samtaler/{info['delt']}/eksport", "/organisation",
                 "/organisation.csv", "/revision", "/brugere"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path
    response = client.post(f"/samtaler/{info['delt']}/noter", data={"tekst": "x"})
    assert response.status_code == 400  # no CSRF token: refused before anything else


def test_wrong_password_gives_no_session_and_is_audited(app, engine):
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": _token(client), "brugernavn": "coach1",
                                           "kodeord": "forkert-kodeord-helt-sikkert"})
    assert response.status_code == 401
    assert "Forkert brugernavn eller kodeord" in response.get_data(as_text=True)
    assert client.get("/samtaler").status_code == 302
    refused = _audit(engine, "login_afvist")
    assert [r.bruger for r in refused] == ["coach1"]


def test_coach_cannot_reach_unshared_conversations_or_admin_pages(coach, info, engine):
    assert coach.get("/samtaler").status_code == 200
    for path in (f"/samtaler/{info['privat']}", f"/samtaler/{info['privat']}/eksport", f"/samtaler/{_hex(999999)}",
                 f"/samtaler/{_hex(999999)}/eksport", "/samtaler/..%2F..%2Fetc", "/samtaler/ABC"):
        assert coach.get(path).status_code == 404, path
    assert "HEMMELIG" not in coach.get("/samtaler?q=hemmelig").get_data(as_text=True)
    token = _token(coach, f"/samtaler/{info['delt']}")
    assert coach.post(f"/samtaler/{info['privat']}/noter", data={"csrf_token": token, "tekst": "x"}).status_code == 404
    assert coach.get("/revision").status_code == 403
    assert coach.get("/brugere").status_code == 403
    assert not any(r.samtale_id == info["privat"] for r in _audit(engine))


def test_hr_sees_its_own_pages_and_the_organisation_and_admin_sees_everything(app, info):
    hr = login(app.test_client(), "hr")
    assert hr.get("/").headers["Location"].endswith("/hr/")
    for path in ("/organisation", "/hr/", "/hr/model/", "/hr/viden/"):
        assert hr.get(path).status_code == 200, path
    for path in ("/samtaler", f"/samtaler/{info['delt']}", f"/samtaler/{info['delt']}/eksport", "/revision"):
        assert hr.get(path).status_code == 403, path
    admin = login(app.test_client(), "admin")
    for path in ("/samtaler", f"/samtaler/{info['delt']}", "/organisation", "/revision", "/brugere"):
        assert admin.get(path).status_code == 200, path
    assert admin.get(f"/samtaler/{info['privat']}").status_code == 404  # not even admins read unshared ones


def _hr_urls(app):
    """Every HR route, with made-up arguments: the role check comes before any lookup."""
    args = {"besked_id": 1, "kid": "k1", "afsnit": "kvadranter", "ident": "relationer"}
    with app.test_request_context():
        from flask import url_for

        return [(url_for(rule.endpoint, **{a: args[a] for a in rule.arguments}), rule.methods - {"HEAD", "OPTIONS"})
                for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in ("hr", "hr_model", "hr_viden")]


def test_a_coach_cannot_reach_any_hr_page(app, coach, info):
    urls = _hr_urls(app)
    assert len(urls) >= 10
    token = _token(coach, f"/samtaler/{info['delt']}")
    for url, methods in urls:
        if "GET" in methods:
            assert coach.get(url).status_code == 403, url
        if "POST" in methods:
            assert coach.post(url, data={"csrf_token": token, "handling": "maerk"}).status_code == 403, url
    anonymous = app.test_client()
    for url, methods in urls:
        if "GET" in methods:
            assert anonymous.get(url).status_code == 302, url


def test_post_without_csrf_token_is_refused(app, coach, info, engine):
    assert app.test_client().post("/login", data={"brugernavn": "coach1", "kodeord": KODEORD}).status_code == 400
    response = coach.post(f"/samtaler/{info['delt']}/noter", data={"tekst": "uden nøgle"})
    assert response.status_code == 400
    response = coach.post(f"/samtaler/{info['delt']}/noter", data={"tekst": "falsk nøgle", "csrf_token": "abc"})
    assert response.status_code == 400
    assert coach.post("/logout").status_code == 400
    with Session(engine, future=True) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Note)).scalar() == 0


def test_logout_ends_the_session(coach):
    token = _token(coach, "/samtaler")
    assert coach.post("/logout", data={"csrf_token": token}).status_code == 302
    assert coach.get("/samtaler").status_code == 302


def test_a_login_older_than_the_lifetime_is_refused_on_the_server(coach):
    with coach.session_transaction() as session:
        session["login_tid"] = time.time() - 481 * 60
    response = coach.get("/samtaler")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "udløbet" in coach.get("/login").get_data(as_text=True)


def test_login_redirects_only_to_this_site(app):
    client = app.test_client()
    for target, expected in (("/samtaler?kanal=web", "/samtaler?kanal=web"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        client = app.test_client()
        response = client.post("/login", data={"csrf_token": _token(client), "brugernavn": "coach1",
                                               "kodeord": KODEORD, "naeste": target})
        assert response.headers["Location"] == expected, target


def test_security_headers_and_cookie_flags(app, coach, info, engine, tmp_path):
    for path in ("/login", "/samtaler", f"/samtaler/{info['delt']}", "/organisation", "/static/review.css"):
        response = coach.get(path)
        assert response.headers["Content-Security-Policy"] == CSP, path
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        if not path.startswith("/static"):
            assert response.headers["Cache-Control"] == "no-store", path
        body = response.get_data(as_text=True)
        assert "<script" not in body and " style=" not in body and "<style" not in body, path
    secure_app = create_app(_settings(tmp_path, engine, review_secure_cookies=True), engine)
    client = secure_app.test_client()
    page = client.get("/login", base_url="https://review.example")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    # over HTTPS a browser sends no Referer (no-referrer) and Origin: null; the token is what counts
    response = client.post("/login", data={"csrf_token": token, "brugernavn": "coach1", "kodeord": KODEORD},
                           base_url="https://review.example", headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert client.get("/samtaler", base_url="https://review.example").status_code == 200


def test_posts_from_another_site_are_refused_even_with_a_token(coach, info, engine):
    url = f"/samtaler/{info['delt']}"
    token = _token(coach, url)
    assert coach.post(f"{url}/noter", data={"csrf_token": token, "tekst": "a"},
                      headers={"Sec-Fetch-Site": "cross-site"}).status_code == 400
    assert coach.post(f"{url}/noter", data={"csrf_token": token, "tekst": "b"},
                      headers={"Origin": "https://evil.example"}).status_code == 400
    assert coach.post(f"{url}/noter", data={"csrf_token": token, "tekst": "c"},
                      headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}).status_code == 302
    with Session(engine, future=True) as session:
        assert session.execute(sa.select(Note.tekst)).scalars().all() == ["c"]


# --- Consent and audit --------------------------------------------------------------------------------------------


def test_withdrawn_consent_hides_the_conversation_at_once(coach, info, engine):
    shared = info["delt"]
    assert shared in _ids(coach.get("/samtaler"))
    assert coach.get(f"/samtaler/{shared}").status_code == 200
    with engine.begin() as connection:
        connection.execute(sa.update(Samtale.__table__).where(Samtale.__table__.c.id == shared)
                           .values(deling="nej", tekst=None))
    assert shared not in _ids(coach.get("/samtaler"))
    assert coach.get(f"/samtaler/{shared}").status_code == 404
    assert coach.get(f"/samtaler/{shared}/eksport").status_code == 404
    assert coach.get(f"/samtaler/{shared}/eksport?noter=1").status_code == 404


def test_every_view_and_export_is_in_the_audit_log(app, coach, info, engine):
    coach.get(f"/samtaler/{info['delt']}")
    coach.get(f"/samtaler/{info['navngivet']}")
    coach.get(f"/samtaler/{info['delt']}/eksport")
    views = [(r.bruger, r.handling, r.samtale_id) for r in _audit(engine) if r.handling in ("vis_samtale", "eksport")]
    assert views == [("coach1", "vis_samtale", info["delt"]), ("coach1", "vis_samtale", info["navngivet"]),
                     ("coach1", "eksport", info["delt"])]
    assert [r.handling for r in _audit(engine)][:1] == ["login"]
    admin = login(app.test_client(), "admin")
    page = admin.get("/revision").get_data(as_text=True)
    assert "vis_samtale" in page and "eksport" in page and info["delt"] in page
    assert page.index("eksport") < page.index("vis_samtale")  # newest first
    assert "Delt anonymt" in page  # the bot's consent record


# --- The list --------------------------------------------------------------------------------------------------------


def _all_ids(client, query: str) -> list:
    ids, side = [], 1
    while True:
        response = client.get(f"/samtaler?{query}&side={side}")
        assert response.status_code == 200
        page = _ids(response)
        ids += page
        if "rel=\"next\"" not in response.get_data(as_text=True):
            return ids
        side += 1


def test_list_shows_only_shared_conversations_newest_first_in_pages_of_50(coach, info):
    first = coach.get("/samtaler")
    page1 = _ids(first)
    assert len(page1) == 50
    assert page1[0] == info["navngivet"]  # 20 March 2025, the newest
    assert f"{info['delte_i_alt']} samtaler" in first.get_data(as_text=True)
    everything = _all_ids(coach, "")
    assert len(everything) == len(set(everything)) == info["delte_i_alt"]
    assert info["privat"] not in everything
    last = coach.get("/samtaler?side=3")
    assert "Side 3 af 3" in last.get_data(as_text=True) and len(_ids(last)) == 24
    assert _ids(coach.get("/samtaler?side=99")) == _ids(last)  # past the end: the last page
    page = first.get_data(as_text=True)
    assert "[navn], ring på [telefon]" in page  # the named leader's contact, as they gave it


FILTER_CASES = [
    ("kvadrant=relationer", ["delt"]),
    ("kvadrant=resultater", ["delt"]),
    ("overset=relationer", ["navngivet"]),
    ("overset=fornyelse", ["delt"]),
    ("etik=naerhedsetik", ["delt"]),
    ("borgersyn=rettighedsbaerer", ["delt"]),
    ("kanal=teams", ["navngivet"]),
    ("vurdering=2", ["navngivet"]),
    ("vurdering=4", ["delt"]),
    ("fra=2025-03-11&til=2025-03-13", ["wildcard", "decoy"]),
    ("fra=2025-03-20&til=2025-03-20", ["navngivet"]),
    ("q=økonomien", ["delt"]),
    ("q=ØKONOMIEN", ["delt"]),
    ("q=100%25", ["wildcard"]),
    ("q=a_b", ["wildcard"]),
    ("q=hemmelig", []),
    ("q=script", ["delt"]),
    ("kvadrant=fornyelse&q=sikker", ["wildcard", "decoy"]),
    ("kvadrant=fornyelse&fra=2025-03-13", ["decoy"]),
    ("kvadrant=ukendt", "alle"),  # an unknown value is no filter
]


def test_list_filters_and_search(coach, info):
    for query, expected in FILTER_CASES:
        found = set(_all_ids(coach, query))
        if expected == "alle":
            assert len(found) == info["delte_i_alt"], query
        else:
            assert found == {info[k] for k in expected}, query


def test_a_list_page_takes_a_fixed_number_of_queries(coach, engine):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert len(_ids(coach.get("/samtaler?kvadrant=stabilitet"))) == 50
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # user, count, the page, its hensyn, its tags, the tag names for the filter: never one query per row
    assert len(statements) <= 7, statements
    assert sum("bc_samtale_hensyn" in s and "IN" in s for s in statements) == 1


def test_list_filters_by_rating_none_and_channel_across_pages(coach, info):
    assert len(_all_ids(coach, "vurdering=5")) == 60
    no_rating = set(_all_ids(coach, "vurdering=ingen"))
    assert len(no_rating) == 60 + 2 and info["wildcard"] in no_rating
    assert len(_all_ids(coach, "kanal=web&kvadrant=stabilitet")) == 120


# --- A conversation ----------------------------------------------------------------------------------------------------


def test_transcript_shows_what_the_analysis_heard_and_escapes_the_leader(coach, info):
    response = coach.get(f"/samtaler/{info['delt']}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert HOSTILE_SCRIPT not in page and HOSTILE_IMG not in page and "<script" not in page
    assert "beskriv_dilemma" in page and "93 %" in page
    assert "korrigere_billede" in page and "88 %" in page
    assert "Relationer" in page and "»medarbejdere«" in page and "»trivsel«" in page and "80 %" in page
    assert "Nærhedsetik" in page and "Rettighedsbærer" in page and "Fornyelse" in page and "Myndighed" in page
    assert "T-ledelse: Søjlen, Oversættelse, Borgerne" in page
    assert re.search(r"Sat til side:</span>\s*Stabilitet", page)
    assert page.count("Rettede coachen") == 2  # the correction, and the denial that changed the picture
    assert "Jeg hører, at relationerne fylder for dig." in page
    assert "NY SESSION" not in page and "HEMMELIG" not in page
    sources = re.findall(r'<img src="(/samtaler/[0-9a-f]{32}/billede/\d+\.svg)"', page)
    assert len(sources) == 4  # three versions, and the final one large, each its own request
    for source in sources:
        picture = coach.get(source)
        assert picture.status_code == 200 and picture.mimetype == "image/svg+xml"
        assert picture.get_data(as_text=True).lstrip().startswith(("<?xml", "<svg"))
    assert coach.get(f"/samtaler/{info['delt']}/billede/9.svg").status_code == 404
    assert coach.get(f"/samtaler/{info['privat']}/billede/0.svg").status_code == 404
    assert "Dit balancebillede" in page  # the picture's description as alt text
    assert "Oversættelse" in page and "Etikkerne" in page  # lenses by name


def test_export_is_printable_and_leaves_notes_out_unless_asked(coach, info, engine):
    token = _token(coach, f"/samtaler/{info['delt']}")
    coach.post(f"/samtaler/{info['delt']}/noter", data={"csrf_token": token, "tekst": "Følg op om budgettet"})
    plain = coach.get(f"/samtaler/{info['delt']}/eksport").get_data(as_text=True)
    assert "Her er din opsummering." in plain and "&lt;script&gt;" in plain
    assert "Følg op om budgettet" not in plain and "beskriv_dilemma" not in plain
    with_notes = coach.get(f"/samtaler/{info['delt']}/eksport?noter=1").get_data(as_text=True)
    assert "Følg op om budgettet" in with_notes
    assert [r.detaljer for r in _audit(engine, "eksport")] == [None, "med noter"]


def test_notes_and_tags(coach, info, engine):
    url = f"/samtaler/{info['delt']}"
    token = _token(coach, url)
    response = coach.post(f"{url}/noter", data={"csrf_token": token, "tekst": "Ring " + HOSTILE_IMG})
    assert response.status_code == 302
    page = coach.get(url).get_data(as_text=True)
    assert "Ring &lt;img src=x onerror=alert(1)&gt;" in page and "Noten er gemt." in page
    coach.post(f"{url}/maerker", data={"csrf_token": token, "navn": "  opfølgning   budget "})
    coach.post(f"{url}/maerker", data={"csrf_token": token, "navn": "opfølgning budget"})  # once only
    page = coach.get(url).get_data(as_text=True)
    assert page.count('<span class="chip">opfølgning budget</span>') == 1
    assert set(_all_ids(coach, "maerke=opf%C3%B8lgning+budget")) == {info["delt"]}
    maerke_id = re.search(r'/maerker/(\d+)/fjern', page).group(1)
    coach.post(f"{url}/maerker/{maerke_id}/fjern", data={"csrf_token": token})
    assert '<span class="chip">opfølgning budget</span>' not in coach.get(url).get_data(as_text=True)
    assert {"note", "maerke_tilfoejet", "maerke_fjernet"} <= {r.handling for r in _audit(engine)}


def test_a_conversation_whose_events_are_gone_still_opens(coach, info):
    page = coach.get(f"/samtaler/{info['navngivet']}").get_data(as_text=True)
    assert "findes ikke længere" in page and "[navn], ring på [telefon]" in page


# --- Organisation -----------------------------------------------------------------------------------------------------


def test_organisation_page_counts_every_conversation_and_suppresses_small_groups(app, info):
    hr = login(app.test_client(), "hr")
    response = hr.get("/organisation?fra=2025-03-01&til=2025-03-31")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # 4 shared + 1 unshared hand-made + 7 unshared = 12 conversations in March 2025
    assert '<span class="stort-tal">12</span>' in page
    assert "<svg" in page and "<5 (for få til at vise)" not in page  # the SVG escapes it
    assert "&lt;5 (for få til at vise)" in page
    assert "HEMMELIG" not in page and "p00001" not in page and "[navn]" not in page
    csv_text = hr.get("/organisation.csv?fra=2025-03-01&til=2025-03-31").get_data(as_text=True)
    rows = [line.split(";") for line in csv_text.lstrip("\ufeff").splitlines()]
    table = {(r[0], r[1]): r[2] for r in rows}
    assert table[("samtaler", "i alt")] == "12"
    assert table[("Hensyn lederne nævner", "Resultater")] == "8"  # the shared one and the 7 unshared ones
    assert table[("Hensyn lederne nævner", "Relationer")] == "<5"
    assert table[("Belastning og krise", "Krisespor")] == "<5"
    # 8 reached the summary and 4 did not: 4 is hidden, and 8 with it (12 - 8 would give 4 away)
    assert table[("Nåede opsummeringen", "Nåede opsummeringen")] == "<5"
    assert table[("Nåede opsummeringen", "Sluttede før opsummeringen")] == "<5"
    assert table[("Kanal", "Web")] == "<5" and table[("Kanal", "Teams")] == "<5"  # 11 and 1, the same way
    few = hr.get("/organisation?fra=2025-03-10&til=2025-03-11").get_data(as_text=True)
    assert "færre end 5 samtaler" in few and "<svg" not in few
    csv_few = hr.get("/organisation.csv?fra=2025-03-10&til=2025-03-11").get_data(as_text=True)
    assert "samtaler;i alt;<5" in csv_few and "Relationer" not in csv_few


def test_figures_suppress_small_groups_and_their_complements(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'org.db'}")
    upgrade(engine)
    day = datetime(2025, 5, 5, 8, 0)
    with Session(engine, future=True) as session:
        for n in range(12):
            _conversation(session, n + 1, startet=day + timedelta(hours=n), deling="nej",
                          hensyn={("kvadrant", "relationer")} | ({("kvadrant", "stabilitet")} if n < 3 else set())
                          | ({("linse", "etik")} if n < 6 else set()),
                          negligeret="fornyelse" if n < 5 else None, opsummering=n < 10,
                          sidste_trin="opsummering" if n < 7 else ("svar_balance" if n < 11 else "start"),
                          vurdering=5 if n < 6 else (4 if n < 11 else 1), krise=n == 0, belastning=n < 5)
        _conversation(session, 99, startet=datetime(2025, 5, 4, 21, 59), deling="nej")  # 4 May 23.59 in Denmark
        session.commit()
    with Session(engine, future=True) as session:
        f = organisation.figures(session, date(2025, 5, 5), date(2025, 5, 5))
        assert f.samtaler == 12 and not f.for_faa
        by = lambda rows: {r.noegle: r.antal for r in rows}  # noqa: E731
        assert by(f.kvadranter) == {"relationer": 12, "stabilitet": None, "fornyelse": None, "resultater": None}
        assert by(f.oversete)["fornyelse"] == 5
        assert by(f.linser) == {"etik": 6}
        assert by(f.ruter) == {"belastning": 5, "krise": None}
        # 10 reached the summary, 2 did not: 2 alone would be hidden but 12 - 10 gives it away, so both go
        assert by(f.opsummering) == {"ja": None, "nej": None}
        # ratings 5:6, 4:5, 1:1, none:0 -> 1 and the empty ones are hidden (together 1 < 5), then the smallest
        # visible one (4:5) too, so the hidden cells hold 6
        assert by(f.vurderinger) == {"1": None, "2": None, "3": None, "4": None, "5": 6, "ingen": None}
        # last steps 7 / 4 / 1 (and zeros): the hidden ones hold 5, so 7 can be shown
        assert by(f.trin)["opsummering"] == 7 and by(f.trin)["svar_balance"] is None and by(f.trin)["start"] is None
        assert [r.vist for r in f.ruter] == ["5", "<5"]
        text = organisation.csv_text(f)
        assert "samtaler;i alt;12" in text and "Belastning og krise;Krisespor;<5" in text
        assert organisation.figures(session, date(2025, 5, 4), date(2025, 5, 4)).for_faa
        wider = organisation.figures(session, date(2025, 5, 4), date(2025, 5, 5))
        assert wider.samtaler == 13
        four = organisation.figures(session, datetime(2025, 5, 5, 8), datetime(2025, 5, 5, 12))
        assert four.samtaler is None and four.kvadranter == [] and "samtaler;i alt;<5" in organisation.csv_text(four)
    engine.dispose()


def test_undertryk():
    assert [organisation.undertryk(n) for n in (0, 1, 4, 5, 6)] == [None, None, None, 5, 6]


def test_svg_bar_chart_is_plain_escaped_svg():
    svg = organisation.svg_bar_chart("Hensyn <b>&", [("Relationer", 12), ("<script>", None), ("Drift", 0)],
                                     ident="x y", note="12 samtaler")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<script" not in svg and "style=" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&lt;5 (for få til at vise)" in svg and "Hensyn &lt;b&gt;&amp;" in svg
    assert 'aria-labelledby="x-y-titel x-y-desc"' in svg
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg)  # well-formed


def test_add_user_command(tmp_path, monkeypatch, capsys):
    from review.__main__ import main

    url = f"sqlite:///{tmp_path / 'users.db'}"
    monkeypatch.setenv("BALANCECOACH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BALANCECOACH_DATABASE_URL", url)
    monkeypatch.setenv("BALANCECOACH_REVIEW_PASSWORD", "for-kort")
    assert main(["add-user", "Anna", "--rolle", "coach"]) == 2
    assert "mindst 12 tegn" in capsys.readouterr().err
    monkeypatch.setenv("BALANCECOACH_REVIEW_PASSWORD", KODEORD)
    assert main(["add-user", "Anna", "--rolle", "coach", "--navn", "Anna A."]) == 0
    assert main(["add-user", "anna", "--rolle", "admin"]) == 0
    engine = engine_for(url)
    with Session(engine, future=True) as session:
        users = session.execute(sa.select(Bruger)).scalars().all()
        assert [(u.brugernavn, u.rolle, u.navn, u.kilde) for u in users] == [("anna", "admin", "Anna A.", "lokal")]
        assert users[0].kodeord_hash.startswith("$argon2id$") and KODEORD not in users[0].kodeord_hash
    engine.dispose()


def test_bench_times_every_page_kind(tmp_path):
    from review import bench

    url = f"sqlite:///{tmp_path / 'bench.db'}"
    engine = engine_for(url)
    seed(engine)
    engine.dispose()
    figures = bench.run(url, tmp_path, n=2)
    assert figures["samtaler"] == 132 and figures["delte"] == 124
    for kind in ("liste", "liste_filtreret", "liste_soegning", "liste_dyb_side", "samtale", "organisation",
                 "organisation_csv"):
        assert figures[kind]["n"] == 2 and 0 < figures[kind]["p50_ms"] <= figures[kind]["p95_ms"], kind
