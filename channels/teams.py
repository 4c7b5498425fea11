"""Microsoft Teams: Rasa's Bot Framework channel, made to work for single-tenant bots and for Teams.

Why a subclass rather than Rasa's `botframework` channel as it is:
- Rasa 3.6 fetches its reply token from botframework.com, which only multi-tenant Azure bots can use, and
  Microsoft no longer lets new bots be multi-tenant. A single-tenant bot gets its token from its own tenant
  (`login.microsoftonline.com/<tenant>/oauth2/v2.0/token`); with no tenant set we keep botframework.com.
- Rasa 3.6 downloads Microsoft's signing keys when the server starts (a server without internet cannot
  start) and accepts any algorithm the token names. Here keys are fetched on the first request, refreshed
  daily or when an unknown key id shows up, and a token must be RS256, issued by the Bot Framework, for
  this bot, unexpired, and must name the `serviceUrl` we are about to send our own token to.
- Settings come from `bot/settings.py` (environment), never from credentials.yml, and without them the
  webhook answers 503 instead of stopping the server.
- Teams shows buttons as suggested actions (it shows at most three; more become an Adaptive Card) and the
  summary's balance picture as a PNG image attached to the summary text. Text is sent as plain text, so
  nothing a leader wrote is read as markup.
- A pressed suggested action arrives as its title. The title is turned back into the button's payload from
  the conversation's tracker, not from memory, so any of several Rasa servers sharing the tracker store can
  take the press.

Tests point the OpenID metadata and token URLs at local servers; the validation code is the same.
"""
from __future__ import annotations

import rasa_addons.patches  # noqa: F401  (the Rasa 3.6 fixes, before Rasa runs anything of ours)

import asyncio
import datetime
import logging
import re
import time
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple
from urllib.parse import quote

import aiohttp
import jwt
import requests
from jwt import PyJWTError
from jwt.algorithms import RSAAlgorithm
from rasa.core.channels.botframework import MICROSOFT_OPEN_ID_URI, BotFramework, BotFrameworkInput
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import identity
from bot import settings as settings_module
from channels.gate import gate, unavailable

logger = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT = "botframework.com"
MAX_SUGGESTED_ACTIONS = 3  # Teams displays no more than three
KEY_REFRESH_AFTER = datetime.timedelta(days=1)
UNKNOWN_KEY_RETRY_SECONDS = 300
CLOCK_SKEW_SECONDS = 300
HTTP_TIMEOUT_SECONDS = 15
_MENTION = re.compile(r"<at>.*?</at>", re.S)


class TeamsAuthError(PyJWTError):
    """The request is not a valid Bot Framework request for this bot."""


def token_url(tenant_id: str, override: str = "") -> str:
    """Where the bot gets the token it sends replies with: its tenant, or botframework.com if multi-tenant."""
    if override:
        return override
    return f"https://login.microsoftonline.com/{tenant_id or MULTI_TENANT}/oauth2/v2.0/token"


class _TokenCache:
    """Access tokens per (token URL, app id), renewed five minutes before they expire."""

    def __init__(self) -> None:
        self._tokens: Dict[Tuple[str, str], Tuple[str, float]] = {}
        self._lock = asyncio.Lock()

    async def get(self, url: str, app_id: str, password: str) -> Optional[str]:
        key = (url, app_id)
        async with self._lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > time.time() + 300:
                return cached[0]
            form = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": password,
                    "scope": BOT_FRAMEWORK_SCOPE}
            try:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS)) as s:
                    async with s.post(url, data=form) as reply:
                        if reply.status != 200:
                            logger.error("Teams: token endpoint %s answered %s", url, reply.status)
                            return None
                        body = await reply.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                logger.error("Teams: could not get a token from %s: %s", url, error)
                return None
            token = body.get("access_token")
            if not token:
                logger.error("Teams: token endpoint %s gave no access_token", url)
                return None
            self._tokens[key] = (token, time.time() + float(body.get("expires_in") or 3600))
            return token


_tokens = _TokenCache()


