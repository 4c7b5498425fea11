"""The running coach attacked from outside, as a stranger would: another leader's conversation id without its
token, the HTTP API without its secret, a foreign web origin, the action server from the network, and hostile
input at every entry point. Every attack is judged by what the database holds before and after."""
import asyncio
import json
import socket
import sqlite3
import threading
import time
import uuid

import jwt
import pytest
import requests
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from ops.evaluation import isolated_settings
from bot.identity import Issuer
from ops.stack import Stack

DILEMMA = "Vi skal spare to millioner på ældreområdet, og jeg er bekymret for trivslen blandt medarbejderne."
INTRANET = "https://intranet.herning.dk"


@pytest.fixture(scope="module")
def coach(tmp_path_factory):
    state = tmp_path_factory.mktemp("security")
    settings = isolated_settings(5805, 5855, state, BALANCECOACH_API="1", BALANCECOACH_CORS_ORIGINS=INTRANET,
                                 BALANCECOACH_SESSIONS_PER_MINUTE="60")
    with Stack(settings, log_dir=state / "logs") as stack:
        stack.db = state / "tracker.db"
        yield stack


@pytest.fixture(scope="module")
def victim(coach):
    """A leader in the middle of a reflection, with a picture, whose id an attacker has learned."""
    conversation = coach.conversation()
    for message in (DILEMMA, "ja", "vis opsummeringen"):
        conversation.say(message)
    return conversation


def events(coach, sender=None):
    with sqlite3.connect(coach.db) as db:
        if sender is None:
            return db.execute("select count(*) from events").fetchone()[0]
        return db.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0]


