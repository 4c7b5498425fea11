"""Conversation ids, tokens, limits and secrets in plain Python (bot/identity.py, bot/settings.py)."""
import os

import jwt
import pytest
from hypothesis import given, strategies as st

from bot import identity, settings


def issuer(now=1_800_000_000.0, ttl=3600):
    clock = {"now": now}
    return identity.Issuer("k" * 48, ttl, clock=lambda: clock["now"]), clock


def test_a_token_names_exactly_its_conversation():
    made, _ = issuer()
    sender, token = made.issue()
    assert identity.is_web_sender(sender) and made.verify(token) == sender
    assert made.sender_of(f"Bearer {token}") == sender
    other, _ = made.issue()
    assert other != sender


def test_tokens_expire_by_the_services_clock():
    made, clock = issuer(ttl=60)
    _, token = made.issue()
    clock["now"] += 61
    with pytest.raises(identity.IdentityError):
        made.verify(token)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer  ", "Basic abc", "bearer x.y.z", "Token abc"])
def test_anything_but_a_valid_bearer_token_is_refused(header):
    made, _ = issuer()
    with pytest.raises(identity.IdentityError):
        made.sender_of(header)


def test_a_token_signed_otherwise_or_for_something_else_is_refused():
    made, clock = issuer()
    sender, _ = made.issue()
    claims = {"sub": sender, "iat": int(clock["now"]), "exp": int(clock["now"]) + 60, "iss": identity.ISSUER,
              "aud": identity.AUDIENCE}
    for token in (jwt.encode(claims, "x" * 48, algorithm="HS256"),
                  jwt.encode(claims, None, algorithm="none"),
                  jwt.encode({**claims, "aud": "noget-andet"}, "k" * 48, algorithm="HS256"),
                  jwt.encode({**claims, "sub": "teams:t:u"}, "k" * 48, algorithm="HS256"),
                  "a" * 3000):
        with pytest.raises(identity.IdentityError):
            made.verify(token)


def test_teams_ids_live_in_their_own_namespace():
    sender = identity.teams_sender("0D9E8F7A-6B5C-4D3E-8F2A-1B0C9D8E7F6A", "6F0F2A8E-1111-4C3B-9E6B-2F4A3C1D0E9B")
    assert sender == "teams:0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a:6f0f2a8e-1111-4c3b-9e6b-2f4a3c1d0e9b"
    assert not identity.is_web_sender(sender)
    with pytest.raises(identity.IdentityError):
        identity.teams_sender("", "x")


def test_the_rate_limiter_allows_a_burst_then_the_rate():
    now = {"t": 0.0}
    limiter = identity.RateLimiter(per_minute=60, burst=3, clock=lambda: now["t"])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b"), "one key's flood leaves another alone"
    now["t"] += 1.0
    assert limiter.allow("a") and not limiter.allow("a")


def test_the_rate_limiter_forgets_old_keys_first():
    limiter = identity.RateLimiter(per_minute=60, burst=1, clock=lambda: 0.0, max_keys=2)
    for key in ("a", "b", "c"):
        limiter.allow(key)
    assert limiter.allow("a"), "a was forgotten, so it starts with a full bucket"


@pytest.mark.parametrize("text, problem", [("", "tom"), ("  \n\t", "tom"), ("\x00\u200e", "tom"), (None, "tom"),
                                           ("x" * 4001, "for_lang"), ("x" * 4000, None), ("hej", None)])
def test_check_text(text, problem):
    assert identity.check_text(text, 4000) == problem


def test_clean_text_removes_controls_and_bidi_overrides_but_keeps_lines_and_danish():
    assert identity.clean_text("Vi skal \u202espare\u202c på æøå\x00\x1b\nnæste linje\t.") == \
        "Vi skal spare på æøå\nnæste linje\t."


@given(st.text())
def test_clean_text_never_leaves_a_control_or_bidi_character(text):
    cleaned = identity.clean_text(text)
    assert not any(ch in cleaned for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert all(ch in "\n\t" or ord(ch) >= 32 and not 0x7f <= ord(ch) < 0xa0 for ch in cleaned)


# --- settings ----------------------------------------------------------------------------------------------------

def env(tmp_path, **extra):
    return {"BALANCECOACH_STATE_DIR": str(tmp_path / "var"), **extra}


def test_secrets_are_generated_private_and_never_in_the_repr(tmp_path):
    url = "postgresql://coach:hemmelig-adgangskode@db.herning.local:5432/coach"
    s = settings.load(env(tmp_path, BALANCECOACH_DATABASE_URL=url, BALANCECOACH_API="1"))
    for name in ("session_secret", "action_secret", "api_secret"):
        path = tmp_path / "var" / name
        assert path.stat().st_mode & 0o777 == 0o600 and len(path.read_text()) >= 32
        assert path.read_text() not in repr(s)
    assert (tmp_path / "var").stat().st_mode & 0o077 == 0
    assert "hemmelig-adgangskode" not in repr(s)
    assert s.database_display == "postgresql://coach:***@db.herning.local:5432/coach"
    again = settings.load(env(tmp_path))
    assert again.session_secret == s.session_secret, "a generated secret survives a restart"


def test_a_short_secret_from_the_environment_is_refused(tmp_path):
    with pytest.raises(settings.SettingsError, match="for kort"):
        settings.load(env(tmp_path, BALANCECOACH_SESSION_SECRET="kort"))


def test_a_secret_file_others_can_read_is_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 40)
    os.chmod(secret, 0o644)
    with pytest.raises(settings.SettingsError, match="chmod 600"):
        settings.load(env(tmp_path, BALANCECOACH_SESSION_SECRET_FILE=str(secret)))
    os.chmod(secret, 0o600)
    assert settings.load(env(tmp_path, BALANCECOACH_SESSION_SECRET_FILE=str(secret))).session_secret == "s" * 40


@pytest.mark.parametrize("name, value", [("BALANCECOACH_CORS_ORIGINS", "*"),
                                         ("BALANCECOACH_CORS_ORIGINS", "https://intranet.herning.dk/sti"),
                                         ("BALANCECOACH_AUTH_TOKEN", "gammelt-token"),
                                         ("BALANCECOACH_TEAMS_TENANT_ID", "herning.dk"),
                                         ("BALANCECOACH_API", "måske")])
def test_unsafe_settings_stop_the_start_with_a_clear_message(tmp_path, name, value):
    with pytest.raises(settings.SettingsError, match=name):
        settings.load(env(tmp_path, **{name: value}))


def test_defaults_are_loopback_and_no_api(tmp_path):
    s = settings.load(env(tmp_path))
    assert s.host == "127.0.0.1" and s.action_host == "127.0.0.1" and not s.api_enabled and s.cors_origins == ()
