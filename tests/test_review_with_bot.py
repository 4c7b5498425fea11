"""The review app over conversations the real bot stored: ten scripted leaders (tests/leaders.py) talk to the
running coach over REST, on SQLite and on PostgreSQL; then coaches use the app through Flask's test client.
Every expectation is read from what the leaders chose and from the rows the bot wrote, never from rows the test
wrote itself."""
from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from ops import postgres
from ops.evaluation import isolated_settings
from ops.stack import Stack
from review.web import create_app
from tests.conftest import POSTGRES_ADMIN
from tests.leaders import LENDS, drive

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "en-lang-og-god-adgangskode"
SHARED = {"aeldre_anonym", "skole_navngivet", "fjendtlig_tekst", "jobcenter_anonym", "teknik_anonym"}
ID_IN_LINK = re.compile(r'href="/samtaler/([0-9a-f]{32})"')


def _database(kind: str, tmp) -> str:
    return f"sqlite:///{tmp / 'tracker.db'}" if kind == "sqlite" else postgres.create("bc_test", POSTGRES_ADMIN)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """(app, engine, leaders by name, conversation id by leader name): the bot's own storage, then the app."""
    tmp = tmp_path_factory.mktemp(f"review-{request.param}")
    url = _database(request.param, tmp)
    settings = isolated_settings(5835, 5885, tmp, BALANCECOACH_DATABASE_URL=url,
                                 BALANCECOACH_REVIEW_SECURE_COOKIES="0")
    with Stack(settings, log_dir=tmp / "logs", review=True) as stack:  # as `make run` starts it
        leaders = drive(stack)
        env = settings.child_env()
        for user, role in (("coach1", "coach"), ("hr1", "hr"), ("admin1", "admin")):
            subprocess.run([sys.executable, "-m", "review", "add-user", user, "--rolle", role],
                           env={**env, "BALANCECOACH_REVIEW_PASSWORD": PASSWORD}, check=True, capture_output=True)
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            ids = {sender: cid for cid, sender in connection.execute(sa.text("SELECT id, sender_id FROM bc_samtaler"))}
        by_name = {name: ids[leader.sender] for name, leader in leaders.items()}
        app = create_app(settings, engine)
        app.config["TESTING"] = True
        app.served_at, app.stack = stack.review_url, stack
        yield app, engine, leaders, by_name
        engine.dispose()
    postgres.drop(url, POSTGRES_ADMIN)


def login(app, user="coach1"):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"csrf_token": token, "brugernavn": user, "kodeord": PASSWORD})
    assert response.status_code == 302
    return client


def listed(client, **query) -> set:
    ids, page = set(), 1
    while True:
        response = client.get("/samtaler", query_string={**query, "side": page})
        assert response.status_code == 200
        found = set(ID_IN_LINK.findall(response.get_data(as_text=True)))
        if not found - ids:
            return ids
        ids |= found
        page += 1


def rows(engine, sql, **params):
    with engine.connect() as connection:
        return connection.execute(sa.text(sql), params).all()


def test_the_list_holds_exactly_what_leaders_shared(world):
    app, engine, leaders, by_name = world
    coach = login(app)
    assert listed(coach) == {by_name[n] for n in SHARED}
    page = coach.get("/samtaler").get_data(as_text=True)
    assert "Kirsten Dahl" in page, "the leader who chose to be named is shown with the contact she gave"
    pseudonyms = {p for (p,) in rows(engine, "SELECT pseudonym FROM bc_samtaler WHERE deling = 'anonym'")}
    assert pseudonyms and all(p in page for p in pseudonyms)
    for name in ("ikke_delt", "ubesvaret", "belastet", "krise", "trukket_tilbage"):
        for path in (f"/samtaler/{by_name[name]}", f"/samtaler/{by_name[name]}/eksport"):
            assert coach.get(path).status_code == 404, (name, path)


def test_filters_and_search_select_what_the_bot_heard(world):
    app, engine, leaders, by_name = world
    coach = login(app)
    shared = {by_name[n] for n in SHARED}
    for kind, parameter in (("kvadrant", "kvadrant"), ("overset", "overset"), ("etik", "etik")):
        names = {n for (n,) in rows(engine, "SELECT DISTINCT navn FROM bc_samtale_hensyn WHERE slags = :k", k=kind)}
        assert names, kind
        for name in names:
            expected = {cid for (cid,) in rows(engine, "SELECT samtale_id FROM bc_samtale_hensyn WHERE slags = :k "
                                                       "AND navn = :n", k=kind, n=name)} & shared
            assert listed(coach, **{parameter: name}) == expected, (kind, name)
    five = {by_name[n] for n in ("skole_navngivet", "teknik_anonym")}
    assert listed(coach, vurdering="5") == five
    assert listed(coach, q="forældrerådet") == {by_name["skole_navngivet"]}
    assert listed(coach, q="Kirsten") == set(), "what the leader wrote was redacted before it was stored"
    assert listed(coach, kanal="teams") == set()
    assert listed(coach, fra="2000-01-01", til="2000-12-31") == set()