def post(coach, body, headers=None, path="/webhooks/rest/webhook", raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(f"{coach.url}{path}", data=data,
                         headers={"Content-Type": "application/json", **(headers or {})}, timeout=60)


def texts(response):
    return " ".join(m.get("text") or "" for m in response.json())


def healthy(coach):
    return requests.get(f"{coach.url}/", timeout=10).status_code == 200


# --- identity -------------------------------------------------------------------------------------------------

def test_a_conversation_starts_with_an_unguessable_id_and_a_token(coach):
    first, second = coach.conversation(), coach.conversation()
    assert first.sender != second.sender and first.sender.startswith("web-") and len(first.sender) == 36
    assert first.token != second.token


def forged_tokens(coach, victim):
    secret = (coach.settings.state_dir / "session_secret").read_text()
    stale = Issuer(secret, 60, clock=lambda: time.time() - 7200)
    return {
        "no token": {},
        "not bearer": {"Authorization": f"Basic {victim.token}"},
        "wrong secret": {"Authorization": "Bearer " + jwt.encode(
            {"sub": victim.sender, "exp": int(time.time()) + 600, "iat": int(time.time()),
             "iss": "balancecoach", "aud": "balancecoach-samtale"}, "x" * 48, algorithm="HS256")},
        "unsigned": {"Authorization": "Bearer " + jwt.encode({"sub": victim.sender}, None, algorithm="none")},
        "expired": {"Authorization": f"Bearer {stale.issue()[1]}"},
        "garbage": {"Authorization": "Bearer abc.def.ghi"},
    }


@pytest.mark.parametrize("message", ["vis opsummeringen", "slet mine data", "ja", "Jeg skriver i din samtale"])
def test_rest_without_the_victims_token_reads_and_changes_nothing(coach, victim, message):
    before = events(coach, victim.sender)
    attacker = coach.conversation()
    for name, headers in forged_tokens(coach, victim).items():
        response = post(coach, {"sender": victim.sender, "message": message}, headers)
        assert response.status_code == 401, name
        assert "millioner" not in response.text and "trivslen" not in response.text
    response = post(coach, {"sender": victim.sender, "message": message}, attacker.headers)
    assert response.status_code == 403 and "trivslen" not in response.text
    assert events(coach, victim.sender) == before
    assert events(coach, attacker.sender) == 0


def test_the_picture_is_the_conversations_own(coach, victim):
    replies = victim.say("vis opsummeringen")
    picture = next(r["custom"]["data"]["balancebillede"] for r in replies if r.get("custom"))
    assert "svg" not in picture and "png" not in picture
    url = f"{coach.url}/webhooks/rest/billede/{picture['id']}"
    own = requests.get(url + ".svg", headers=victim.headers, timeout=30)
    assert own.status_code == 200 and own.headers["Content-Type"].startswith("image/svg+xml")
    assert "Relationer" in own.text
    assert requests.get(url + ".png", headers=victim.headers, timeout=30).content[:4] == b"\x89PNG"
    assert requests.get(url + ".svg", timeout=30).status_code == 401
    assert requests.get(url + ".svg", headers=coach.conversation().headers, timeout=30).status_code == 404


def test_showing_the_summary_again_stores_no_image_and_no_second_picture(coach, victim):
    before = events(coach, victim.sender)
    victim.say("vis opsummeringen")
    with sqlite3.connect(coach.db) as db:
        rows = db.execute("select data from events where sender_id = ? order by id", (victim.sender,)).fetchall()
    new = [json.loads(data) for (data,) in rows[before:]]
    assert not any(e.get("event") == "slot" and e.get("name") == "balancebillede" for e in new)
    stored = "".join(data for (data,) in rows)
    assert "PHN2Zy" not in stored and "iVBORw0KGgo" not in stored  # base64 of "<svg" and of a PNG header
    assert max(len(data) for (data,) in rows) < 8000


def socket_attempt(coach, session_request, message):
    """What an attacker's socket.io client receives after a session request and one message."""
    import socketio

    async def attack():
        received = []
        client = socketio.AsyncClient(reconnection=False)
        for name in ("session_confirm", "session_refused", "bot_uttered"):
            client.on(name, (lambda n: lambda data=None: received.append((n, data)))(name))
        await client.connect(coach.url, socketio_path="/socket.io", transports=["polling"])
        await client.emit("session_request", session_request)
        await asyncio.sleep(0.3)
        await client.emit("user_uttered", message)
        await asyncio.sleep(1.5)
        await hang_up(client)
        return received

    return asyncio.run(attack())


async def hang_up(client):
    """Leave at once: a polite disconnect over long-polling waits for the server's next poll (25 s)."""
    await client.eio.disconnect(abort=True)
    if client.eio.http is not None:
        await client.eio.http.close()


def test_socketio_without_the_victims_token_joins_nothing_and_changes_nothing(coach, victim):
    before = events(coach, victim.sender)
    attacker = coach.conversation()
    message = {"session_id": victim.sender, "message": "vis opsummeringen"}
    for request in ({"session_id": victim.sender}, {"session_id": victim.sender, "token": "abc"},
                    {"session_id": victim.sender, "token": attacker.token}, None, "not a dict"):
        received = socket_attempt(coach, request, message)
        assert not any(name in ("session_confirm", "bot_uttered") for name, _ in received), received
    # Bound to its own conversation, the attacker's socket still cannot write into the victim's.
    received = socket_attempt(coach, {"session_id": attacker.sender, "token": attacker.token}, message)
    assert ("session_confirm", attacker.sender) in received
    assert not any(name == "bot_uttered" for name, _ in received)
    assert events(coach, victim.sender) == before


def test_socketio_with_its_own_token_is_answered(coach):
    conversation = coach.conversation()
    received = socket_attempt(coach, {"session_id": conversation.sender, "token": conversation.token},
                              {"session_id": conversation.sender, "message": "hej"})
    assert any(name == "bot_uttered" and "chatbot" in (data or {}).get("text", "") for name, data in received)


# --- the HTTP API, CORS, the action server ---------------------------------------------------------------------

def api_token(coach, **claims):
    secret = (coach.settings.state_dir / "api_secret").read_text()
    return jwt.encode({"user": {"username": "drift", "role": "admin"}, **claims}, secret, algorithm="HS256")


def test_the_http_api_wants_its_secret(coach, victim):
    url = f"{coach.url}/conversations/{victim.sender}/tracker"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, params={"token": "gæt"}, timeout=10).status_code == 401
    forged = jwt.encode({"user": {"username": "x", "role": "admin"}}, "y" * 48, algorithm="HS256")
    assert requests.get(url, headers={"Authorization": f"Bearer {forged}"}, timeout=10).status_code == 401
    before = events(coach, victim.sender)
    response = requests.post(f"{coach.url}/conversations/{victim.sender}/tracker/events",
                             json={"event": "slot", "name": "slet_samtale", "value": True}, timeout=10)
    assert response.status_code == 401 and events(coach, victim.sender) == before
    allowed = requests.get(url, headers={"Authorization": f"Bearer {api_token(coach)}"}, timeout=10)
    assert allowed.status_code == 200 and allowed.json()["sender_id"] == victim.sender


