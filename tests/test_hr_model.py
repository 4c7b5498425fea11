"""HR's loop end to end, against a real running coach: a leader lends messages the coach misunderstood, HR labels
them and adds a signal word in the app, trains a candidate, sees it beside the running model, deploys it to the
running Rasa server (PUT /model) and rolls it back. Before that, a candidate trained from a deliberately damaged
data file is refused by the gate.

The review app runs under waitress on its own port over a copy of the project's data/ and bot/knowledge.yml,
so nothing here changes the checkout. The browser part is Debian's headless Chromium through Playwright;
screenshots go to tests/artifacts/hr/ (docs/billeder/hr-*.png in docs/hr.md are copies).
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import requests
import sqlalchemy as sa
import yaml

from ops.evaluation import TWIN, isolated_settings
from ops.stack import Stack
from review import udrulning
from review.db import engine_for
from review.web import create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "hr"
PASSWORD = "en-lang-og-god-adgangskode"

# Written for this test in a leader's voice: a dilemma whose new idea the coach does not hear, and a wish for
# another round that the coach takes as "skip to the summary". The leader lends the messages and rates it 2.
DILEMMA = "Vi skal finde 2 mio., og jeg overvejer et hackathon"
ANOTHER_ROUND = "kør en runde mere"
LENDER = [DILEMMA, "ja", ANOTHER_ROUND, "nej tak", "ja", "2", "spring over"]
NEW_WORD = "hackathon*"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from review.bench import serve_in_thread

    assert (TWIN / "nlu.tar.gz").exists(), "models/tvilling mangler: kør 'make test' (den bygger den)"
    tmp = tmp_path_factory.mktemp("hr-model")
    project = tmp / "projekt"
    for name in ("data", "bot/knowledge.yml", "config.yml", "domain.yml", "models/analyse.pkl"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, project / name)
    settings = isolated_settings(5865, 5915, tmp, BALANCECOACH_API="1", BALANCECOACH_REVIEW_SECURE_COOKIES="0")
    with Stack(settings, log_dir=tmp / "logs") as stack:
        conversation = stack.conversation()
        replies = [conversation.say(turn) for turn in LENDER]
        env = settings.child_env()
        for user, role in (("hr1", "hr"), ("coach1", "coach")):
            subprocess.run([sys.executable, "-m", "review", "add-user", user, "--rolle", role],
                           env={**env, "BALANCECOACH_REVIEW_PASSWORD": PASSWORD}, check=True, capture_output=True)
        engine = engine_for(settings.database_url)
        app = create_app(dataclasses.replace(settings, review_secure_cookies=False), engine, project=project)
        base_url, stop = serve_in_thread(app)
        yield dict(stack=stack, settings=settings, project=project, engine=engine, base=base_url, replies=replies,
                   state=settings.state_dir)
        stop()
        engine.dispose()


def parse(world, text: str) -> dict:
    """What the running server understands, through Rasa's own HTTP API (with the API secret)."""
    s = world["settings"]
    token = jwt.encode({"user": {"username": "test", "role": "admin"}, "exp": int(time.time()) + 60},
                       s.api_secret, algorithm="HS256")
    response = requests.post(f"{s.rasa_url}/model/parse", json={"text": text},
                             headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def heard(parsed: dict) -> list:
    return [h["id"] for h in (parsed.get("balance") or {}).get("kvadranter") or []]


def login(world, user="hr1") -> requests.Session:
    session = requests.Session()
    page = session.get(f"{world['base']}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(f"{world['base']}/login", data={"csrf_token": token, "brugernavn": user,
                                                            "kodeord": PASSWORD}, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    return session


def token_on(session, url) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=30).text).group(1)


def wait_for(world, kid: str, limit: float = 1200.0) -> dict:
    deadline = time.time() + limit
    while time.time() < deadline:
        status = udrulning.status(world["state"], kid)
        if status.get("faerdig") or status.get("fejl"):
            return status
        time.sleep(3)
    raise TimeoutError(f"kandidat {kid} blev ikke færdig: {udrulning.status(world['state'], kid)}")


def audit(world, handling: str) -> list:
    with world["engine"].connect() as c:
        return [dict(r._mapping) for r in c.execute(sa.text(
            "SELECT bruger, detaljer FROM bc_revision WHERE handling = :h ORDER BY id"), {"h": handling})]


def test_the_running_coach_misunderstands_before_anything_is_deployed(world):
    said = [" ".join(r.get("text") or "" for r in reply) for reply in world["replies"]]
    assert "Her er det, vi nåede" in said[2], "the wish for another round was taken as a skip to the summary"
    assert "Fornyelse" not in said[0]
    assert parse(world, ANOTHER_ROUND)["intent"]["name"] == "springe_til_opsummering"
    assert "fornyelse" not in heard(parse(world, DILEMMA))
    assert udrulning.running(world["state"]) == udrulning.BUILT


