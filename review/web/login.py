"""Logging in and out: local accounts (user name and password) and, when configured, OpenID Connect.

The OpenID Connect login is the authorization-code flow with state, nonce and PKCE (S256), through Authlib's
Flask client; discovery at `{issuer}/.well-known/openid-configuration`. Authlib verifies the ID token's
signature with the issuer's JWKS and its nonce, issuer, audience and expiry; `review.auth.check_claims` checks
issuer, audience, expiry and tenant again against our settings and picks the role. Any failure: no session,
a "login_afvist" row in the audit log, and the login page with a Danish message.
"""
from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Optional
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for)
from sqlalchemy import select

from review import auth
from review.models import Bruger
from review.web import db, revision, settings

bp = Blueprint("login", __name__)

OIDC_NAME = "entra"


def init_oidc(app, settings_) -> None:
    if not settings_.oidc_configured:
        return
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        OIDC_NAME,
        client_id=settings_.oidc_client_id,
        client_secret=settings_.oidc_client_secret or None,
        server_metadata_url=settings_.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions["bc_oauth"] = oauth


def _oidc_client():
    oauth = current_app.extensions.get("bc_oauth")
    return oauth.create_client(OIDC_NAME) if oauth else None


def _safe_next(target: Optional[str]) -> str:
    """Only a path on this site (never //host or a scheme) may follow a login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and not parts.path.startswith("/login"):
            return target.rstrip("?") or "/"
    return url_for("login.forside")


def _start_session(bruger: Bruger) -> None:
    session.clear()
    session.permanent = True
    session["bruger_id"] = bruger.id
    session["login_tid"] = time.time()


def _login_page(fejl: Optional[str] = None, status: int = 200, brugernavn: str = ""):
    return render_template("login.html", fejl=fejl, brugernavn=brugernavn, oidc=settings().oidc_configured,
                           naeste=request.values.get("naeste", "")), status


@bp.get("/")
def forside():
    bruger = g.bruger
    if bruger is None:
        return redirect(url_for("login.login"))
    if bruger.rolle == "hr":
        return redirect(url_for("hr.indbakke"))
    return redirect(url_for("samtaler.liste"))


@bp.get("/login")
def login():
    if g.bruger is not None:
        return redirect(_safe_next(request.args.get("naeste")))
    return _login_page()


@bp.post("/login")
def login_post():
    brugernavn = (request.form.get("brugernavn") or "").strip().lower()[:255]
    kodeord = request.form.get("kodeord") or ""
    bruger = db().execute(select(Bruger).where(Bruger.brugernavn == brugernavn)).scalar_one_or_none() \
        if brugernavn else None
    lokal = bruger is not None and bruger.kilde == "lokal"
    ok = auth.tjek_kodeord(bruger.kodeord_hash if lokal else None, kodeord[:1024])
    if not (ok and lokal and bruger.rolle in auth.ROLLE_RANG):
        time.sleep(random.uniform(0.3, 0.8))  # slows guessing; no lockout an attacker could use against a coach
        revision("login_afvist", bruger=brugernavn or None, detaljer="lokal konto: forkert brugernavn eller kodeord")
        session.clear()
        return _login_page("Forkert brugernavn eller kodeord.", 401, brugernavn)
    if auth.skal_omhashes(bruger.kodeord_hash):
        bruger.kodeord_hash = auth.hash_kodeord(kodeord)
        db().commit()
    _start_session(bruger)
    revision("login", bruger=bruger.brugernavn, detaljer="lokal konto")
    return redirect(_safe_next(request.form.get("naeste")))


@bp.get("/login/oidc")
def oidc_start():
    client = _oidc_client()
    if client is None:
        return redirect(url_for("login.login"))
    naeste = request.args.get("naeste")
    session.pop("bruger_id", None)
    session.pop("login_tid", None)
    session["naeste"] = _safe_next(naeste)
    try:
        return client.authorize_redirect(url_for("login.oidc_callback", _external=True))
    except Exception as error:  # discovery failed: the identity provider is down or misconfigured
        current_app.logger.warning("OpenID Connect: kunne ikke starte login: %s", error)
        revision("login_afvist", detaljer=f"oidc: opdagelse fejlede ({type(error).__name__})")
        return _login_page("Log ind med Microsoft virker ikke lige nu. Prøv igen om lidt.", 503)


@bp.get("/login/oidc/callback")
def oidc_callback():
    client = _oidc_client()
    if client is None:
        return redirect(url_for("login.login"))
    s = settings()
    naeste = session.get("naeste")
    claims = None
    try:
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "values": [s.oidc_issuer]},
                "aud": {"essential": True, "values": [s.oidc_client_id]},
                "exp": {"essential": True},
                "sub": {"essential": True},
            },
            leeway=60,
        )
        claims = token.get("userinfo") if isinstance(token, dict) else None
        if not claims:
            raise auth.LoginAfvist("intet ID-token eller ingen nonce")
        hvem = auth.check_claims(dict(claims), issuer=s.oidc_issuer, client_id=s.oidc_client_id,
                                 tenant_id=s.oidc_tenant_id, roles_claim=s.oidc_roles_claim)
        bruger = db().execute(select(Bruger).where(Bruger.brugernavn == hvem.brugernavn)).scalar_one_or_none()
        if bruger is not None and bruger.kilde != "oidc":
            raise auth.LoginAfvist(f"lokal konto med samme brugernavn: {hvem.brugernavn}",
                                   "Der findes allerede en lokal konto med dit brugernavn. Kontakt en administrator.")
    except auth.LoginAfvist as error:
        who = claims.get("preferred_username") if claims else None
        return _afvis(error.grund, error.besked, claims_user=str(who)[:255] if who else None)
    except Exception as error:  # bad signature, wrong issuer/audience/nonce, expired, provider error, ...
        grund = f"oidc: {type(error).__name__}: {str(error)[:300]}"
        return _afvis(grund, "Du kunne ikke logges ind med Microsoft. Prøv igen, eller kontakt HR & Organisation.")
    if bruger is None:
        bruger = Bruger(brugernavn=hvem.brugernavn, kilde="oidc", rolle=hvem.rolle, oprettet=datetime.utcnow())
        db().add(bruger)
    bruger.rolle = hvem.rolle  # the identity provider's roles rule: a role removed there is gone here
    bruger.navn = hvem.navn or bruger.navn
    db().commit()
    _start_session(bruger)
    revision("login", bruger=bruger.brugernavn, detaljer=f"oidc, rolle {bruger.rolle}")
    return redirect(_safe_next(naeste))


def _afvis(grund: str, besked: str, claims_user: Optional[str] = None):
    session.clear()
    db().rollback()
    revision("login_afvist", bruger=claims_user, detaljer=grund if grund.startswith("oidc") else f"oidc: {grund}")
    return _login_page(besked, 403)


@bp.post("/logout")
def logout():
    if g.bruger is not None:
        revision("logout")
    session.clear()
    flash("Du er logget ud.")
    return redirect(url_for("login.login"))
