"""Faults of the production shape (`make chaos`; `.ci/run` runs it after `make test`): nginx in front of two
Rasa servers, the action server and the review app (ops/production.py), on a private PostgreSQL and a private
Redis (ops/services.py) that these tests stop and start as an outage would.

Each fault happens in the middle of a leader's conversation; afterwards the stored conversation is read back
from PostgreSQL: exactly the leader's turns, in order, once each, and the coach did at every turn what it did
in the same conversation without the fault."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import redaction
from ops import services
from ops.production import Production, write_secrets

TURNS = ["To af mine teamledere samarbejder dårligt, og det går ud over resultaterne i hele afdelingen.",
         "ja", "jeg kunne tale med dem hver for sig", "spring til opsummeringen", "nej tak", "nej tak", "3",
         "spring over"]
"""One leader's whole conversation: a dilemma, answers, the summary and the closing questions."""

PORTS = {"RASA_PORT": "5205", "ACTION_PORT": "5255", "BALANCECOACH_REVIEW_PORT": "5210",
         "BALANCECOACH_PROXY_PORT": "8543", "BALANCECOACH_PROXY_REVIEW_PORT": "8544"}
PG_PORT, REDIS_PORT = 5441, 6391


def _unavailable_text() -> str:
    from channels.gate import reply

    return reply("utilgaengelig")


@pytest.fixture(scope="module")
def postgres():
    server = services.PrivatePostgres(PG_PORT).start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def redis():
    server = services.PrivateRedis(REDIS_PORT).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def coach(tmp_path_factory, postgres, redis):
    import os

    folder = tmp_path_factory.mktemp("prod")
    env = dict(os.environ, **PORTS, **write_secrets(folder / "hemmeligheder"),
               BALANCECOACH_DATABASE_URL=postgres.url, BALANCECOACH_REDIS_PORT=str(REDIS_PORT),
               BALANCECOACH_STATE_DIR=str(folder / "var"), BALANCECOACH_SESSIONS_PER_MINUTE="6000",
               BALANCECOACH_CLIENT_MESSAGES_PER_MINUTE="60000")
    production = Production(env=env, log_dir=folder / "logs").start()
    production.database = sa.create_engine(postgres.url, pool_pre_ping=True)
    yield production
    production.stop()
    production.database.dispose()


def _say(coach, conversation, text):
    """(HTTP status, the coach's messages) of one turn through the proxy."""
    request = urllib.request.Request(
        f"{coach.url}/webhooks/rest/webhook",
        json.dumps({"sender": conversation.sender, "message": text}).encode(),
        {"Content-Type": "application/json", **conversation.headers})
    try:
        with urllib.request.urlopen(request, timeout=120, context=coach.context) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _talk(coach, conversation, turns):
    for text in turns:
        status, messages = _say(coach, conversation, text)
        assert status == 200 and messages and all(m.get("text") or m.get("custom") or m.get("buttons")
                                                  for m in messages), (text, status, messages)


def _stored(coach, sender):
    """The conversation as PostgreSQL holds it: each user turn with the coach's actions after it."""
    with coach.database.connect() as connection:
        rows = connection.execute(sa.text("SELECT type_name, action_name, data FROM events WHERE sender_id = :s "
                                          "ORDER BY id"), {"s": sender}).all()
    steps = []
    for type_name, action_name, data in rows:
        if type_name == "user":
            steps.append((json.loads(data)["text"], []))
        elif type_name == "action" and steps and action_name != "action_listen":
            steps[-1][1].append(action_name)
    return steps


@pytest.fixture(scope="module")
def reference(coach):
    """The conversation without any fault: what the coach does at each turn."""
    conversation = coach.conversation()
    _talk(coach, conversation, TURNS)
    steps = _stored(coach, conversation.sender)
    assert [text for text, _ in steps] == [redaction.redact(t) for t in TURNS]
    return [actions for _, actions in steps]


