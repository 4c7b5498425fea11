"""The web chat: the page at /webhooks/webchat/ and the widget's files, served by the Rasa server itself.

Leaders chat where they work, so the same `widget.js` runs on our page and, with one `<script>` tag, on any
intranet page. It talks to Rasa's socket.io channel (REST as fallback); this channel only serves files and
therefore never receives messages itself. Every response carries a strict Content-Security-Policy: no inline
script, no third-party origin — the socket.io client is vendored in `web/static/vendor/` (see its README).

The Danish the page shows lives in `web/tekster.json`: the template reads it here and the widget fetches it.

`SecureSocketIOInput` is Rasa's socket.io channel bound to server-issued conversations (see its docstring);
credentials.yml registers it in place of the plain `socketio:` entry, with the same settings, name and URL.
"""
from __future__ import annotations

import rasa_addons.patches  # noqa: F401  (the Rasa 3.6 fixes, before Rasa runs anything of ours)

import inspect
import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent.parent / "web"
STATIC = WEB / "static"
TEXTS = WEB / "tekster.json"

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".json": "application/json; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
_SERVED = frozenset(_TYPES)  # READMEs and licence files stay in the repository
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:]+\](?::\d{1,5})?$")


def content_security_policy(host: Optional[str]) -> str:
    """Scripts, styles and connections from this server only; images from here or data: (the picture).

    socket.io's websocket is named with the request's own host (CSP's 'self' does not cover ws:// in every
    browser); a Host header that is not a plain host[:port] gets no websocket source at all.
    """
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
        f"connect-src 'self'{sockets}; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'; object-src 'none'"
    )


def security_headers(host: Optional[str]) -> Dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(host),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "SAMEORIGIN",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cache-Control": "no-cache",
    }


@lru_cache(maxsize=1)
def texts() -> Dict[str, Any]:
    """The Danish of the page and the widget (one file, read on first request)."""
    return json.loads(TEXTS.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(WEB / "templates")), autoescape=select_autoescape(["html"]))


def render_page() -> str:
    return _environment().get_template("index.html").render(tekst=texts()["side"])


def static_files() -> Dict[str, Path]:
    """The files the widget may be served: a fixed list from web/static, so no path ever reaches the disk."""
    return {
        p.relative_to(STATIC).as_posix(): p
        for p in sorted(STATIC.rglob("*"))
        if p.is_file() and p.suffix in _SERVED
    }


class WebChatInput(InputChannel):
    """Serves the chat page and the widget's files; the conversation itself runs over socket.io or REST."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat", __name__)
        files = static_files()

        @webchat.middleware("response")
        async def headers(request: Request, resp: HTTPResponse) -> None:
            for key, value in security_headers(request.headers.get("host")).items():
                resp.headers[key] = value

        @webchat.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):  # the page's links are relative to /webhooks/webchat/
                return response.redirect(request.path + "/")
            return response.html(render_page())

        @webchat.route("/tekster.json", methods=["GET"])
        async def danish(request: Request) -> HTTPResponse:
            # Fetched by the widget, also from other intranet pages: CORS for the origins in
            # BALANCECOACH_CORS_ORIGINS (Rasa's configure_cors), as for socket.io polling and REST.
            return response.json(texts()["widget"], dumps=lambda o: json.dumps(o, ensure_ascii=False))

        @webchat.route("/static/<name:path>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            path = files.get(name)
            if path is None:
                return response.text("Ikke fundet", status=404)
            return response.raw(path.read_bytes(), content_type=_TYPES[path.suffix])

        return webchat


class SecureSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel (same name, URL and events), reaching only the conversation a token names.

    Rasa's channel lets any client join any room by naming a session id, and takes the sender from each
    message. Here `session_request` must carry the conversation's token (from POST /webhooks/rest/session);
    the socket is then bound to that conversation, and its messages go to it whatever id they name. A
    message from an unbound socket, or naming another conversation, is dropped: nothing is read or stored.
    Messages pass the same gate as REST (empty, overlong, too frequent). Connections from a web origin other
    than this server's own or a configured one (BALANCECOACH_CORS_ORIGINS) are refused.

    Rasa 3.6 also calls `sio.enter_room(...)` without `await`, which since python-socketio 5.10 never joins
    the room (RasaHQ/rasa#13027); this channel awaits it.
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
        from socketio import AsyncServer

        from bot import identity
        from channels.gate import client_of, gate, unavailable

        settings = gate().settings
        # CORS headers come from Sanic (Rasa's configure_cors, configured origins only); engine.io must not
        # add its own, and checks origins in `connect` below instead.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[],
                          max_http_buffer_size=settings.max_request_bytes)
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        bound: Dict[str, str] = {}
        clients: Dict[str, str] = {}

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            host = environ.get("HTTP_HOST")
            if origin and origin.rstrip("/") not in settings.cors_origins and \
                    origin.split("://", 1)[-1].rstrip("/") != host:
                return False
            request = environ.get("sanic.request")  # engine.io's own REMOTE_ADDR is always 127.0.0.1
            clients[sid] = client_of(request) if request is not None else "?"
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            bound.pop(sid, None)
            clients.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            try:
                sender = gate().issuer.verify(data.get("token"))
            except identity.IdentityError:
                await sio.emit("session_refused", {"error": "a valid conversation token is required"}, room=sid)
                return
            if data.get("session_id") not in (None, sender):
                await sio.emit("session_refused", {"error": "the token is for another conversation"}, room=sid)
                return
            bound[sid] = sender
            joined = sio.enter_room(sid, sender)
            if inspect.isawaitable(joined):
                await joined
            await sio.emit("session_confirm", sender, room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            sender = bound.get(sid)
            if sender is None or not isinstance(data, dict) or data.get("session_id") not in (None, sender):
                return
            text = data.get("message")
            text = identity.clean_text(text) if isinstance(text, str) else None
            problem = gate().refusal(sender, clients.get(sid, "?"), text)
            if problem:
                await sio.emit(self.bot_message_evt, {"text": gate().reply(problem)}, room=sid)
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            try:
                with gate().turn(sender):
                    await on_new_message(UserMessage(text, output, sender, input_channel=self.name(), metadata={}))
            except Exception as error:
                if not unavailable(error):
                    raise
                logger.error("Conversation %s: a part of the service is down (%s)", sender, error)
                await sio.emit(self.bot_message_evt, {"text": gate().reply("utilgaengelig")}, room=sid)

        return socketio_webhook
