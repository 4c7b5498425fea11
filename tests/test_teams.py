"""Microsoft Teams, offline: real Teams activities into the running coach's Teams webhook.

Only the key source and Microsoft's services are local: the test generates an RSA key, serves it through
its own OpenID metadata + JWKS endpoint, signs Bot Framework-style JWTs with it, answers the token request
of a single-tenant bot, and plays the Bot Connector service that receives the coach's replies. The channel's
validation code (channels/teams.py) runs exactly as in production.

Most tests talk to the whole coach; the ones about several Rasa servers behind a load balancer run two Teams
webhooks in this process that share nothing but the tracker database.
"""
import asyncio
import base64
import copy
import dataclasses
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from ops.evaluation import isolated_settings
from ops.stack import Stack
from channels.teams import MULTI_TENANT, token_url

APP_ID = "5f1c7a3e-2b4d-4e8f-9a10-6c2d8e4b7f01"
PASSWORD = "lokal-testhemmelighed"
TENANT = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
KID = "lokal-noegle-1"
ISSUER = "https://api.botframework.com"
DILEMMA = "Vi skal spare 2 mio. på hjemmeplejen, og jeg er bekymret for trivslen i mine grupper."

# A message activity as Teams sends it to a bot in a personal chat (ids shortened, names invented).
TEAMS_ACTIVITY = {
    "text": "hej",
    "textFormat": "plain",
    "type": "message",
    "timestamp": "2025-03-04T09:15:27.5271238Z",
    "localTimestamp": "2025-03-04T10:15:27.5271238+01:00",
    "id": "1741079727495",
    "channelId": "msteams",
    "serviceUrl": "",  # set per test: the local Bot Connector
    "from": {"id": "29:1Xq0leder-i-herning", "name": "Mette Leder", "aadObjectId": "6f0f2a8e-1111-4c3b-9e6b-2f4a3c1d0e9b"},
    "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": "a:1Kx9personlig-samtale"},
    "recipient": {"id": f"28:{APP_ID}", "name": "Balancecoach"},
    "entities": [{"locale": "da-DK", "country": "DK", "platform": "Web", "timezone": "Europe/Copenhagen",
                  "type": "clientInfo"}],
    "channelData": {"tenant": {"id": TENANT}},
    "locale": "da-DK",
    "localTimezone": "Europe/Copenhagen",
}