def _heard_as_without_fault(coach, sender, reference):
    steps = _stored(coach, sender)
    assert [text for text, _ in steps] == [redaction.redact(t) for t in TURNS], "lost, doubled or reordered turns"
    assert [actions for _, actions in steps] == reference, "the coach did something else than without the fault"


def test_a_rasa_server_killed_mid_conversation_the_other_carries_on(coach, reference):
    conversation = coach.conversation()
    _talk(coach, conversation, TURNS[:3])
    coach.kill("rasa-0")
    try:
        _talk(coach, conversation, TURNS[3:])
    finally:
        coach.start_process("rasa-0")
        coach.wait_ready(["rasa-0"])
    _heard_as_without_fault(coach, conversation.sender, reference)


def test_the_whole_stack_restarted_mid_conversation_the_leader_continues(coach, reference):
    conversation = coach.conversation()
    _talk(coach, conversation, TURNS[:4])
    coach.stop()
    coach.start()
    _talk(coach, conversation, TURNS[4:])  # the same token: the session secret comes from the files
    _heard_as_without_fault(coach, conversation.sender, reference)


def _through_an_outage(coach, reference, down, up, before: int) -> str:
    """A leader's turn `before` is sent while a part is down: the Danish message, HTTP 503, and the turn is not
    stored; with the part back the leader sends it again, and the conversation goes on as without the outage.
    Returns the conversation's id."""
    conversation = coach.conversation()
    _talk(coach, conversation, TURNS[:before])
    down()
    try:
        status, messages = _say(coach, conversation, TURNS[before])
        assert status == 503 and [m["text"] for m in messages] == [_unavailable_text()]
        assert "utilgængelig" in messages[0]["text"] and "igen" in messages[0]["text"]
    finally:
        up()
    assert [text for text, _ in _stored(coach, conversation.sender)] == \
        [redaction.redact(t) for t in TURNS[:before]], "a turn the coach could not answer was stored"
    _talk(coach, conversation, TURNS[before:])
    _heard_as_without_fault(coach, conversation.sender, reference)
    return conversation.sender


def test_action_server_down_the_leader_is_told_and_nothing_is_stored(coach, reference):
    def up():
        coach.start_process("actions")
        coach.wait_ready(["actions"])

    _through_an_outage(coach, reference, lambda: coach.stop_process("actions"), up, before=0)


def test_postgres_restart_refuses_clearly_stores_nothing_half_and_service_returns(coach, postgres, reference):
    # the first turn after the restart already works (pre-ping)
    sender = _through_an_outage(coach, reference, postgres.stop, postgres.start, before=2)
    with coach.database.connect() as connection:
        turns = connection.execute(sa.text("SELECT sum(leder_ture) FROM bc_samtaler WHERE sender_id = :s"),
                                   {"s": sender}).scalar()
    assert turns == len(TURNS), "the conversation's row and its events disagree: something was half-stored"


def test_redis_down_no_turn_is_handled_without_the_lock_and_service_returns(coach, redis, reference):
    """Decided: without Redis no server can take a conversation's lock, so no server handles any turn (two
    servers never handle one conversation at once, not even then); the leader is told to try again."""
    _through_an_outage(coach, reference, redis.stop, redis.start, before=2)


