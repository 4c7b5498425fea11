"""The web chat: the page at /webhooks/webchat/ and the widget's files, served by the Rasa server itself.

Leaders chat where they work, so the same `widget.js` runs on our page and, with one `<script>` tag, on any
intranet page. It talks to Rasa's socket.io channel (REST as fallback); this channel only serves files and
therefore never receives messages itself. Every response carries a strict Content-Security-Policy: no inline
script, no third-party origin — the socket.io client is vendored in `web/static/vendor/` (see its README).

The Danish the page shows lives in `web/tekster.json`: the template reads it here and the widget fetches it.

`PersistentSocketIOInput` is Rasa's socket.io channel with one repair (see its docstring); credentials.yml
registers it in place of the plain `socketio:` entry, with the same settings, name and URL.
"""
from __future__ import annotations

import inspect
import json
import re
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

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
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
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
            # Fetched by the widget, also from other intranet pages: the server's --cors setting (Stack: "*")
            # answers those, as it does for socket.io polling and the REST fallback.
            return response.json(texts()["widget"], dumps=lambda o: json.dumps(o, ensure_ascii=False))

        @webchat.route("/static/<name:path>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            path = files.get(name)
            if path is None:
                return response.text("Ikke fundet", status=404)
            return response.raw(path.read_bytes(), content_type=_TYPES[path.suffix])

        return webchat


class PersistentSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel, with session persistence that works on the installed python-socketio.

    Rasa 3.6 calls `sio.enter_room(...)` without `await`; since python-socketio 5.10 that is a coroutine, so
    the browser never joins its session's room and never receives a reply (a RuntimeWarning in the log is
    the only trace; RasaHQ/rasa#13027, fix proposed in #13168). This channel replaces just the
    `session_request` handler with one that awaits it.
    Name ("socketio"), URL (/socket.io) and events stay Rasa's, so any socket.io client keeps working.
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if isinstance(requested, str) and 0 < len(requested) <= 128 else uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid)

        sio.on("session_request", session_request, namespace=self.namespace)
        return socketio_webhook