def test_only_configured_origins_get_a_cors_grant(coach):
    for path in ("/webhooks/rest/session", "/webhooks/rest/webhook"):
        evil = requests.options(f"{coach.url}{path}", timeout=10, headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert "Access-Control-Allow-Origin" not in evil.headers
        good = requests.options(f"{coach.url}{path}", timeout=10, headers={
            "Origin": INTRANET, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert good.headers.get("Access-Control-Allow-Origin") == INTRANET
    opened = requests.post(f"{coach.url}/webhooks/rest/session", json={}, headers={"Origin": "https://evil.example"},
                           timeout=10)
    assert "Access-Control-Allow-Origin" not in opened.headers


def socketio_connect_answer(coach, origin):
    """The socket.io server's answer to a client from `origin` joining the default namespace (engine.io
    long-polling, spoken by hand so that a refusal is read at once): "40…" connected, "44…" refused."""
    url = f"{coach.url}/socket.io/?EIO=4&transport=polling"
    headers = {"Origin": origin}
    opened = requests.get(url, headers=headers, timeout=10)
    if opened.status_code != 200:
        return f"HTTP {opened.status_code}"
    sid = json.loads(opened.text[1:])["sid"]
    requests.post(f"{url}&sid={sid}", data="40", headers=headers, timeout=10)
    return requests.get(f"{url}&sid={sid}", headers=headers, timeout=10).text


def test_socketio_refuses_a_foreign_origin(coach):
    assert socketio_connect_answer(coach, INTRANET).startswith("40")
    assert socketio_connect_answer(coach, coach.url).startswith("40")
    assert not socketio_connect_answer(coach, "https://evil.example").startswith("40")


def outward_address():
    """This machine's address on its network (not loopback)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        return probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()


def test_the_action_server_is_on_loopback_and_wants_the_shared_secret(coach):
    address = outward_address()
    if address and not address.startswith("127."):
        for port in (coach.settings.action_port, coach.settings.rasa_port):
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()
    action = f"http://127.0.0.1:{coach.settings.action_port}/webhook"
    call = {"next_action": "action_slette_samtale", "sender_id": "x", "tracker": {"sender_id": "x", "slots": {},
            "latest_message": {}, "events": [], "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": None}, "domain": {}, "version": "3.6.21"}
    assert requests.post(action, json=call, timeout=10).status_code == 401
    assert requests.post(action, json=call, headers={"X-Balancecoach-Secret": "gæt"}, timeout=10).status_code == 401


# --- hostile input -------------------------------------------------------------------------------------------------

CASES = {
    "empty": ("", 200, "Skriv gerne et par ord"),
    "whitespace": ("   \n\t  ", 200, "Skriv gerne et par ord"),
    "only controls": ("\x00\x01\x1b", 200, "Skriv gerne et par ord"),
    "too long": ("ord " * 1200, 200, "længere end de 4.000 tegn"),
    "bidi": ("Vi skal \u202espare\u202c på \u2066vikarer\u2069 og trivslen lider", 200, None),
    "emoji": ("😩😩 budgettet 🙈 og personalet 💔", 200, None),
    "html": ("<script>alert(1)</script><img src=x onerror=alert(2)>", 200, None),
    "sql": ("'; DROP TABLE events; -- og trivslen?", 200, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_messages_get_a_friendly_reply_and_touch_no_one_else(coach, victim, case):
    text, status, expected = CASES[case]
    before = events(coach, victim.sender)
    conversation = coach.conversation()
    response = post(coach, {"sender": conversation.sender, "message": text}, conversation.headers)
    assert response.status_code == status
    reply = texts(response)
    assert reply.strip()
    if expected:
        assert expected in reply and events(coach, conversation.sender) == 0, "refused messages are not stored"
    assert "<script" not in reply and "\u202e" not in reply
    assert healthy(coach) and events(coach, victim.sender) == before


@pytest.mark.parametrize("name, raw, content_type, status", [
    ("malformed json", b'{"sender": "x", "message": ', "application/json", 400),
    ("a list", b'["hej"]', "application/json", 400),
    ("message not text", None, "application/json", 400),
    ("invalid utf-8", b'{"sender": "S", "message": "\xff\xfe hej"}', "application/json", 400),
    ("wrong content type", None, "text/plain", 415),
    ("form", b"sender=S&message=hej", "application/x-www-form-urlencoded", 415),
])
def test_malformed_requests_get_a_clear_4xx(coach, victim, name, raw, content_type, status):
    conversation = coach.conversation()
    if raw is None:
        body = {"sender": conversation.sender, "message": 42 if name == "message not text" else "hej"}
        raw = json.dumps(body).encode()
    raw = raw.replace(b'"S"', json.dumps(conversation.sender).encode())
    before = events(coach)
    response = requests.post(f"{coach.url}/webhooks/rest/webhook", data=raw, timeout=30,
                             headers={"Content-Type": content_type, **conversation.headers})
    assert response.status_code == status, response.text
    assert events(coach) == before and healthy(coach)


def test_a_megabyte_is_refused_before_it_is_read(coach, victim):
    conversation = coach.conversation()
    before = events(coach)
    started = time.time()
    response = post(coach, {"sender": conversation.sender, "message": "a" * 1_000_000}, conversation.headers)
    assert response.status_code == 413 and time.time() - started < 5
    session = requests.post(f"{coach.url}/webhooks/rest/session", data=b"{" + b" " * 200_000 + b"}",
                            headers={"Content-Type": "application/json"}, timeout=30)
    assert session.status_code == 413
    assert events(coach) == before and healthy(coach)


def test_hostile_messages_over_socketio(coach, victim):
    conversation = coach.conversation()
    bind = {"session_id": conversation.sender, "token": conversation.token}
    assert "Skriv gerne" in json.dumps(socket_attempt(coach, bind, {"session_id": conversation.sender,
                                                                   "message": "  "}), ensure_ascii=False)
    assert "4.000 tegn" in json.dumps(socket_attempt(coach, bind, {"session_id": conversation.sender,
                                                                  "message": "x" * 5000}), ensure_ascii=False)
    for odd in ("just a string", ["a", "list"], {"message": None}, {"message": {"nested": 1}}):
        socket_attempt(coach, bind, odd)
    assert events(coach, conversation.sender) == 0

    import socketio

    async def megabyte():
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(coach.url, socketio_path="/socket.io", transports=["polling"])
        await client.emit("session_request", bind)
        try:
            await client.emit("user_uttered", {"session_id": conversation.sender, "message": "a" * 1_000_000})
            await asyncio.sleep(1.0)
        finally:
            await hang_up(client)

    asyncio.run(megabyte())
    assert events(coach, conversation.sender) == 0 and healthy(coach)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_gets_a_reply_or_a_clear_refusal(coach, victim, text):
    pool = _pool(coach)
    conversation = pool[hash(text) % len(pool)]
    before = events(coach, victim.sender)
    response = post(coach, {"sender": conversation.sender, "message": text}, conversation.headers)
    assert response.status_code in (200, 429), (response.status_code, response.text)
    assert isinstance(response.json(), list)
    if response.status_code == 429:
        assert "Vent lidt" in texts(response)
    assert events(coach, victim.sender) == before


_conversations = []


def _pool(coach):
    if not _conversations:
        _conversations.extend(coach.conversation() for _ in range(6))
    return _conversations


def test_the_widget_page_shrugs_off_odd_requests(coach):
    for path in ("/webhooks/webchat/?q=<script>alert(1)</script>", "/webhooks/webchat/static/../../bot/settings.py",
                 "/webhooks/webchat/static/%2e%2e/%2e%2e/var/session_secret", "/webhooks/webchat/static/widget.js\x00"):
        response = requests.get(f"{coach.url}{path}", timeout=10)
        assert response.status_code in (200, 400, 404) and "<script>alert" not in response.text
        assert "session_secret" not in response.text and "BALANCECOACH" not in response.text
    assert requests.post(f"{coach.url}/webhooks/webchat/", data="x", timeout=10).status_code in (404, 405)
    assert healthy(coach)


# --- floods (last: they spend this client's allowance) ----------------------------------------------------------

def test_a_flood_from_one_conversation_gets_vent_lidt_and_others_are_served(coach):
    flooder, other = coach.conversation(), coach.conversation()
    results, waits = [], []

    def flood():
        response = post(coach, {"sender": flooder.sender, "message": "hej hej hej"}, flooder.headers)
        results.append((response.status_code, texts(response)))

    threads = [threading.Thread(target=flood) for _ in range(60)]
    for thread in threads:
        thread.start()
    started = time.time()
    reply = other.say("hej")
    waits.append(time.time() - started)
    for thread in threads:
        thread.join()
    assert "chatbot" in " ".join(r.get("text") or "" for r in reply)
    assert waits[0] < 5, f"another leader waited {waits[0]:.1f} s"
    refused = [text for status, text in results if status == 429]
    assert refused and all("Vent lidt" in text for text in refused)
    assert sum(1 for status, _ in results if status == 200) <= 22
    assert healthy(coach)


def test_a_flood_of_new_conversations_from_one_client_is_slowed(coach):
    statuses = [requests.post(f"{coach.url}/webhooks/rest/session", json={}, timeout=10).status_code
                for _ in range(200)]
    assert 429 in statuses and statuses.count(200) <= 130
    assert healthy(coach)
