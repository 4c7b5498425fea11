"""The web chat in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

The coach is started by `ops.stack.Stack`, as `make run` starts it, and the tests use the page it serves at
/webhooks/webchat/ — or, for the intranet case, the one-line embed snippet from docs/kanaler.md on a page
of another origin. Screenshots go to artifacts/ (git-ignored), one of them at the summary.
Nothing is downloaded: Playwright drives /usr/bin/chromium (never `playwright install`).
"""
import re
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ops.evaluation import isolated_settings
from ops.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-dev-shm-usage"]
DILEMMA = "Vi skal spare 2 mio. på hjemmeplejen, og jeg er bekymret for trivslen i mine grupper."
ANSWERS = [
    "Vi kunne prøve en ny vagtplan sammen med medarbejderne og inddrage frivillige.",
    "Lige nu 60/40 til økonomien, men trivslen må ikke glide helt ud.",
    "Borgeren skal ses som et sårbart medmenneske, men også som en, der kan bidrage.",
    "Jeg skal have både teamlederne og MED-udvalget med og tale mere sammen på tværs.",
    "Jeg forklarer baggrunden på personalemødet i stedet for bare at melde tallet ud.",
    "Det gode er at være ærlig om, hvad vi ved, og hvad vi ikke ved endnu.",
    "Jeg tager en snak med MED-udvalget på mandag og beder om deres idéer.",
    "Jeg følger op om en måned.",
]
XSS = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>", '"><svg onload=alert(3)>']

INTRANET_PORT = 5690


@pytest.fixture(scope="module")
def coach(tmp_path_factory):
    state = tmp_path_factory.mktemp("browser")
    settings = isolated_settings(5605, 5655, state, BALANCECOACH_CORS_ORIGINS=f"http://localhost:{INTRANET_PORT}")
    with Stack(settings, log_dir=state / "logs") as stack:
        yield stack


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debians chromium mangler: apt-get install -y chromium (make install)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


class Chat:
    """One leader's browser tab on the chat page, with what the page complained about."""

    def __init__(self, browser, url, block=(), **context):
        self.context = browser.new_context(locale="da-DK", **context)
        for pattern in block:  # requests that fail, as behind a proxy that drops websockets
            self.context.route(pattern, lambda route: route.abort())
        self.page = self.context.new_page()
        self.dialogs, self.errors = [], []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.response = self.page.goto(url)
        self.wait_idle(self.entries())

    def close(self):
        self.context.close()

    def entries(self):
        return self.page.locator(".bc-log > *").count()

    def bot_texts(self):
        return [t.strip() for t in self.page.locator(".bc-bot .bc-text").all_inner_texts()]

    def user_texts(self):
        return [t.strip() for t in self.page.locator(".bc-user .bc-text").all_inner_texts()]

    def wait_idle(self, before, timeout=45):
        """Until a new entry has arrived and the typing indicator is gone (it lingers after the last one)."""
        deadline = time.time() + timeout
        while self.entries() <= before or self.page.locator(".bc-typing.bc-on").count():
            assert time.time() < deadline, f"no answer in {timeout} s; errors: {self.errors}"
            self.page.wait_for_timeout(100)

    def say(self, text):
        before = self.entries()
        self.page.fill("#bc-input", text)
        self.page.press("#bc-input", "Enter")
        self.wait_idle(before)
        return self.bot_texts()

    def to_summary(self, answers=ANSWERS):
        self.say(DILEMMA)
        self.say("ja")
        for answer in answers:
            if any("Her er din balance" in t for t in self.say(answer)):
                return
        raise AssertionError(f"no summary after {len(answers)} answers: {self.bot_texts()[-2:]}")

    def shot(self, name):
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


@pytest.fixture
def chat(browser, coach):
    opened = []

    def open_chat(url=None, block=(), **context):
        c = Chat(browser, url or f"{coach.url}/webhooks/webchat/", block, **context)
        opened.append(c)
        return c

    yield open_chat
    for c in opened:
        c.close()


def csp_violations(errors):
    return [e for e in errors if "Content Security Policy" in e or "Refused to" in e]


