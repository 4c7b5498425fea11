"""The review app in a real browser: Debian's headless Chromium through Playwright, the app served by waitress
on a free port. A coach logs in, filters the list, opens a transcript, adds a note and sees the organisation
charts. Any console error, page error, CSP violation, image that fails to draw or dialog (an escaped script
that ran after all) fails the test. Screenshots go to tests/artifacts/review/.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from bot.settings import load
from review.db import engine_for
from review.web import create_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "review"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (apt-get install chromium)")

CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture
def server(tmp_path):
    from review.bench import serve_in_thread
    from test_review_app import seed

    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = engine_for(url)
    info = seed(engine)
    settings = dataclasses.replace(load({"BALANCECOACH_STATE_DIR": str(tmp_path / "state"),
                                         "BALANCECOACH_DATABASE_URL": url}), review_secure_cookies=False)
    base_url, stop = serve_in_thread(create_app(settings, engine))
    yield base_url, info
    stop()
    engine.dispose()


def test_a_coach_reads_a_shared_conversation_in_a_browser(server):
    from playwright.sync_api import expect, sync_playwright

    base, info = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems, dialogs = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="da-DK")
            context.add_init_script(CSP_LISTENER)
            page = context.new_page()
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")  # left by navigating on
                    else problems.append(f"requestfailed: {r.url} {r.failure}"))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

            def check(name: str):
                page.wait_for_load_state("load")
                violations = page.evaluate("window.__csp || []")
                assert violations == [], (name, violations)
                broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                                       ".map(i => i.alt.slice(0, 40))")
                assert broken == [], (name, broken)
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

            page.goto(f"{base}/samtaler")
            expect(page).to_have_url(re.compile(r"/login"))
            check("01-login")
            page.get_by_label("Brugernavn").fill(info["brugere"]["coach"])
            page.get_by_label("Kodeord").fill(info["kodeord"])
            page.get_by_role("button", name="Log ind").click()
            expect(page).to_have_url(re.compile(r"/samtaler$"))
            expect(page.locator("table.samtaler tbody tr")).to_have_count(50)
            check("02-samtaler")

            page.get_by_label("Hensyn nævnt").select_option("relationer")
            page.get_by_label("Søg i ledernes ord").fill("økonomien")
            page.get_by_role("button", name="Vis samtaler").click()
            expect(page.locator("table.samtaler tbody tr")).to_have_count(1)
            expect(page.get_by_text("1 samtale matcher filtrene.")).to_be_visible()
            check("03-samtaler-filtreret")

            page.locator("table.samtaler tbody tr a").first.click()
            expect(page).to_have_url(re.compile(rf"/samtaler/{info['delt']}$"))
            expect(page.get_by_text("<script>alert(1)</script>", exact=False).first).to_be_visible()
            expect(page.locator(".tur-leder").first.get_by_text("beskriv_dilemma")).to_be_visible()
            expect(page.locator(".billede-lille img")).to_have_count(3)
            check("04-samtale")

            page.get_by_label("Ny note").fill("Følg op om budgettet <b>i næste uge</b>")
            page.get_by_role("button", name="Gem note").click()
            expect(page.get_by_text("Noten er gemt.")).to_be_visible()
            expect(page.locator(".note-tekst")).to_have_text("Følg op om budgettet <b>i næste uge</b>")
            page.get_by_label("Tilføj mærke").fill("opfølgning")
            page.get_by_role("button", name="Tilføj", exact=True).click()
            expect(page.locator("#maerker .chip")).to_have_text("opfølgning")
            check("05-samtale-med-note")

            page.get_by_role("link", name="Eksport til opfølgning").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Samtale")
            check("06-eksport")
            page.emulate_media(media="print")
            page.screenshot(path=str(ARTIFACTS / "06-eksport-print.png"), full_page=True)
            page.emulate_media(media="screen")

            page.goto(f"{base}/organisation?fra=2025-03-01&til=2025-03-31")
            expect(page.locator(".stort-tal")).to_have_text("12")
            expect(page.locator(".diagram svg")).to_have_count(10)
            check("07-organisation")
            page.get_by_label("Fra dato").fill("2024-01-01")
            page.get_by_role("button", name="Vis perioden").click()
            expect(page.locator(".stort-tal")).to_have_text("132")
            check("08-organisation-hele-perioden")

            page.get_by_role("button", name="Log ud").click()
            expect(page).to_have_url(re.compile(r"/login"))
            page.goto(f"{base}/samtaler/{info['delt']}")
            expect(page).to_have_url(re.compile(r"/login"))
        finally:
            browser.close()
    assert dialogs == [], dialogs
    assert problems == [], problems