def test_the_transcript_shows_the_turns_what_was_heard_and_escapes_the_leader(world):
    app, engine, leaders, by_name = world
    coach = login(app)
    page = coach.get(f"/samtaler/{by_name['aeldre_anonym']}").get_data(as_text=True)
    assert "[navn] er sygemeldt" in page and "Birgit" not in page
    assert "beskriv_dilemma" in page, "the intent of each leader turn"
    assert re.search(r"0[,.]\d\d|\d{1,3}\s?%", page), "with its confidence"
    assert "Resultater" in page and "Relationer" in page
    assert "Må en coach fra HR &amp; Organisation læse denne samtale?" in page, "the coach's own turns"
    assert re.search(r"<img src=\"(data:image/svg\+xml|/samtaler/)[^\"]*\"[^>]*alt=\"[^\"]+\"", page), "the balance picture"
    hostile = coach.get(f"/samtaler/{by_name['fjendtlig_tekst']}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile and "<script>alert" not in hostile
    assert "<img src=x" not in hostile
    audited = rows(engine, "SELECT bruger, handling, samtale_id FROM bc_revision WHERE handling = 'vis_samtale'")
    assert ("coach1", "vis_samtale", by_name["aeldre_anonym"]) in [tuple(r) for r in audited]


def test_organisation_figures_and_csv_count_every_conversation_and_hide_small_groups(world):
    app, engine, leaders, by_name = world
    coach = login(app)
    response = coach.get("/organisation.csv")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True)), delimiter=";"))
    cells = {(section, category): count for section, category, count in table[1:]}
    assert cells[("samtaler", "i alt")] == str(len(leaders)), "shared or not, every conversation is counted"
    voiced = dict(rows(engine, "SELECT navn, COUNT(*) FROM bc_samtale_hensyn WHERE slags = 'kvadrant' GROUP BY navn"))
    shown = {category: count for (section, category), count in cells.items() if section == "Hensyn lederne nævner"}
    assert len(shown) == 4
    for quadrant, count in voiced.items():
        name = next(c for c in shown if c.lower() == quadrant.lower())
        assert shown[name] == (str(count) if count >= 5 else "<5"), (quadrant, count)
    assert "<5" in cells.values(), "the crisis route (one leader) is hidden"
    summaries = rows(engine, "SELECT COUNT(*) FROM bc_samtaler WHERE opsummering")[0][0]
    reached = [v for (s, _), v in cells.items() if s == "Nåede opsummeringen"]
    others = len(leaders) - summaries
    # a split of the total hides its complement too, or the small cell could be found by subtraction
    assert reached == ([str(summaries), str(others)] if min(summaries, others) >= 5 else ["<5", "<5"])
    page = coach.get("/organisation").get_data(as_text=True)
    assert page.count("<svg") >= 4 and "Kirsten" not in page and "forældrerådet" not in page


