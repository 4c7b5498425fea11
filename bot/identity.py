"""Who may reach a conversation: ids the server issues, tokens it signs, and the limits each client lives with.

Rasa's channels trust the `sender` a client names, so anyone who learned or guessed an id could read or
delete that leader's conversation. Here the server makes the id (128 random bits) and signs a token that
names it; a channel accepts a message only with a valid token for exactly that id. Teams conversations are
keyed by tenant and the user's AAD object id in their own namespace, so no web id can ever collide with
one. Plain Python (PyJWT, HS256), tested directly; the channels in `rasa_addons/` call it.
"""
from __future__ import annotations

import secrets
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import jwt

WEB_PREFIX = "web-"
TEAMS_PREFIX = "teams:"
ISSUER = "balancecoach"
AUDIENCE = "balancecoach-samtale"


class IdentityError(ValueError):
    """The request does not prove it may reach the conversation it names."""


def new_web_sender() -> str:
    return WEB_PREFIX + secrets.token_hex(16)


def teams_sender(tenant_id: str, aad_object_id: str) -> str:
    """One leader in Teams, in a namespace web ids (`web-…`) can never enter."""
    if not tenant_id or not aad_object_id:
        raise IdentityError("a Teams activity without tenant or AAD object id")
    return f"{TEAMS_PREFIX}{tenant_id.lower()}:{aad_object_id.lower()}"


def is_web_sender(sender: object) -> bool:
    return (isinstance(sender, str) and sender.startswith(WEB_PREFIX) and len(sender) == len(WEB_PREFIX) + 32
            and all(c in "0123456789abcdef" for c in sender[len(WEB_PREFIX):]))


@dataclass(frozen=True)
class Issuer:
    """Signs and checks conversation tokens with one secret (rotating it ends every open web conversation)."""

    secret: str
    ttl_seconds: int
    clock: Callable[[], float] = time.time

    def issue(self) -> Tuple[str, str]:
        sender = new_web_sender()
        now = int(self.clock())
        token = jwt.encode({"sub": sender, "iat": now, "exp": now + self.ttl_seconds, "iss": ISSUER,
                            "aud": AUDIENCE}, self.secret, algorithm="HS256")
        return sender, token

    def sender_of(self, authorization: Optional[str]) -> str:
        """The conversation a `Bearer <token>` header may reach; IdentityError for anything else."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise IdentityError("no Bearer token")
        return self.verify(token.strip())

    def verify(self, token: object) -> str:
        if not isinstance(token, str) or len(token) > 2048:
            raise IdentityError("no token")
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": ["exp", "sub", "iat"], "verify_iat": False},
                                leeway=0, )
            if claims["exp"] < self.clock():  # PyJWT reads the real clock; the service may run a settable one
                raise IdentityError("expired token")
        except jwt.PyJWTError as error:
            raise IdentityError(f"invalid token: {error}") from None
        sender = claims.get("sub")
        if not is_web_sender(sender):
            raise IdentityError("token for no conversation")
        return sender


class RateLimiter:
    """Token buckets per key (a conversation, a client address): `burst` at once, then `per_minute`.

    Bounded: the least recently seen keys are forgotten first, so a flood of new keys cannot fill memory.
    """

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 50000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens, seen = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - seen) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))


def clean_text(text: str) -> str:
    """The message as the coach should read and quote it: NFC, no control characters (but line breaks and
    tabs), no bidi overrides, which could make a quoted sentence read backwards or hide text."""
    text = unicodedata.normalize("NFC", text).translate(_BIDI)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


def check_text(text: object, max_chars: int) -> Optional[str]:
    """Why a message cannot go to the coach as it is: "tom", "for_lang", or None when it can."""
    if not isinstance(text, str):
        return "tom"
    if len(text) > max_chars:
        return "for_lang"
    if not "".join(ch for ch in text if ch.isprintable() and not ch.isspace()):
        return "tom"
    return None


def pseudonym(sender_id: str, secret: str) -> str:
    """A leader's stable pseudonym: a keyed hash of the channel identity, so a coach can see that shared
    conversations come from the same leader without learning who (and nobody without the key can link a
    pseudonym back to an identity). Teams identities are stable; a web conversation is its own identity."""
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), sender_id.encode(), hashlib.sha256).hexdigest()
    return "L-" + digest[:10].upper()