class Microsoft:
    """OpenID metadata, JWKS, the tenant's token endpoint and the Bot Connector, on one local port."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": KID, "use": "sig", "endorsements": ["msteams", "webchat"]})
        self.jwks = {"keys": [jwk]}
        self.token_requests, self.activities = [], []
        self.lock = threading.Lock()
        microsoft = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/openid":
                    self.reply(200, {"issuer": ISSUER, "jwks_uri": f"{microsoft.url}/keys",
                                     "id_token_signing_alg_values_supported": ["RS256"]})
                elif self.path == "/keys":
                    self.reply(200, microsoft.jwks)
                else:
                    self.reply(404, {})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with microsoft.lock:
                    if self.path == f"/{TENANT}/oauth2/v2.0/token":
                        microsoft.token_requests.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
                        self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "connector-token"})
                    elif self.path.startswith("/connector/v3/conversations/"):
                        conversation = unquote(self.path.split("/")[4])
                        microsoft.activities.append({"conversation": conversation, "path": self.path,
                                                     "auth": self.headers.get("Authorization"),
                                                     "activity": json.loads(body)})
                        self.reply(201, {"id": uuid.uuid4().hex})
                    else:
                        self.reply(404, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()

    def replies(self, conversation):
        with self.lock:
            return [a for a in self.activities if a["conversation"] == conversation]

    def token(self, key=None, **claims):
        now = int(time.time())
        body = {"serviceurl": f"{self.url}/connector/", "nbf": now - 5, "exp": now + 3600, "iss": ISSUER, "aud": APP_ID}
        body.update(claims)
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key or self.key, algorithm="RS256",
                          headers={"kid": KID})


@pytest.fixture(scope="module")
def microsoft():
    with Microsoft() as service:
        yield service


def teams_settings(microsoft, state):
    return dataclasses.replace(
        isolated_settings(5705, 5755, state),
        teams_app_id=APP_ID, teams_app_password=PASSWORD, teams_tenant_id=TENANT,
        teams_openid_url=f"{microsoft.url}/openid", teams_token_url=f"{microsoft.url}/{TENANT}/oauth2/v2.0/token",
    )


@pytest.fixture(scope="module")
def coach(microsoft, tmp_path_factory):
    state = tmp_path_factory.mktemp("teams")
    with Stack(teams_settings(microsoft, state), log_dir=state / "logs") as stack:
        yield stack


def post(coach, microsoft, text, conversation, token="valid", user="29:1Xq0leder-i-herning", **changes):
    activity = copy.deepcopy(TEAMS_ACTIVITY)
    activity.update({"text": text, "id": str(int(time.time() * 1000)), "serviceUrl": f"{microsoft.url}/connector/"})
    activity["conversation"]["id"] = conversation
    activity["from"]["id"] = user
    activity["from"]["aadObjectId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, conversation))  # one leader per chat
    if "conversation_" in changes:  # a whole conversation object, not just its id
        changes["conversation"] = changes.pop("conversation_")
    activity.update(changes)
    headers = {"Content-Type": "application/json"}
    if token == "valid":
        token = microsoft.token()
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    before = len(microsoft.replies(conversation))
    response = requests.post(f"{coach.url}/webhooks/teams/webhook", data=json.dumps(activity), headers=headers,
                             timeout=60)
    return response, [a["activity"] for a in microsoft.replies(conversation)[before:]]


def new_conversation():
    return f"a:1{uuid.uuid4().hex}"


def text_of(replies):
    return " ".join(r.get("text") or "" for r in replies)


def test_token_comes_from_the_tenant_for_single_tenant_and_botframework_for_multi_tenant():
    assert token_url(TENANT) == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert token_url("") == f"https://login.microsoftonline.com/{MULTI_TENANT}/oauth2/v2.0/token"
    assert token_url(TENANT, "http://127.0.0.1:1/t") == "http://127.0.0.1:1/t"


def test_a_teams_message_gets_the_coachs_answer_through_the_bot_connector(coach, microsoft):
    conversation = new_conversation()
    response, replies = post(coach, microsoft, "hej", conversation)
    assert response.status_code == 200
    assert "chatbot" in text_of(replies) and "dilemma" in text_of(replies)
    first = replies[0]
    assert first["type"] == "message" and first["textFormat"] == "plain"
    assert first["recipient"]["id"] == "29:1Xq0leder-i-herning"
    assert first["from"]["id"] == f"28:{APP_ID}"
    sent = microsoft.replies(conversation)[0]
    assert sent["auth"] == "Bearer connector-token"
    assert unquote(sent["path"]) == f"/connector/v3/conversations/{conversation}/activities"
    # single-tenant: the coach asked its own tenant's token endpoint, with the bot's credentials
    assert microsoft.token_requests and microsoft.token_requests[0] == {
        "grant_type": "client_credentials", "client_id": APP_ID, "client_secret": PASSWORD,
        "scope": "https://api.botframework.com/.default",
    }


def test_buttons_become_suggested_actions_and_a_pressed_title_answers(coach, microsoft):
    conversation = new_conversation()
    _, replies = post(coach, microsoft, DILEMMA, conversation, user="29:1knapper")
    assert "Jeg hører især" in text_of(replies)
    asking = [r for r in replies if r.get("suggestedActions")]
    assert len(asking) == 1 and asking[0]["text"] == "Rammer det dit dilemma?"
    actions = asking[0]["suggestedActions"]["actions"]
    assert [(a["type"], a["title"], a["value"]) for a in actions] == [
        ("imBack", "Ja, det rammer", "Ja, det rammer"), ("imBack", "Nej, ikke helt", "Nej, ikke helt")]
    assert asking[0]["suggestedActions"]["to"] == ["29:1knapper"]
    # Teams sends the pressed title as the user's text; the channel hands Rasa the button's payload
    _, replies = post(coach, microsoft, "Ja, det rammer", conversation, user="29:1knapper")
    assert "Hvordan får vi da det hensyn med?" in text_of(replies)


def test_the_summary_comes_with_the_balance_picture_as_an_image(coach, microsoft):
    conversation, user = new_conversation(), "29:1opsummering"
    post(coach, microsoft, DILEMMA, conversation, user=user)
    post(coach, microsoft, "Ja, det rammer", conversation, user=user)
    summary = None
    for turn in range(8):
        _, replies = post(coach, microsoft, f"Mit svar {turn}: vi taler med medarbejderne og prøver noget nyt med "
                                            "borgerne.", conversation, user=user)
        summary = next((r for r in replies if "Her er din balance" in (r.get("text") or "")), None)
        if summary:
            break
    assert summary is not None, "the coach never reached the summary"
    (attachment,) = summary["attachments"]
    assert attachment["contentType"] == "image/png" and attachment["name"] == "balancebillede.png"
    prefix = "data:image/png;base64,"
    assert attachment["contentUrl"].startswith(prefix)
    assert base64.b64decode(attachment["contentUrl"][len(prefix):])[:8] == b"\x89PNG\r\n\x1a\n"


def forged_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


BAD_TOKENS = {
    "missing": lambda m: None,
    "not a jwt": lambda m: "ikke-en-token",
    "signed by another key": lambda m: m.token(key=forged_key()),
    "for another bot": lambda m: m.token(aud="11111111-2222-3333-4444-555555555555"),
    "expired": lambda m: m.token(exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200),
    "another issuer": lambda m: m.token(iss="https://evil.example"),
    "hmac instead of rsa": lambda m: jwt.encode({"aud": APP_ID, "iss": ISSUER, "exp": int(time.time()) + 600,
                                                 "serviceurl": f"{m.url}/connector/"}, "en-hemmelighed-paa-mindst-32-bytes!",
                                                algorithm="HS256", headers={"kid": KID}),
    "for another service url": lambda m: m.token(serviceurl="https://smba.trafficmanager.net/emea/"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_bad_or_missing_token_gets_401_and_no_reply(coach, microsoft, case):
    conversation = new_conversation()
    response, replies = post(coach, microsoft, "hej", conversation, token=BAD_TOKENS[case](microsoft))
    assert response.status_code == 401
    time.sleep(0.3)
    assert replies == [] and microsoft.replies(conversation) == []


def test_a_token_for_one_service_url_cannot_send_replies_elsewhere(coach, microsoft):
    """The token names the local connector; the activity asks to be answered at another address: refused."""
    conversation = new_conversation()
    response, _ = post(coach, microsoft, "hej", conversation, serviceUrl="http://127.0.0.1:9/stjaal/")
    assert response.status_code == 401 and microsoft.replies(conversation) == []


def test_non_message_activities_are_accepted_quietly(coach, microsoft):
    conversation = new_conversation()
    response, replies = post(coach, microsoft, "", conversation, type="conversationUpdate",
                             membersAdded=[{"id": f"28:{APP_ID}"}])
    assert response.status_code == 200 and replies == []


def captured_output(**settings):
    """The Teams output with the network replaced by a list of what would be posted."""
    from bot import settings as settings_module
    from channels.teams import TeamsOutput

    base = dataclasses.replace(settings_module.load({"BALANCECOACH_SESSION_SECRET": "s" * 40, "BALANCECOACH_ACTION_SECRET": "a" * 40}),
                               teams_app_id=APP_ID, teams_app_password=PASSWORD, **settings)
    out = TeamsOutput(base, {"id": "a:1enhed"}, {"id": f"28:{APP_ID}"}, "https://smba.trafficmanager.net/emea/")
    out.sent = []

    async def send(message):
        out.sent.append(message)

    out.send = send
    return out


def test_more_than_three_buttons_become_an_adaptive_card_that_sends_the_payload():
    from channels.teams import TeamsInput

    out = captured_output()
    buttons = [{"title": f"Knap {i}", "payload": f'/afkraefte{{"kvadrant": "k{i}"}}'} for i in range(4)]
    asyncio.run(out.send_text_with_buttons("29:1x", "Hvilket hensyn fylder mest?", buttons))
    (message,) = out.sent
    assert "suggestedActions" not in message
    (card,) = message["attachments"]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["text"] == "Hvilket hensyn fylder mest?"
    actions = card["content"]["actions"]
    assert [a["data"]["msteams"] for a in actions][0] == {
        "type": "messageBack", "text": '/afkraefte{"kvadrant": "k0"}', "displayText": "Knap 0"}
    assert TeamsInput.message_text({"text": "", "value": {"payload": "/stop"}}) == "/stop"


def test_text_goes_as_plain_text_and_the_picture_as_png_with_it():
    out = captured_output()
    picture = {"svg": "PHN2Zz4=", "png": "iVBORw0KGgo=", "filnavn": "balancebillede"}
    asyncio.run(out.send_response("29:1x", {"text": "Her er din balance <b>fed</b>",
                                            "custom": {"data": {"balancebillede": picture}}}))
    (message,) = out.sent
    assert message["text"] == "Her er din balance <b>fed</b>" and message["textFormat"] == "plain"
    assert message["attachments"] == [{"contentType": "image/png", "name": "balancebillede.png",
                                       "contentUrl": "data:image/png;base64,iVBORw0KGgo="}]


# --- several Rasa servers: a press can reach another server than the one that offered the buttons ----------

QUESTION = "Rammer det dit dilemma?"
BUTTONS = [{"title": "Ja, det rammer", "payload": "/bekraefte"}, {"title": "Nej, ikke helt", "payload": "/afkraefte"}]


def asking():
    from rasa.core.actions.action import create_bot_utterance

    return create_bot_utterance({"text": QUESTION, "buttons": copy.deepcopy(BUTTONS)})


class Replica:
    """One Rasa server's Teams webhook: its own channel, agent and SQL tracker store, on the database all
    replicas share. In place of a model it answers the dilemma with the two buttons, and it stores each turn
    as Rasa does."""

    def __init__(self, settings, database, loop):
        from rasa.core.agent import Agent
        from rasa.core.tracker_store import SQLTrackerStore
        from rasa.shared.core.domain import Domain
        from sanic import Sanic

        from channels.teams import TeamsInput

        self.loop, self.heard = loop, []
        self.store = SQLTrackerStore(Domain.empty(), db=str(database))
        app = Sanic(f"teams_{uuid.uuid4().hex}")
        app.ctx.agent = Agent(Domain.empty(), tracker_store=self.store)
        app.blueprint(TeamsInput(settings).blueprint(self.answer), url_prefix="/webhooks/teams")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = self.run(app.create_server(sock=sock, return_asyncio_server=True, access_log=False))
        self.run(self.server.startup())
        self.run(self.server.start_serving())

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    async def answer(self, message):
        from rasa.shared.core.events import UserUttered

        self.heard.append(message.text)
        tracker = await self.store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text))
        if message.text == DILEMMA:
            await message.output_channel.send_text_with_buttons(message.sender_id, QUESTION, copy.deepcopy(BUTTONS))
            tracker.update(asking())
        await self.store.save(tracker)

    def stop(self):
        async def close():
            self.server.close()
            await self.server.wait_closed()

        self.run(close())


@pytest.fixture
def replicas(microsoft, tmp_path, monkeypatch):
    from sanic import Sanic

    from channels import gate as gate_module

    monkeypatch.setattr(Sanic, "test_mode", True)  # lets Sanic start a second app in the same process
    settings = teams_settings(microsoft, tmp_path)
    monkeypatch.setattr(gate_module, "_gate", gate_module.Gate(settings))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    servers = [Replica(settings, tmp_path / "tracker.db", loop) for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def test_a_title_pressed_on_another_server_becomes_the_payload_from_the_shared_tracker_store(replicas, microsoft):
    offering, pressed = replicas
    conversation = new_conversation()
    _, replies = post(offering, microsoft, DILEMMA, conversation)
    assert [a["title"] for r in replies for a in r["suggestedActions"]["actions"]] == ["Ja, det rammer", "Nej, ikke helt"]
    response, _ = post(pressed, microsoft, "<at>Balancecoach</at> ja, det rammer", conversation)
    assert response.status_code == 200 and pressed.heard == ["/bekraefte"] and offering.heard == [DILEMMA]


def test_an_old_title_typed_after_a_later_turn_stays_as_typed(replicas, microsoft):
    offering, other = replicas
    conversation = new_conversation()
    post(offering, microsoft, DILEMMA, conversation)
    post(other, microsoft, "Det ved jeg ikke", conversation)
    post(offering, microsoft, "Ja, det rammer", conversation)
    post(other, microsoft, "Nej, ikke helt", conversation)
    assert offering.heard == [DILEMMA, "Ja, det rammer"] and other.heard == ["Det ved jeg ikke", "Nej, ikke helt"]


def test_without_a_stored_conversation_a_title_stays_as_typed(replicas, microsoft):
    _, pressed = replicas
    post(pressed, microsoft, "Ja, det rammer", new_conversation())
    assert pressed.heard == ["Ja, det rammer"]


def test_only_the_buttons_of_the_latest_bot_message_translate_a_title():
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from channels.teams import pressed_payload

    def tracker(*events):
        return DialogueStateTracker.from_events("teams:x", list(events))

    assert pressed_payload("NEJ, IKKE HELT", tracker(UserUttered(DILEMMA), asking())) == "/afkraefte"
    assert pressed_payload("Måske", tracker(UserUttered(DILEMMA), asking())) == "Måske"
    later = create_bot_utterance({"text": "Hvad fylder mest?"})
    assert pressed_payload("Ja, det rammer", tracker(asking(), later)) == "Ja, det rammer"
    assert pressed_payload("Ja, det rammer", tracker(asking(), UserUttered("hm"))) == "Ja, det rammer"
    assert pressed_payload("Ja, det rammer", None) == "Ja, det rammer"


# --- identity and hostile input ----------------------------------------------------------------------------------

def stored_events(coach, sender=None):
    import sqlite3

    with sqlite3.connect(coach.settings.database_url[len("sqlite:///"):]) as db:
        if sender is None:
            return db.execute("select count(*) from events").fetchone()[0]
        return db.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0]


def test_a_teams_activity_naming_a_web_conversation_cannot_reach_it(coach, microsoft):
    victim = coach.conversation()
    victim.say(DILEMMA)
    before = stored_events(coach, victim.sender)
    for field in ("id", "aadObjectId"):
        conversation = new_conversation()
        activity_from = dict(TEAMS_ACTIVITY["from"], **{field: victim.sender})
        response, replies = post(coach, microsoft, "vis opsummeringen", conversation, **{"from": activity_from})
        assert response.status_code == 200
        assert "trivslen" not in text_of(replies) and "hjemmeplejen" not in text_of(replies)
    assert stored_events(coach, victim.sender) == before
    teams_ids = [sid for sid in _senders(coach) if sid.startswith("teams:")]
    assert teams_ids and all(sid.startswith(f"teams:{TENANT}:") for sid in teams_ids)


def _senders(coach):
    import sqlite3

    with sqlite3.connect(coach.settings.database_url[len("sqlite:///"):]) as db:
        return [row[0] for row in db.execute("select distinct sender_id from events")]


@pytest.mark.parametrize("change", [
    {"channelId": "webchat"},
    {"channelData": {"tenant": {"id": "11111111-2222-3333-4444-555555555555"}},
     "conversation": {"conversationType": "personal", "tenantId": "11111111-2222-3333-4444-555555555555"}},
])
def test_activities_from_another_channel_or_tenant_are_refused(coach, microsoft, change):
    before = stored_events(coach)
    conversation = new_conversation()
    change = copy.deepcopy(change)
    if "conversation" in change:
        change["conversation"]["id"] = conversation
        change["conversation_"] = change.pop("conversation")
    response, replies = post(coach, microsoft, "hej", conversation, **change)
    assert response.status_code == 403 and replies == []
    assert stored_events(coach) == before


@pytest.mark.parametrize("text, expected", [
    ("", "Skriv gerne et par ord"),
    ("   ", "Skriv gerne et par ord"),
    ("ord " * 1200, "4.000 tegn"),
    ("<script>alert(1)</script> og \u202ebudgettet", None),
    ("'; DROP TABLE events; --", None),
    ("😩 personalet 💔", None),
])
def test_hostile_teams_messages_get_a_friendly_reply(coach, microsoft, text, expected):
    conversation = new_conversation()
    response, replies = post(coach, microsoft, text, conversation)
    assert response.status_code == 200 and text_of(replies).strip()
    assert "\u202e" not in text_of(replies) and all(r["textFormat"] == "plain" for r in replies)
    if expected:
        assert expected in text_of(replies)
        sender = f"teams:{TENANT}:{uuid.uuid5(uuid.NAMESPACE_URL, conversation)}"
        assert stored_events(coach, sender) == 0


@pytest.mark.parametrize("body, content_type, status", [
    (b'{"type": "message", "text": ', "application/json", 400),
    (b"[1, 2, 3]", "application/json", 400),
    (b'{"type": "message", "text": "\xff\xfe"}', "application/json", 400),
    (b"x" * 1_000_000, "application/json", 413),
])
def test_malformed_teams_requests_get_a_clear_4xx(coach, microsoft, body, content_type, status):
    before = stored_events(coach)
    response = requests.post(f"{coach.url}/webhooks/teams/webhook", data=body, timeout=60,
                             headers={"Content-Type": content_type, "Authorization": f"Bearer {microsoft.token()}"})
    assert response.status_code == status
    assert stored_events(coach) == before
    assert requests.get(f"{coach.url}/", timeout=10).status_code == 200