def assert_picture(page):
    """The picture is fetched by id with the conversation's token and shown from blob: URLs."""
    img = page.locator(".bc-picture img")
    img.scroll_into_view_if_needed()
    page.wait_for_function("() => { const i = document.querySelector('.bc-picture img');"
                           " return i && i.src && i.complete && i.naturalWidth > 0; }", timeout=20000)
    assert img.get_attribute("src").startswith("blob:")
    assert img.evaluate("i => i.complete && i.naturalWidth") > 300
    alt = img.get_attribute("alt")
    assert alt.startswith("Dit balancebillede.") and "overset" in alt
    links = page.locator(".bc-picture a[download]")
    page.wait_for_function("() => [...document.querySelectorAll('.bc-picture a[download]')].every(a => a.href)")
    assert [links.nth(i).get_attribute("download") for i in range(links.count())] == [
        "balancebillede.svg", "balancebillede.png"]
    assert links.nth(1).get_attribute("href").startswith("blob:")


def picture_file(page, base_url, kind):
    """The picture the page shows, fetched as the widget does: by id, with the conversation's token."""
    import requests

    saved = page.evaluate("() => JSON.parse(Object.values(sessionStorage)[0])")
    picture = [e for e in saved["entries"] if e["k"] == "p"][-1]["picture"]
    response = requests.get(f"{base_url}/webhooks/rest/billede/{picture['id']}.{kind}",
                            headers={"Authorization": f"Bearer {saved['token']}"}, timeout=30)
    assert response.status_code == 200
    return response


def test_a_leader_reaches_the_summary_with_the_balance_picture(chat, coach):
    c = chat()
    csp = c.response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert c.page.get_attribute("html", "data-balancecoach") == "socket"
    assert "chatbot" in c.bot_texts()[0]  # the coach greets on its own
    c.to_summary()
    assert_picture(c.page)
    alt = c.page.locator(".bc-picture img").get_attribute("alt")
    assert "Resultater: vægt 60 %" in alt and "Relationer: vægt 40 %" in alt, "the picture draws the leader's 60/40"
    assert "vægt 60 %" in picture_file(c.page, coach.url, "svg").text
    assert picture_file(c.page, coach.url, "png").content[:4] == b"\x89PNG"
    c.shot("webchat-opsummering")
    c.page.locator(".bc-picture").screenshot(path=str(ARTIFACTS / "webchat-balancebillede.png"))
    assert c.dialogs == [] and csp_violations(c.errors) == [] and c.errors == []

    # the same summary on a phone: no sideways scrolling, the picture fits, the field does not zoom
    c.page.set_viewport_size({"width": 375, "height": 740})
    c.page.wait_for_timeout(200)
    assert_picture(c.page)
    width = c.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], "no sideways scrolling on a phone"
    assert c.page.locator(".bc-picture img").evaluate("i => i.getBoundingClientRect().width") <= 375
    assert c.page.locator("#bc-input").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 16
    c.shot("webchat-opsummering-mobil")


def test_the_closing_is_answered_with_its_buttons(chat):
    c = chat()
    c.to_summary()
    assert "Må en coach fra HR & Organisation læse denne samtale?" in c.bot_texts()[-1]

    def click(title):
        before = c.entries()
        c.page.get_by_role("button", name=title, exact=True).last.click()
        c.wait_idle(before)
        return c.bot_texts()

    texts = click("Ja, uden mit navn")
    assert c.user_texts()[-1] == "Ja, uden mit navn", "the leader sees the button's words, not its payload"
    assert any("uden at se hvem du er" in t for t in texts[-2:]) and "lære mig at forstå dansk bedre" in texts[-1]
    texts = click("Ja, det må I gerne")
    assert any("HR kan nu se de af dine beskeder" in t for t in texts[-2:]) and "fra 1" in texts[-1]
    assert "hvad hjalp dig mest" in click("4")[-1]
    assert "Tak for samtalen" in click("Spring over")[-1]
    assert c.errors == []


def test_a_reload_keeps_the_conversation_and_it_continues(chat, coach):
    c = chat()
    c.say(DILEMMA)
    asked = c.say("ja")
    assert "Hvordan får vi da det hensyn med?" in asked[-1]
    before = (c.user_texts(), c.bot_texts())
    c.page.reload()
    c.page.wait_for_selector(".bc-bot")
    deadline = time.time() + 10
    while c.page.get_attribute("html", "data-balancecoach") is None and time.time() < deadline:
        c.page.wait_for_timeout(100)
    assert (c.user_texts(), c.bot_texts()) == before
    answered = c.say(ANSWERS[0])
    assert "Hvordan vil du vægte dem" in answered[-1], "the same conversation goes on at the next question"
    assert not any("chatbot" in t for t in answered[len(before[1]):])


