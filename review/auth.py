"""Who may use the review app, and how they prove it.

Local accounts keep an Argon2 hash of their password (argon2-cffi's defaults, RFC 9106's low-memory profile).
OpenID Connect logins (Entra ID) are checked twice: Authlib validates the ID token's signature against the
issuer's JWKS, its nonce, issuer, audience and expiry; `check_claims` below then checks issuer, audience,
expiry and tenant again against our own settings and picks the role. A token that fails either check gives
no session.

Roles: `coach` reads shared conversations and the organisation view; `hr` only the organisation view;
`admin` everything, plus the audit log and the user list. Every route says which roles it admits
(`kraever`), and the server enforces it; links are hidden only as a courtesy.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from review.models import ROLLER

MIN_KODEORD = 12
ROLLE_RANG = ("admin", "coach", "hr")
"""When a token carries several roles, the first of these it has wins: a coach who is also in HR keeps the
transcripts (HR sees only the organisation view, which coaches see too). One role per user for now."""

ROLLE_NAVN = {"coach": "Coach", "hr": "HR", "admin": "Administrator"}

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("ingen-bruger-har-dette-kodeord")


class KodeordFejl(ValueError):
    """A password that cannot be used (too short)."""


def hash_kodeord(kodeord: str) -> str:
    if len(kodeord) < MIN_KODEORD:
        raise KodeordFejl(f"Kodeordet skal have mindst {MIN_KODEORD} tegn.")
    return _hasher.hash(kodeord)


def tjek_kodeord(kodeord_hash: Optional[str], kodeord: str) -> bool:
    """True when the password matches. Without a hash (unknown user, OIDC account) a dummy hash is verified,
    so a wrong user name costs as much time as a wrong password."""
    try:
        return _hasher.verify(kodeord_hash or _DUMMY_HASH, kodeord) and bool(kodeord_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def skal_omhashes(kodeord_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(kodeord_hash)
    except InvalidHashError:
        return False


# --- Roles -------------------------------------------------------------------------------------------------


def kraever(*roller: str) -> Callable:
    """Route decorator: anonymous visitors go to /login, users without one of `roller` get 403.

    The user is loaded from the database on every request (review.web), so a removed account or a changed
    role takes effect at once.
    """
    for rolle in roller:
        if rolle not in ROLLER:
            raise ValueError(f"ukendt rolle {rolle!r}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            from flask import abort, g, redirect, request, url_for

            bruger = getattr(g, "bruger", None)
            if bruger is None:
                return redirect(url_for("login.login", naeste=request.full_path if request.method == "GET" else None))
            if bruger.rolle not in roller:
                abort(403)
            return view(*args, **kwargs)

        wrapper.roller = roller
        return wrapper

    return decorate


def hoejeste_rolle(roles: Any) -> Optional[str]:
    """The role a token's roles claim gives: admin before hr before coach; None when it names none of them."""
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, (list, tuple)):
        return None
    names = {str(r).strip().lower() for r in roles}
    return next((rolle for rolle in ROLLE_RANG if rolle in names), None)


# --- OpenID Connect claims ---------------------------------------------------------------------------------


class LoginAfvist(Exception):
    """A login that must not give a session. `besked` is shown to the user (Danish), `grund` goes to the audit
    log."""

    def __init__(self, grund: str, besked: str = "Du kunne ikke logges ind. Prøv igen, eller kontakt HR & Organisation."):
        super().__init__(grund)
        self.grund = grund
        self.besked = besked


@dataclass(frozen=True)
class OidcBruger:
    brugernavn: str
    navn: Optional[str]
    rolle: str


def _audiences(aud: Any) -> Iterable[str]:
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, (list, tuple)):
        return [str(a) for a in aud]
    return []


def check_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, tenant_id: str = "",
                 roles_claim: str = "roles", now: Optional[float] = None, leeway: int = 60) -> OidcBruger:
    """Check an ID token's claims (its signature already verified) and return who logs in with which role.

    Raises LoginAfvist naming the first failed check: issuer, audience (and `azp` when several audiences),
    expiry, tenant (`tid`, when a tenant is configured), subject, and a known role in `roles_claim`.
    """
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise LoginAfvist(f"forkert udsteder: {str(claims.get('iss'))[:200]}")
    audiences = list(_audiences(claims.get("aud")))
    if client_id not in audiences:
        raise LoginAfvist("forkert modtager (aud)")
    if len(audiences) > 1 and claims.get("azp") not in (None, client_id):
        raise LoginAfvist("forkert azp")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or exp + leeway < now:
        raise LoginAfvist("udløbet token")
    if tenant_id and str(claims.get("tid", "")).lower() != tenant_id.lower():
        raise LoginAfvist(f"forkert tenant (tid): {str(claims.get('tid'))[:64]}")
    subject = claims.get("sub")
    if not subject:
        raise LoginAfvist("token uden sub")
    rolle = hoejeste_rolle(claims.get(roles_claim))
    if rolle is None:
        raise LoginAfvist(
            "ingen kendt rolle",
            "Din konto har ikke adgang til gennemsynet. Bed HR & Organisation om rollen coach, hr eller admin.",
        )
    brugernavn = next((str(claims[k]).strip().lower() for k in ("preferred_username", "upn", "email")
                       if isinstance(claims.get(k), str) and claims[k].strip()), f"oidc:{subject}")
    navn = claims.get("name") if isinstance(claims.get("name"), str) else None
    return OidcBruger(brugernavn=brugernavn[:255], navn=(navn or None) and navn[:255], rolle=rolle)