class TeamsOutput(BotFramework):
    """Replies to Teams through the Bot Connector service that sent the message."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    def __init__(self, settings: settings_module.Settings, conversation: Dict[Text, Any], bot: Dict[Text, Any],
                 service_url: Text, user_id: Text = "") -> None:
        super().__init__(settings.teams_app_id, settings.teams_app_password, conversation, bot, service_url)
        self.settings = settings
        self.user_id = user_id  # Teams' id of the leader; the conversation's own id is ours (tenant + AAD id)

    async def _get_headers(self) -> Optional[Dict[Text, Any]]:
        s = self.settings
        token = await _tokens.get(token_url(s.teams_tenant_id, s.teams_token_url), s.teams_app_id,
                                  s.teams_app_password)
        if token is None:
            return None
        return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    async def send(self, message_data: Dict[Text, Any]) -> None:
        headers = await self._get_headers()
        if headers is None:
            logger.error("Teams: no token, reply not sent")
            return
        url = f"{self.global_uri}conversations/{quote(str(self.conversation['id']), safe='')}/activities"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS)) as s:
                async with s.post(url, json=message_data, headers=headers) as reply:
                    if reply.status >= 300:
                        logger.error("Teams: Bot Connector answered %s: %s", reply.status, await reply.text())
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("Teams: could not send the reply: %s", error)

    def prepare_message(self, recipient_id: Text, message_data: Dict[Text, Any]) -> Dict[Text, Any]:
        data = super().prepare_message(self.user_id or recipient_id, message_data)
        data.setdefault("textFormat", "plain")
        data.pop("channelData", None)  # Rasa adds a notification alert to every message; Teams needs none
        return data

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        choices = [(str(b.get("title") or ""), str(b.get("payload") or "")) for b in buttons if b.get("title")]
        if len(choices) <= MAX_SUGGESTED_ACTIONS:
            # imBack sends the title as the leader's message (what they see is what they said); the input
            # channel turns it back into the button's payload (`pressed_payload`).
            message = {
                "text": text,
                "suggestedActions": {
                    "to": [self.user_id or recipient_id],
                    "actions": [{"type": "imBack", "title": t, "value": t} for t, _ in choices],
                },
            }
        else:
            message = {"attachments": [adaptive_card(text, choices)]}
        await self.send(self.prepare_message(recipient_id, message))

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        picture = await png_of(balance_picture(json_message))
        if picture is None:
            logger.debug("Teams: custom message without anything Teams can show; skipped")
            return
        await self.send(self.prepare_message(recipient_id, {"attachments": [image_attachment(picture)]}))

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """The summary: its text and the balance picture (drawn here, as PNG) in one Teams message."""
        picture = balance_picture(message.get("custom"))
        if picture is not None and message.get("text") and not message.get("buttons"):
            picture = await png_of(picture)
            text = message.pop("text")
            message.pop("custom")
            await self.send(self.prepare_message(
                recipient_id, {"text": text, "attachments": [image_attachment(picture)] if picture else []}
            ))
        await super().send_response(recipient_id, message)


def balance_picture(custom: Any) -> Optional[Dict[str, str]]:
    """The balance picture in a custom payload: `{"data": {"balancebillede": ...}}` or without `data`."""
    if not isinstance(custom, dict):
        return None
    data = custom.get("data") if isinstance(custom.get("data"), dict) else custom
    picture = data.get("balancebillede")
    if isinstance(picture, dict) and (isinstance(picture.get("tegning"), dict) or picture.get("png")):
        return picture
    return None


async def png_of(picture: Optional[Dict[str, Any]]) -> Optional[Dict[str, str]]:
    """The picture with its PNG: the message carries only what is needed to draw it (`tegning`)."""
    if picture is None or isinstance(picture.get("png"), str):
        return picture
    import base64

    from channels.pictures import draw

    drawn = await draw(picture["tegning"])
    return {**picture, "png": base64.b64encode(drawn.png).decode("ascii")}


def image_attachment(picture: Dict[str, str]) -> Dict[str, Any]:
    name = picture.get("filnavn") or "balancebillede"
    return {"contentType": "image/png", "contentUrl": f"data:image/png;base64,{picture['png']}", "name": f"{name}.png"}


def adaptive_card(text: str, choices: List[Tuple[str, str]]) -> Dict[str, Any]:
    """Text and one button per choice; a press sends the payload and shows the title (messageBack)."""
    return {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": text, "wrap": True}],
            "actions": [
                {"type": "Action.Submit", "title": title,
                 "data": {"msteams": {"type": "messageBack", "text": payload, "displayText": title}}}
                for title, payload in choices
            ],
        },
    }


def pressed_payload(text: str, tracker: Optional[DialogueStateTracker]) -> str:
    """The payload of the button titled `text` (any case) in the bot's latest message, if the leader has said
    nothing since: a title typed later, or to an older question, is what the leader wrote."""
    for event in reversed(tracker.events if tracker is not None else ()):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            for button in event.data.get("buttons") or ():
                if str(button.get("title") or "").casefold() == text.casefold() and button.get("payload"):
                    return str(button["payload"])
            break
    return text


class TeamsInput(BotFrameworkInput):
    """The Teams webhook: /webhooks/teams/webhook (the messaging endpoint to register in Azure)."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(settings_module.load())

    def __init__(self, settings: settings_module.Settings) -> None:  # noqa: no super(): it fetches keys at start
        self.settings = settings
        self.app_id = settings.teams_app_id
        self.app_password = settings.teams_app_password
        self.openid_url = settings.teams_openid_url or MICROSOFT_OPEN_ID_URI
        self.jwt_keys: Dict[Text, Any] = {}
        self.jwt_update_time = datetime.datetime.fromtimestamp(0)
        self._last_unknown_key_refresh = 0.0

    # --- keys and tokens -----------------------------------------------------------------------------

    def _update_cached_jwk_keys(self) -> None:
        """Microsoft's signing keys from the OpenID metadata (the URL is overridable for tests)."""
        metadata = requests.get(self.openid_url, timeout=HTTP_TIMEOUT_SECONDS)
        metadata.raise_for_status()
        keys = requests.get(metadata.json()["jwks_uri"], timeout=HTTP_TIMEOUT_SECONDS)
        keys.raise_for_status()
        self.jwt_keys = {key["kid"]: key for key in keys.json()["keys"] if "kid" in key}
        self.jwt_update_time = datetime.datetime.now()

    async def _refresh_keys(self, reason: str) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._update_cached_jwk_keys)
        except (requests.RequestException, ValueError, KeyError) as error:
            logger.warning("Teams: could not load signing keys from %s (%s): %s", self.openid_url, reason, error)

    async def _claims(self, auth_header: Optional[str], activity: Dict[str, Any]) -> Dict[str, Any]:
        """The verified claims of the request's token; raises TeamsAuthError (or PyJWTError) otherwise."""
        match = re.fullmatch(r"Bearer\s+(\S+)", (auth_header or "").strip())
        if not match:
            raise TeamsAuthError("no Bearer token")
        token = match.group(1)
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise TeamsAuthError(f"algorithm {header.get('alg')!r} is not RS256")
        if datetime.datetime.now() - self.jwt_update_time > KEY_REFRESH_AFTER:
            await self._refresh_keys("daily")
        kid = header.get("kid")
        if kid not in self.jwt_keys and time.time() - self._last_unknown_key_refresh > UNKNOWN_KEY_RETRY_SECONDS:
            self._last_unknown_key_refresh = time.time()
            await self._refresh_keys(f"unknown key {kid}")
        return self._validate_jwt_token(token, activity)

    def _validate_jwt_token(self, jwt_token: Text, activity: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        header = jwt.get_unverified_header(jwt_token)
        key = self.jwt_keys.get(header.get("kid"))
        if key is None:
            raise TeamsAuthError(f"unknown signing key {header.get('kid')!r}")
        channel = (activity or {}).get("channelId")
        if key.get("endorsements") and channel and channel not in key["endorsements"]:
            raise TeamsAuthError(f"key is not endorsed for channel {channel!r}")
        claims = jwt.decode(
            jwt_token,
            key=RSAAlgorithm.from_jwk(key),
            algorithms=["RS256"],
            audience=self.app_id,
            issuer=BOT_FRAMEWORK_ISSUER,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
        self._check_service_url(claims, (activity or {}).get("serviceUrl"))
        return claims

    def _check_service_url(self, claims: Dict[str, Any], service_url: Optional[str]) -> None:
        """Replies carry our own token to `serviceUrl`: it must be the one Microsoft signed, or allow-listed."""
        if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
            raise TeamsAuthError("activity without a valid serviceUrl")
        signed = claims.get("serviceurl") or claims.get("serviceUrl")
        if signed is not None and signed.rstrip("/") != service_url.rstrip("/"):
            raise TeamsAuthError("serviceUrl differs from the one in the token")
        allowed = self.settings.teams_service_urls
        if allowed and not any(service_url.startswith(prefix) for prefix in allowed):
            raise TeamsAuthError("serviceUrl is not in BALANCECOACH_TEAMS_SERVICE_URLS")
        if signed is None and not allowed:
            raise TeamsAuthError("token names no serviceUrl and no allow-list is set")

    # --- who may talk to the coach ----------------------------------------------------------------------

    @staticmethod
    def tenant_of(activity: Dict[str, Any]) -> str:
        tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
        return str(tenant or (activity.get("conversation") or {}).get("tenantId") or "")

    def foreign(self, activity: Dict[str, Any]) -> Optional[str]:
        """Why an authenticated activity is still not for this coach: another channel than Teams, or another
        tenant than the municipality's (a multi-tenant bot, with no tenant set, takes no messages at all)."""
        if activity.get("channelId") != "msteams":
            return f"channel {activity.get('channelId')!r} is not msteams"
        configured = self.settings.teams_tenant_id.lower()
        if not configured:
            return "BALANCECOACH_TEAMS_TENANT_ID is not set: no tenant's leaders are accepted"
        if self.tenant_of(activity).lower() != configured:
            return "activity from another tenant"
        return None

    # --- buttons ---------------------------------------------------------------------------------------

    @staticmethod
    def message_text(activity: Dict[str, Any]) -> str:
        text = _MENTION.sub("", str(activity.get("text") or "")).strip()
        if not text and isinstance(activity.get("value"), dict):  # Action.Submit without messageBack
            text = str(activity["value"].get("payload") or "")
        return text

    @staticmethod
    async def tracker_of(request: Request, sender: str) -> Optional[DialogueStateTracker]:
        """The conversation as the shared tracker store has it, whichever server offered the buttons."""
        agent = getattr(request.app.ctx, "agent", None)
        store = getattr(agent, "tracker_store", None)
        return await store.retrieve(sender) if store is not None else None

    # --- webhook -----------------------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        teams = Blueprint("teams_webhook", __name__)

        @teams.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.teams_configured else "not configured"})

        @teams.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.settings.teams_configured:
                return response.json({"error": "Teams is not configured on this server"},
                                     status=HTTPStatus.SERVICE_UNAVAILABLE)
            try:
                activity = request.json
            except Exception:  # sanic raises its own error type for a bad body
                activity = None
            if not isinstance(activity, dict):
                return response.json({"error": "expected a Bot Framework activity"}, status=HTTPStatus.BAD_REQUEST)
            try:
                await self._claims(request.headers.get("Authorization"), activity)
            except (PyJWTError, ValueError, KeyError, TypeError) as error:  # a malformed key or token, too
                logger.warning("Teams: request refused: %s", error)
                return response.json({"error": "unauthorized"}, status=HTTPStatus.UNAUTHORIZED)

            refusal = self.foreign(activity)
            if refusal:
                logger.warning("Teams: activity refused: %s", refusal)
                return response.json({"error": refusal}, status=HTTPStatus.FORBIDDEN)
            if activity.get("type") != "message":
                return response.json({"status": "ignored"})
            try:
                conversation = activity["conversation"]
                sender = identity.teams_sender(self.tenant_of(activity), activity["from"]["aadObjectId"])
                out = TeamsOutput(self.settings, conversation, activity["recipient"], activity["serviceUrl"],
                                  user_id=activity["from"]["id"])
                text = identity.clean_text(self.message_text(activity))
            except (KeyError, TypeError, AttributeError, identity.IdentityError) as error:
                return response.json({"error": f"incomplete activity: {error}"}, status=HTTPStatus.BAD_REQUEST)
            problem = gate().refusal(sender, f"teams:{conversation.get('id')}", text)
            if problem:
                await out.send(out.prepare_message(activity["from"]["id"], {"text": gate().reply(problem)}))
                return response.json({"status": "ok"})
            try:
                text = pressed_payload(text, await self.tracker_of(request, sender))
                with gate().turn(sender):
                    await on_new_message(UserMessage(text=text, output_channel=out, sender_id=sender,
                                                     input_channel=self.name(), metadata={}))
            except Exception as error:
                if not unavailable(error):
                    raise
                logger.error("Teams: a part of the service is down (%s)", error)
                await out.send(out.prepare_message(activity["from"]["id"], {"text": gate().reply("utilgaengelig")}))
            return response.json({"status": "ok"})

        return teams