def _move_dilemmas_to_the_wrong_intent(nlu: Path) -> int:
    """The damage: two thirds of beskriv_dilemma's examples filed under svar_refleksion."""
    path = nlu / "dilemma.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    block = next(b for b in data["nlu"] if b.get("intent") == "beskriv_dilemma")
    lines = [line for line in block["examples"].splitlines() if line.strip()]
    moved, kept = lines[: len(lines) * 2 // 3], lines[len(lines) * 2 // 3:]
    block["examples"] = "\n".join(kept) + "\n"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (nlu / "skadet.yml").write_text('version: "3.1"\nnlu:\n- intent: svar_refleksion\n  examples: |\n'
                                    + "".join(f"  {line.strip()}\n".replace("  -", "    -") for line in moved),
                                    encoding="utf-8")
    return len(moved)


def test_a_candidate_from_damaged_data_is_refused_and_shows_why(world):
    hr = login(world)
    original = world["project"] / "data" / "nlu"
    backup = world["project"] / "nlu-backup"
    shutil.copytree(original, backup)
    try:
        assert _move_dilemmas_to_the_wrong_intent(original) > 50
        response = hr.post(f"{world['base']}/hr/model/kandidat",
                           data={"csrf_token": token_on(hr, f"{world['base']}/hr/model/")}, allow_redirects=False)
        assert response.status_code == 302
        kid = response.headers["Location"].rstrip("/").split("/")[-1]
        assert "<progress" in hr.get(f"{world['base']}/hr/model/kandidat/{kid}").text
        status = wait_for(world, kid)
    finally:
        shutil.rmtree(original)
        backup.rename(original)
    assert status.get("faerdig"), status
    report = json.loads((udrulning.candidate_dir(world["state"], kid) / "rapport.json").read_text())
    assert not report["godkendt"]
    assert any(line.startswith("intent_macro_f1") for line in report["afvisninger"]), report["afvisninger"]
    now, new = report["tal"]["nuvaerende"], report["tal"]["kandidat"]
    assert now["intent_macro_f1"] - new["intent_macro_f1"] > report["tolerance"]
    assert report["per_intent"]["kandidat"]["beskriv_dilemma"] < report["per_intent"]["nuvaerende"]["beskriv_dilemma"]
    assert not (udrulning.candidate_dir(world["state"], kid) / "model.tar.gz").exists(), \
        "a refused candidate is not built into an artifact"
    page = hr.get(f"{world['base']}/hr/model/kandidat/{kid}").text
    assert "Kandidaten kan ikke udrulles" in page and "intent_macro_f1" in page and "Udrul kandidaten" not in page
    assert f"{now['intent_macro_f1']:.3f}" in page and f"{new['intent_macro_f1']:.3f}" in page
    refused = hr.post(f"{world['base']}/hr/model/kandidat/{kid}/udrul",
                      data={"csrf_token": token_on(hr, f"{world['base']}/hr/model/kandidat/{kid}")})
    assert "Kandidaten er afvist" in refused.text
    assert udrulning.running(world["state"]) == udrulning.BUILT
    assert parse(world, ANOTHER_ROUND)["intent"]["name"] == "springe_til_opsummering", "the server kept its model"
    assert audit(world, "udrulning_afvist") and audit(world, "udrulning") == []
    coach = login(world, "coach1")
    assert coach.get(f"{world['base']}/hr/model/kandidat/{kid}").status_code == 403


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_hr_labels_edits_evaluates_deploys_and_rolls_back_in_a_browser(world):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base, problems = world["base"], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        try:
            page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="da-DK").new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.set_default_timeout(60_000)
            page.set_default_navigation_timeout(300_000)  # a deploy answers once the server has loaded the model

            def shot(name: str):
                page.wait_for_load_state("load")
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

            page.goto(f"{base}/login")
            page.get_by_label("Brugernavn").fill("hr1")
            page.get_by_label("Kodeord").fill(PASSWORD)
            page.get_by_role("button", name="Log ind").click()
            expect(page).to_have_url(re.compile(r"/hr/$"))
            expect(page.get_by_role("link", name=ANOTHER_ROUND)).to_be_visible()
            expect(page.get_by_role("link", name=DILEMMA)).to_be_visible()
            shot("01-indbakke")

            page.get_by_role("link", name=ANOTHER_ROUND).click()
            expect(page.locator(".besked-citat")).to_have_text(ANOTHER_ROUND)
            expect(page.locator(".fakta")).to_contain_text("springe_til_opsummering")
            page.get_by_label("Hensigt").select_option("fortsaette")
            page.get_by_label("Beskeden er et dilemma").uncheck()
            shot("02-maerk-besked")
            page.get_by_role("button", name="Gem mærkning").click()
            expect(page.locator(".beskeder")).to_contain_text("Mærket")

            page.get_by_role("link", name=DILEMMA).click()
            page.get_by_label("Hensigt").select_option("beskriv_dilemma")
            page.get_by_label("Beskeden er et dilemma").check()
            page.locator("input[name=kvadranter][value=fornyelse]").check()
            page.locator("input[name=kvadranter][value=resultater]").check()
            page.get_by_role("button", name="Gem mærkning").click()
            page.goto(f"{base}/hr/?status=maerket")
            expect(page.get_by_role("link", name=ANOTHER_ROUND)).to_be_visible()
            shot("03-maerkede")

            page.get_by_role("link", name="Balancemodellen").click()
            entry = page.locator("#kvadranter-fornyelse")
            entry.locator("summary").click()
            entry.get_by_label("Nyt signalord").fill(NEW_WORD)
            entry.get_by_role("button", name="Kontrollér og forhåndsvis").click()
            expect(page.locator("main")).to_contain_text("signalord tilføjet: hackathon*")
            expect(page.locator("table")).to_contain_text(DILEMMA, timeout=60_000)  # the preview analyses messages
            shot("04-forhaandsvisning")
            page.get_by_role("button", name="Gem ændringen").click()
            expect(page.locator(".beskeder")).to_contain_text("Gemt i bot/knowledge.yml")
            assert NEW_WORD in (world["project"] / "bot" / "knowledge.yml").read_text(encoding="utf-8")

            page.get_by_role("link", name="Model", exact=True).click()
            page.get_by_role("button", name="Træn en kandidat").click()
            expect(page.locator("progress")).to_be_visible()
            shot("05-traening")
            kid = page.url.rstrip("/").split("/")[-1]
            status = wait_for(world, kid)
            assert status.get("faerdig"), status
            page.reload()
            expect(page.locator(".udrulning-ja")).to_contain_text("kan udrulles")
            expect(page.locator("table.tal")).to_contain_text("HR's mærkede beskeder")
            shot("06-kandidat-side-om-side")
            report = json.loads((udrulning.candidate_dir(world["state"], kid) / "rapport.json").read_text())
            assert report["godkendt"] and report["eksporteret"] == {"eksempler": 2, "dilemmaer": 1}
            assert report["tal"]["kandidat"]["hr_intent_accuracy"] == 1.0
            assert report["tal"]["nuvaerende"]["hr_intent_accuracy"] < 1.0
            assert any(a["tekst"] == ANOTHER_ROUND and a["nu"] == "fortsaette" for a in report["aendret"])

            page.get_by_role("button", name="Udrul kandidaten").click()
            expect(page.locator(".beskeder")).to_contain_text("er udrullet", timeout=180_000)  # the server loads it
            shot("07-udrullet")
            assert parse(world, ANOTHER_ROUND)["intent"]["name"] == "fortsaette", "misunderstood before, not now"
            assert "fornyelse" in heard(parse(world, DILEMMA)), "the new signal word is heard after the deploy"
            reply = " ".join(r.get("text") or "" for r in world["stack"].conversation().say(DILEMMA))
            assert "Fornyelse" in reply and "hackathon" in reply, reply
            assert udrulning.running(world["state"]) == kid

            page.locator("form", has=page.locator("input[name=artefakt][value=bygget]")) \
                .get_by_role("button", name="Rul tilbage til denne").click()
            expect(page.locator(".beskeder")).to_contain_text("Rullet tilbage til bygget", timeout=180_000)
            shot("08-rullet-tilbage")
            assert parse(world, ANOTHER_ROUND)["intent"]["name"] == "springe_til_opsummering"
            assert "fornyelse" not in heard(parse(world, DILEMMA))
            assert problems == []
        finally:
            browser.close()
    deployed, rolled_back = audit(world, "udrulning"), audit(world, "tilbagerulning")
    assert [a["bruger"] for a in deployed] == ["hr1"] and json.loads(deployed[0]["detaljer"])["artefakt"] == kid
    assert json.loads(deployed[0]["detaljer"])["tal"]["hr_intent_accuracy"] == 1.0
    assert [a["bruger"] for a in rolled_back] == ["hr1"]
    assert udrulning.running(world["state"]) == udrulning.BUILT
    assert [h["handling"] for h in udrulning.history(world["state"])] == ["udrul", "rul_tilbage"]