def test_the_review_app_runs_beside_the_bot_with_safe_headers_and_cookies(world):
    import requests

    app, engine, leaders, by_name = world
    session = requests.Session()
    login_page = session.get(f"{app.served_at}/login", timeout=10)
    assert login_page.status_code == 200
    csp = login_page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text).group(1)
    refused = session.post(f"{app.served_at}/login", data={"brugernavn": "coach1", "kodeord": PASSWORD},
                           allow_redirects=False, timeout=10)
    assert refused.status_code == 400, "no CSRF token, no login"
    response = session.post(f"{app.served_at}/login", data={"csrf_token": token, "brugernavn": "coach1",
                                                            "kodeord": PASSWORD}, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    listing = session.get(f"{app.served_at}/samtaler", timeout=10)
    assert set(ID_IN_LINK.findall(listing.text)) == {by_name[n] for n in SHARED}


def test_a_withdrawal_in_the_chat_hides_the_conversation_from_the_coach_at_once(world):
    app, engine, leaders, by_name = world
    coach = login(app)
    leader = app.stack.conversation()
    for turn in ["Vi skal lægge to teams sammen, og begge teamledere vil gerne have stillingen.", "ja",
                 "spring til opsummeringen", "ja, uden mit navn"]:
        leader.say(turn)
    [(cid,)] = rows(engine, "SELECT id FROM bc_samtaler WHERE sender_id = :s", s=leader.sender)
    assert coach.get(f"/samtaler/{cid}").status_code == 200
    assert cid in listed(coach)
    reply = leader.say("træk mit samtykke tilbage")
    assert "trukket tilbage" in " ".join(r.get("text") or "" for r in reply)
    assert coach.get(f"/samtaler/{cid}").status_code == 404
    assert coach.get(f"/samtaler/{cid}/eksport").status_code == 404
    assert cid not in listed(coach)
    choices = [c for (c,) in rows(engine, "SELECT valg FROM bc_samtykker WHERE samtale_id = :c ORDER BY id", c=cid)]
    assert choices == ["anonym", "nej"], "both decisions are on record with their time"


BESKED_LINK = re.compile(r'href="/hr/beskeder/(\d+)"')


def _inbox_ids(client, status="ny") -> list:
    page = client.get("/hr/", query_string={"status": status})
    assert page.status_code == 200
    return [int(i) for i in BESKED_LINK.findall(page.get_data(as_text=True))]


def _lent(engine):
    return rows(engine, "SELECT b.id, b.tekst, s.sender_id, b.grunde, b.intent FROM bc_laeringsbeskeder b "
                        "JOIN bc_samtaler s ON s.id = b.samtale_id ORDER BY b.id")


def test_hr_sees_single_messages_only_from_leaders_who_lent_them(world):
    app, engine, leaders, by_name = world
    lenders = {leaders[name].sender for name in LENDS}
    stored = _lent(engine)
    assert stored and {sender for _, _, sender, _, _ in stored} == lenders, \
        "only the leader who said yes lends messages (the one who withdrew and the one who said no lend none)"
    texts = {text for _, text, _, _, _ in stored}
    lender = leaders["laaner_ud"]
    assert texts <= set(lender.turns) and lender.turns[0] in texts and lender.turns[1] in texts
    assert not texts & {"nej tak", "ja", "2", "spring over"}, "closing answers are never lent"
    hr = login(app, "hr1")
    shown = set(_inbox_ids(hr))
    assert shown and shown <= {i for i, *_ in stored}, "rated 2: every lent message of the conversation is in the inbox"
    page = hr.get("/hr/").get_data(as_text=True)
    for name, leader in leaders.items():
        if name not in LENDS:
            assert not any(turn in page for turn in leader.turns if len(turn) > 25), name
    assert "samtale lav" not in page and "/samtaler/" not in page, "HR never gets a way into the conversation"
    assert login(app).get("/hr/").status_code == 403, "a coach cannot reach HR's inbox"
    assert hr.get(f"/hr/beskeder/{max(i for i, *_ in stored) + 1000}").status_code == 404


def _label(client, besked_id: int, **form):
    page = client.get(f"/hr/beskeder/{besked_id}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(f"/hr/beskeder/{besked_id}", data={"csrf_token": token, **form})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_labels_export_as_valid_rasa_training_data_with_nothing_from_others(world, tmp_path):
    app, engine, leaders, by_name = world
    hr = login(app, "hr1")
    by_text = {text: i for i, text, *_ in _lent(engine)}
    lender = leaders["laaner_ud"]
    dilemma, vague, correction = lender.turns[0], lender.turns[1], lender.turns[2]
    _label(hr, by_text[dilemma], handling="maerk", intent="beskriv_dilemma", dilemma="1",
           kvadranter=["resultater", "fornyelse", "relationer"], etikker=["vitalitetsetik"], borgersyn=[])
    _label(hr, by_text[vague], handling="maerk", intent="usikker")
    if correction in by_text:
        _label(hr, by_text[correction], handling="afvis")
    assert by_text[dilemma] in _inbox_ids(hr, "maerket") and by_text[vague] in _inbox_ids(hr, "maerket")
    assert by_text[dilemma] not in _inbox_ids(hr, "ny")
    audit = [h for (h,) in rows(engine, "SELECT handling FROM bc_revision WHERE bruger = 'hr1'")]
    assert audit.count("hr_maerk") == 2

    import shutil

    import yaml

    from review import training

    project = tmp_path / "projekt"
    shutil.copytree(ROOT / "data", project / "data")
    env = {**app.stack.settings.child_env()}
    subprocess.run([sys.executable, "-m", "review", "export-training", "--data", str(project / "data")],
                   env=env, check=True, capture_output=True, cwd=ROOT)
    nlu = yaml.safe_load((project / "data" / training.NLU_FILE).read_text(encoding="utf-8"))
    examples = {block["intent"]: [line[2:] for line in block["examples"].splitlines()] for block in nlu["nlu"]}
    assert examples == {"beskriv_dilemma": [dilemma], "usikker": [vague]}
    dilemmas = yaml.safe_load((project / "data" / training.ANALYSIS_FILE).read_text(encoding="utf-8"))
    assert dilemmas == [{"tekst": dilemma, "kvadranter": ["fornyelse", "relationer", "resultater"],
                         "etikker": ["vitalitetsetik"], "borgersyn": [], "t": None, "oversaettelse": False,
                         "fremtid": False}]
    exported = (project / "data" / training.NLU_FILE).read_text(encoding="utf-8") + \
        (project / "data" / training.ANALYSIS_FILE).read_text(encoding="utf-8")
    for name, leader in leaders.items():
        if name not in LENDS:
            assert not any(turn in exported for turn in leader.turns if len(turn) > 12), name
    from bot import classifier

    assert dilemma in {e.tekst for e in classifier.load_examples(project / "data" / "analyse")}
    subprocess.run([sys.executable, "-m", "bot", "domain", "--out", str(tmp_path / "domain")], check=True,
                   capture_output=True, cwd=ROOT)
    validated = subprocess.run([str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate", "--fail-on-warnings",
                                "--domain", str(tmp_path / "domain"), "--data",
                                *[str(project / "data" / d) for d in ("nlu", "rules", "stories")]],
                               capture_output=True, text=True, cwd=ROOT)
    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]
