"""The web chat's files as the Rasa server serves them: strict CSP, nothing from another origin, no HTML sinks.

The channels run in a bare Sanic app registered the way `rasa run` registers them, so this needs no model;
tests/test_browser.py drives the same page in Chromium against the full coach.
"""
import hashlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
PORT = 5625
SERVER = """
import sys
from sanic import Sanic
from rasa.core.channels.channel import register
from channels.webchat import WebChatInput
from channels.teams import TeamsInput
app = Sanic("webchat_test")
register([WebChatInput.from_credentials(None), TeamsInput.from_credentials(None)], app, route="/webhooks/")
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""
OWN_FILES = ["static/widget.js", "static/widget.css", "static/side.css", "static/ikon.svg"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCECOACH_TEAMS_")}
    env["BALANCECOACH_STATE_DIR"] = str(tmp_path_factory.mktemp("webchat"))
    env["PYTHONPATH"] = str(ROOT)
    log = open(tmp_path_factory.mktemp("webchat-log") / "server.log", "wb")
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(PORT)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", PORT), timeout=0.5):
                break
        except OSError:
            assert process.poll() is None, "the test server stopped"
            assert time.time() < deadline, "the test server did not start"
            time.sleep(0.2)
    yield f"http://127.0.0.1:{PORT}"
    process.terminate()
    process.wait(timeout=20)


def get(server, path, **kw):
    return requests.get(f"{server}{path}", timeout=10, allow_redirects=False, **kw)


def directives(csp):
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}


def assert_secure_headers(response):
    csp = directives(response.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other origin
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "blob:"]  # the picture: fetched with the token, shown as a blob
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_is_danish_and_served_with_a_strict_csp(server):
    response = get(server, "/webhooks/webchat/")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert_secure_headers(response)
    assert '<html lang="da">' in response.text and "Balancecoach" in response.text
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", response.text, flags=re.S)
    assert scripts == [""], "one external script, nothing inline"
    assert re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', response.text) == ["static/widget.js"]
    assert not re.search(r"\son\w+=", response.text), "no inline event handlers"


def test_the_page_address_without_slash_redirects(server):
    response = get(server, "/webhooks/webchat")
    assert response.status_code in (301, 302) and response.headers["Location"] == "/webhooks/webchat/"


@pytest.mark.parametrize("path,kind", [
    ("/webhooks/webchat/static/widget.js", "text/javascript"),
    ("/webhooks/webchat/static/widget.css", "text/css"),
    ("/webhooks/webchat/static/side.css", "text/css"),
    ("/webhooks/webchat/static/ikon.svg", "image/svg+xml"),
    ("/webhooks/webchat/static/vendor/socket.io.min.js", "text/javascript"),
    ("/webhooks/webchat/tekster.json", "application/json"),
])
def test_every_file_is_served_with_its_type_and_the_csp(server, path, kind):
    response = get(server, path)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(kind)
    assert_secure_headers(response)


@pytest.mark.parametrize("path", [
    "/webhooks/webchat/static/../../credentials.yml",
    "/webhooks/webchat/static/%2e%2e/%2e%2e/credentials.yml",
    "/webhooks/webchat/static/..%2F..%2Fcredentials.yml",
    "/webhooks/webchat/static/vendor/README.md",
    "/webhooks/webchat/static/nope.js",
])
def test_nothing_outside_the_static_files_is_served(server, path):
    response = get(server, path)
    assert response.status_code == 404 and "rest:" not in response.text


def test_no_external_urls_in_the_page_and_our_files(server):
    texts = [get(server, "/webhooks/webchat/").text] + [(WEB / f).read_text(encoding="utf-8") for f in OWN_FILES]
    for text in texts:
        urls = re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[a-z]{2,}[^\s\"')]*", text)
        assert [u for u in urls if "w3.org/2000/svg" not in u] == []


def test_the_vendored_socketio_client_is_the_pinned_one():
    readme = (WEB / "static/vendor/README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((WEB / "static/vendor/socket.io.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in readme
    head = (WEB / "static/vendor/socket.io.min.js").read_text(encoding="utf-8")[:200]
    version = re.search(r"Socket\.IO v(4\.\d+\.\d+)", head).group(1)
    assert f"| {version} |" in readme


def test_the_widget_never_writes_html():
    code = (WEB / "static/widget.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "setTimeout(\"", "javascript:"):
        assert sink not in code, sink
    assert "textContent" in code


def test_every_danish_string_the_widget_uses_is_in_tekster_json(server):
    served = get(server, "/webhooks/webchat/tekster.json").json()
    code = (WEB / "static/widget.js").read_text(encoding="utf-8")
    used = set(re.findall(r"\bT\.([a-z_]+)", code))
    assert used and used <= set(served), used - set(served)
    assert served["start_forfra"] == "Start forfra"


def test_a_forged_host_header_cannot_widen_the_csp(server):
    response = get(server, "/webhooks/webchat/", headers={"Host": "evil.example; script-src *"})
    csp = directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"] and csp["connect-src"] == ["'self'"]


def test_teams_without_settings_answers_503_and_the_server_still_runs(server):
    response = requests.post(f"{server}/webhooks/teams/webhook", json={"type": "message", "text": "hej"}, timeout=10)
    assert response.status_code == 503
    assert get(server, "/webhooks/teams/").json() == {"status": "not configured"}
