"""What every channel checks before a message reaches the coach: size, emptiness and pace.

REST, socket.io and Teams share one `Gate` per server; with several servers on one Redis (the production
shape) the limits are kept in Redis, one per conversation and client across all servers. A message that is
empty, longer than the configured length, or one too many from the same conversation or client is answered
here, in the coach's Danish (`utter_besked_*` in domain.yml), and never reaches Rasa — nothing of it is stored. A conversation has at
most `MAX_IN_FLIGHT` messages waiting at once, so a flood from one leader cannot queue up turns that hold the
others back.
"""
from __future__ import annotations

import contextlib
import hashlib
from functools import lru_cache
from typing import Dict, Iterator, Optional

from bot import identity
from bot import settings as settings_module

MAX_IN_FLIGHT = 2
REPLIES = {"tom": "utter_besked_tom", "for_lang": "utter_besked_for_lang", "vent_lidt": "utter_besked_vent_lidt",
           "utilgaengelig": "utter_drift_utilgaengelig"}


def unavailable(error: BaseException) -> bool:
    """A turn that failed because a part of the service is down for a moment — the action server
    (rasa_addons/patches.py stops such a turn before it is stored), PostgreSQL or Redis — rather than a fault in
    the coach: the leader is told so in Danish and can send the message again."""
    import redis.exceptions
    import sqlalchemy.exc

    from rasa_addons.patches import CoachUnavailable

    down = (CoachUnavailable, sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, ConnectionError,
            redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
    seen = error
    for _ in range(5):
        if isinstance(seen, down):
            return True
        seen = seen.__cause__ or seen.__context__
        if seen is None:
            return False
    return False


@lru_cache(maxsize=None)
def reply(kind: str, max_chars: int = 4000) -> str:
    """The Danish reply for a refused message, from the coach's domain like everything else it says (domain.yml
    and what bot/domain_parts.py adds to it, as Rasa sees it)."""
    from bot.domain_parts import merged_domain

    responses = merged_domain()["responses"]
    return responses[REPLIES[kind]][0]["text"].strip().format(max_tegn=f"{max_chars:,}".replace(",", "."))


_BUCKET = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local kept = redis.call('HMGET', KEYS[1], 't', 's')
local tokens = math.min(burst, (tonumber(kept[1]) or burst) + (now - (tonumber(kept[2]) or now)) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return allowed
"""


class SharedRateLimiter:
    """`identity.RateLimiter`'s token buckets kept in Redis, so several Rasa servers share one limit per
    conversation and per client (each server counting alone would let N times as much through). The bucket
    is updated by one script, atomically, on Redis's clock. If Redis does not answer, the message is let
    through: the lock store, on the same Redis, then refuses the turn with the coach's Danish message."""

    def __init__(self, client, name: str, per_minute: float, burst: int) -> None:
        import redis.exceptions

        self.name, self.rate, self.burst = name, per_minute / 60.0, burst
        self._script = client.register_script(_BUCKET)
        self._unanswered = redis.exceptions.RedisError

    def allow(self, key: str) -> bool:
        bucket = f"balancecoach:graense:{self.name}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
        try:
            return bool(self._script(keys=[bucket], args=[self.rate, self.burst]))
        except self._unanswered:
            return True


def _limiters(settings: settings_module.Settings) -> dict:
    """Shared limits when the Rasa servers share a Redis lock store (endpoints.production.yml), else this
    server's own."""
    limits = {"samtale": (settings.messages_per_minute, settings.message_burst),
              "klient": (settings.client_messages_per_minute, max(settings.client_messages_per_minute // 3, 20)),
              "nye": (settings.sessions_per_minute, 2 * settings.sessions_per_minute)}
    if settings.redis_locks:
        import redis

        client = redis.Redis(host=settings.redis_host, port=settings.redis_port, db=1, socket_timeout=2,
                             socket_connect_timeout=2)
        return {name: SharedRateLimiter(client, name, *limit) for name, limit in limits.items()}
    return {name: identity.RateLimiter(*limit) for name, limit in limits.items()}


class Gate:
    def __init__(self, settings: settings_module.Settings) -> None:
        self.settings = settings
        self.issuer = identity.Issuer(settings.session_secret, settings.session_ttl_days * 86400,
                                      clock=_clock())
        limiters = _limiters(settings)
        self.per_conversation, self.per_client = limiters["samtale"], limiters["klient"]
        self.new_sessions = limiters["nye"]
        self._in_flight: Dict[str, int] = {}

    def refusal(self, sender: str, client: str, text: object) -> Optional[str]:
        """Why this message gets a reply from the gate instead of the coach, or None."""
        problem = identity.check_text(text, self.settings.max_message_chars)
        if problem:
            return problem
        if self._in_flight.get(sender, 0) >= MAX_IN_FLIGHT:
            return "vent_lidt"
        if not self.per_conversation.allow(sender) or not self.per_client.allow(client or "?"):
            return "vent_lidt"
        return None

    def reply(self, kind: str) -> str:
        return reply(kind, self.settings.max_message_chars)

    @contextlib.contextmanager
    def turn(self, sender: str) -> Iterator[None]:
        self._in_flight[sender] = self._in_flight.get(sender, 0) + 1
        try:
            yield
        finally:
            left = self._in_flight[sender] - 1
            if left:
                self._in_flight[sender] = left
            else:
                del self._in_flight[sender]


def client_of(request) -> str:
    """The client's address (behind a reverse proxy Sanic's PROXIES_COUNT/REAL_IP_HEADER decide it)."""
    return request.remote_addr or request.ip or "?"


def _clock():
    from rasa_addons.clock import now

    return now


_gate: Optional[Gate] = None


def gate() -> Gate:
    """The server's one gate, built on first use (channels are created before the event loop runs)."""
    global _gate
    if _gate is None:
        _gate = Gate(settings_module.load())
    return _gate