def test_html_from_the_leader_is_shown_as_text(chat):
    c = chat()
    for payload in XSS:
        c.say(payload)
    assert c.user_texts() == XSS
    assert c.page.locator(".bc-log img[src='x'], .bc-log script, .bc-log svg").count() == 0
    assert c.page.evaluate("() => window.__xss === undefined")
    c.page.wait_for_timeout(300)
    assert c.dialogs == []
    c.shot("webchat-html-som-tekst")


def test_keyboard_only(chat):
    c = chat()
    page = c.page
    focused = lambda: page.evaluate("() => document.activeElement && (document.activeElement.id || document.activeElement.className)")  # noqa: E731
    order = []
    for _ in range(12):  # Tab from the top of the page to the message field
        page.keyboard.press("Tab")
        order.append(focused())
        if order[-1] == "bc-input":
            break
    assert order == ["bc-restart", "bc-log", "bc-input"], "focus order: header, conversation, field"
    page.keyboard.press("Tab")
    assert focused() == "bc-send"
    page.keyboard.press("Shift+Tab")
    before = c.entries()
    page.keyboard.type(DILEMMA)
    page.keyboard.press("Enter")
    c.wait_idle(before)
    assert c.user_texts()[-1] == DILEMMA
    assert focused() == "bc-input", "focus stays in the field after sending"
    for _ in range(6):  # back to the answer buttons, which come before the field
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.textContent") == "Ja, det rammer":
            break
    assert page.evaluate("() => document.activeElement.textContent") == "Ja, det rammer"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows a focus ring"
    before = c.entries()
    page.keyboard.press("Space")
    c.wait_idle(before)
    assert c.user_texts()[-1] == "Ja, det rammer"
    assert "Hvordan får vi da det hensyn med?" in c.bot_texts()[-1]
    assert page.locator(".bc-choice:not([disabled])").count() == 0, "used buttons are switched off"
    # screen-reader basics: a labelled field, a live log, a status for typing
    assert page.locator("label[for='bc-input']").inner_text() == "Skriv din besked til coachen"
    assert page.get_attribute(".bc-log", "aria-live") == "polite" and page.get_attribute(".bc-log", "role") == "log"
    assert page.get_attribute(".bc-typing", "role") == "status"


def test_start_forfra_clears_the_screen_and_the_coach_starts_over(chat):
    c = chat()
    c.say(DILEMMA)
    before = c.entries()
    c.page.click("text=Start forfra")
    deadline = time.time() + 30
    while not any("Vi starter forfra" in t for t in c.bot_texts()):
        assert time.time() < deadline
        c.page.wait_for_timeout(100)
    assert c.user_texts() == [] and c.entries() <= 2 and before > 2
    c.page.reload()
    c.page.wait_for_selector(".bc-bot")
    assert c.user_texts() == [] and any("Vi starter forfra" in t for t in c.bot_texts())


def test_without_socketio_the_widget_falls_back_to_rest(chat):
    c = chat(block=["**/socket.io/**", "**/vendor/socket.io.min.js"])
    assert c.page.get_attribute("html", "data-balancecoach") == "rest"
    assert "chatbot" in c.bot_texts()[0]
    c.to_summary()
    assert_picture(c.page)  # REST carries the picture's id in custom.data.balancebillede
    c.shot("webchat-rest-opsummering")


@pytest.fixture(scope="module")
def intranet():
    """Another origin on this machine (as an intranet server on the same network as the coach), configured in
    BALANCECOACH_CORS_ORIGINS."""
    pages = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", INTRANET_PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}", pages
    server.shutdown()


def test_one_script_tag_embeds_the_widget_on_another_intranet_page(browser, coach, intranet):
    snippet = re.search(r'^<script src="https://[^"]+/webhooks/webchat/static/widget\.js" defer></script>$',
                        (ROOT / "docs" / "kanaler.md").read_text(encoding="utf-8"), flags=re.M).group(0)
    snippet = re.sub(r'https://[^/"]+', coach.url, snippet)
    origin, pages = intranet
    pages["/ledelse.html"] = f"<!doctype html><html lang='da'><head><title>Intranet</title>{snippet}</head>" \
                             "<body><h1>Ledelse</h1><p>Vores intranet.</p></body></html>"
    context = browser.new_context(locale="da-DK")
    try:
        page = context.new_page()
        page.goto(f"{origin}/ledelse.html")
        launcher = page.locator(".bc-launcher")
        launcher.wait_for(timeout=20000)
        assert launcher.get_attribute("aria-expanded") == "false" and page.locator("#bc-panel").is_hidden()
        launcher.focus()
        page.keyboard.press("Enter")
        assert launcher.get_attribute("aria-expanded") == "true"
        page.locator(".bc-bot").first.wait_for(timeout=20000)
        assert "chatbot" in page.locator(".bc-bot .bc-text").first.inner_text()
        assert page.get_attribute("html", "data-balancecoach") == "socket", "socket.io across origins"
        assert page.evaluate("() => document.activeElement.id") == "bc-input"
        page.screenshot(path=str(ARTIFACTS / "webchat-indlejret.png"))
        page.keyboard.press("Escape")
        assert page.locator("#bc-panel").is_hidden()
        assert page.evaluate("() => document.activeElement.className") == "bc-launcher"
    finally:
        context.close()


