"""The REST channel with server-issued conversations: the contract the widget, scripts and evaluation use.

    POST /webhooks/rest/session                      {}  ->  {"sender": "web-…", "token": "…"}
    POST /webhooks/rest/webhook   Authorization: Bearer <token>   {"sender": "web-…", "message": "…"}
    GET  /webhooks/rest/billede/<id>.svg|.png   Authorization: Bearer <token>   the conversation's picture

Rasa's own `rest` channel trusts whatever `sender` a client names; this one (registered under the same name,
so the URLs stay Rasa's) serves a conversation only to the holder of its token. A request that fails a check
is refused before anything is read or stored: 401 without a valid token, 403 for another conversation's
sender, 400/415 for a body that is not the JSON object described, 413 (Sanic, before parsing) for a body over
BALANCECOACH_MAX_REQUEST_BYTES. Empty, overlong and too frequent messages get the coach's friendly reply from
the gate (channels/gate.py) and are not stored.
"""
from __future__ import annotations

import rasa_addons.patches  # noqa: F401  (the Rasa 3.6 fixes, before Rasa runs anything of ours)

import json
import logging
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import identity
from channels import pictures
from channels.gate import client_of, gate, unavailable

logger = logging.getLogger(__name__)


def refused(status: HTTPStatus, error: str, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return response.json({"error": error}, status=status, headers=headers)


def gate_reply(sender: str, kind: str) -> HTTPResponse:
    """The gate's answer in the shape of the coach's own (a list of messages); too-frequent gets 429."""
    body = [{"recipient_id": sender, "text": gate().reply(kind)}]
    if kind == "vent_lidt":
        return response.json(body, status=HTTPStatus.TOO_MANY_REQUESTS, headers={"Retry-After": "5"},
                             dumps=_dumps)
    return response.json(body, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def json_object(request: Request) -> Optional[Dict[str, Any]]:
    """The body as a JSON object, or None (wrong type, malformed JSON, invalid UTF-8)."""
    try:
        body = json.loads(request.body.decode("utf-8")) if request.body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


class SessionRestInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = Blueprint("custom_webhook_SessionRestInput", __name__)

        @rest.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/session", methods=["POST"])
        async def session(request: Request) -> HTTPResponse:
            if request.body.strip() and json_object(request) is None:
                return refused(HTTPStatus.BAD_REQUEST, "expected an empty JSON object")
            if not gate().new_sessions.allow(client_of(request)):
                return refused(HTTPStatus.TOO_MANY_REQUESTS, gate().reply("vent_lidt"), {"Retry-After": "30"})
            sender, token = gate().issuer.issue()
            return response.json({"sender": sender, "token": token},
                                 headers={"Cache-Control": "no-store"})

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender = gate().issuer.sender_of(request.headers.get("Authorization"))
            except identity.IdentityError:
                return refused(HTTPStatus.UNAUTHORIZED, "a valid conversation token is required",
                               {"WWW-Authenticate": 'Bearer realm="balancecoach"'})
            if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
                return refused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
            body = json_object(request)
            if body is None or not isinstance(body.get("message", ""), str):
                return refused(HTTPStatus.BAD_REQUEST, 'expected {"sender": "...", "message": "..."}')
            if body.get("sender") != sender:
                return refused(HTTPStatus.FORBIDDEN, "the token is for another conversation")
            text = identity.clean_text(body.get("message", ""))
            problem = gate().refusal(sender, client_of(request), text)
            if problem:
                return gate_reply(sender, problem)
            collector = CollectingOutputChannel()
            try:
                with gate().turn(sender):
                    await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                     metadata={}))
            except Exception as error:  # as Rasa's own REST channel: logged, and the client gets JSON, not a trace
                if unavailable(error):
                    logger.error("Conversation %s: a part of the service is down (%s)", sender, error)
                    return response.json([{"recipient_id": sender, "text": gate().reply("utilgaengelig")}],
                                         status=HTTPStatus.SERVICE_UNAVAILABLE, headers={"Retry-After": "10"},
                                         dumps=_dumps)
                logger.exception("Message of conversation %s could not be handled", sender)
                return refused(HTTPStatus.INTERNAL_SERVER_ERROR, "the message could not be handled")
            return response.json(collector.messages, dumps=_dumps)

        @rest.route("/billede/<name>", methods=["GET"])
        async def picture(request: Request, name: str) -> HTTPResponse:
            try:
                sender = gate().issuer.sender_of(request.headers.get("Authorization"))
            except identity.IdentityError:
                return refused(HTTPStatus.UNAUTHORIZED, "a valid conversation token is required")
            picture_id, _, kind = name.partition(".")
            if kind not in pictures.TYPES:
                return refused(HTTPStatus.NOT_FOUND, "no such picture")
            drawn = await pictures.for_conversation(request.app.ctx.agent, sender, picture_id)
            if drawn is None:
                return refused(HTTPStatus.NOT_FOUND, "no such picture")
            body = drawn.svg.encode("utf-8") if kind == "svg" else drawn.png
            return response.raw(body, content_type=pictures.TYPES[kind],
                                headers={"Cache-Control": "private, max-age=3600"})

        return rest