def test_two_servers_never_interleave_one_conversation(coach):
    """Both servers get turns of the same conversation at the same moment: the Redis lock makes one wait, so
    each turn's actions are stored together, never mixed with the other's."""
    from ops.stack import _post

    conversation = coach.conversation()
    _talk(coach, conversation, TURNS[:1])
    results = []

    def send(url, text):
        results.append(_post(f"{url}/webhooks/rest/webhook", {"sender": conversation.sender, "message": text},
                             conversation.headers, 120))

    threads = [threading.Thread(target=send, args=(url, text)) for url, text in
               zip(coach.replica_urls, ["ja", "jeg kunne tale med dem hver for sig"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    steps = _stored(coach, conversation.sender)
    assert len(results) == 2 and all(results)
    assert sorted(text for text, _ in steps[1:]) == ["ja", "jeg kunne tale med dem hver for sig"]
    assert all(actions for _, actions in steps), "a turn without its own actions: the two were interleaved"


def test_a_new_model_deployed_while_50_leaders_talk_no_turn_fails(coach):
    """Every Rasa server loads a model (HR's deploy, review/udrulning.py) while 50 leaders are between their
    second and fifth turn: every turn is answered, and turns were answered while the servers were loading."""
    import time

    from review.udrulning import _put_model

    failures, done, answered = [], [], []
    halfway = threading.Barrier(51, timeout=300)

    def leader():
        try:
            conversation = coach.conversation()
            for number, text in enumerate(TURNS[:5]):
                if number == 2:
                    halfway.wait()
                status, messages = _say(coach, conversation, text)
                answered.append(time.time())
                if status != 200 or not messages:
                    failures.append((text, status, messages))
            done.append(conversation.sender)
        except Exception as error:  # a refused connection or a timeout is a failed turn too
            failures.append(repr(error))

    threads = [threading.Thread(target=leader) for _ in range(50)]
    for thread in threads:
        thread.start()
    halfway.wait()
    started = time.time()
    _put_model(coach.replica_urls, coach.settings.api_secret, Path(coach.model), "chaos")
    loaded = time.time()
    for thread in threads:
        thread.join()
    assert not failures and len(done) == 50
    assert any(started <= moment <= loaded for moment in answered), "no turn fell in the deploy"
    for sender in done:
        assert [t for t, _ in _stored(coach, sender)] == [redaction.redact(t) for t in TURNS[:5]]


def _status(coach, url, method="GET"):
    request = urllib.request.Request(url, method=method, data=b"{}" if method != "GET" else None,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30, context=coach.context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_proxy_opens_the_entry_points_and_nothing_else(coach):
    leaders, coaches = coach.url, coach.coaches_url
    assert _status(coach, f"{leaders}/webhooks/webchat/") == 200
    assert _status(coach, f"{leaders}/webhooks/rest/session", "POST") == 200
    assert _status(coach, f"{leaders}/socket.io/?EIO=4&transport=polling") == 200
    assert _status(coach, f"{coaches}/login") == 200
    for path, method in (("/", "GET"), ("/status", "GET"), ("/model", "PUT"), ("/version", "GET"),
                         ("/conversations/x/tracker", "GET"), ("/webhooks/rest/", "GET"), ("/webhook", "POST"),
                         ("/health", "GET"), ("/login", "GET")):
        assert _status(coach, f"{leaders}{path}", method) in (403, 404), path
    # the servers behind it answer these directly: only the proxy keeps them out
    assert _status(coach, f"{coach.replica_urls[0]}/status") in (200, 401, 403)


def test_a_socketio_conversation_through_the_proxy_stays_with_one_server(coach):
    """socket.io's session lives in the server that opened it: over long-polling every poll is a new request,
    and each must reach that server (the proxy's ip_hash) or the session breaks."""
    import asyncio

    import socketio

    conversation = coach.conversation()

    async def talk():
        received = []
        client = socketio.AsyncClient(reconnection=False, ssl_verify=False)  # the proxy's self-signed certificate
        client.on("bot_uttered", lambda data=None: received.append(data))
        await client.connect(coach.url, socketio_path="/socket.io", transports=["polling"])
        await client.emit("session_request", {"session_id": conversation.sender, "token": conversation.token})
        await asyncio.sleep(0.5)
        counts = []
        for text in TURNS[:3]:
            await client.emit("user_uttered", {"session_id": conversation.sender, "message": text})
            for _ in range(300):
                await asyncio.sleep(0.1)
                if len(received) > (counts[-1] if counts else 0):
                    break
            await asyncio.sleep(1.5)  # the rest of the turn's messages
            counts.append(len(received))
        await client.eio.disconnect(abort=True)
        return counts

    counts = asyncio.run(talk())
    assert 0 < counts[0] < counts[1] < counts[2], counts
    assert [t for t, _ in _stored(coach, conversation.sender)] == [redaction.redact(t) for t in TURNS[:3]]