CONTRAST = """
els => els.map(el => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                                      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  let bg = el, colour = null;
  while (bg) { const c = rgb(getComputedStyle(bg).backgroundColor); if (c.length === 3 || c[3] > 0) { colour = c; break; } bg = bg.parentElement; }
  const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(colour || [255, 255, 255])].sort((x, y) => y - x);
  return [el.className, (a + 0.05) / (b + 0.05)];
})
"""


def test_text_contrast_meets_wcag_aa(chat):
    c = chat()
    c.say(DILEMMA)
    selectors = [".bc-title", ".bc-subtitle", ".bc-restart", ".bc-bot .bc-text", ".bc-user .bc-text", ".bc-choice",
                 ".bc-send", ".bc-status", ".bc-input"]
    ratios = c.page.locator(", ".join(selectors)).evaluate_all(CONTRAST)
    assert len(ratios) >= len(selectors)
    assert all(ratio >= 4.5 for _, ratio in ratios), ratios


def stored(page):
    """Everything the page keeps in the browser's storage, as text."""
    return page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")


def test_slet_mine_data_clears_the_browser_too_and_a_reload_starts_fresh(chat):
    c = chat()
    c.say(DILEMMA)
    assert "hjemmeplejen" in stored(c.page)
    sender = c.page.evaluate("() => JSON.parse(Object.values(sessionStorage)[0]).sender")
    asked = c.say("slet mine data")
    assert "slette hele samtalen" in asked[-1]
    before = c.entries()
    c.page.click("text=Ja, slet samtalen")
    deadline = time.time() + 30
    # Over socket.io the reply's text comes a moment before its data saying the conversation is gone, so the
    # text can show above the old messages until the widget clears them; what must hold is where it ends.
    while not (any("Samtalen er slettet" in t for t in c.bot_texts()) and c.user_texts() == []):
        assert time.time() < deadline, (c.user_texts(), c.bot_texts())
        c.page.wait_for_timeout(100)
    assert c.user_texts() == [] and c.bot_texts() == [t for t in c.bot_texts() if "Samtalen er slettet" in t]
    assert before > 2 and "hjemmeplejen" not in stored(c.page)
    c.page.wait_for_function("() => Object.values(sessionStorage).some(v => JSON.parse(v).sender)")
    assert c.page.evaluate("() => JSON.parse(Object.values(sessionStorage)[0]).sender") != sender
    c.shot("webchat-slettet")
    c.page.reload()
    c.page.wait_for_selector(".bc-bot")
    c.page.wait_for_timeout(500)
    assert c.user_texts() == [] and "hjemmeplejen" not in " ".join(c.bot_texts())
    assert "chatbot" in c.bot_texts()[0], "after a reload the coach greets a new conversation"
    assert "Jeg hører" in c.say(DILEMMA)[-2], "and the new conversation works"


def test_a_new_browser_context_shows_nothing_of_an_earlier_leader(chat):
    first = chat()
    first.say(DILEMMA)
    assert "hjemmeplejen" in " ".join(first.user_texts())
    assert "hjemmeplejen" not in first.page.evaluate("() => JSON.stringify(Object.entries(localStorage))")
    second = chat()
    assert "hjemmeplejen" not in " ".join(second.user_texts() + second.bot_texts())
    assert "hjemmeplejen" not in stored(second.page)
    tab = first.context.new_page()  # sessionStorage is per tab: another tab of the same browser starts fresh
    tab.goto(first.page.url)
    tab.wait_for_selector(".bc-bot")
    assert "hjemmeplejen" not in " ".join(tab.locator(".bc-text").all_inner_texts())
