"""OpenID Connect login against a real (local) identity provider: discovery, JWKS from an RSA key made here,
/authorize redirecting back with a code, /token answering an ID token this test signs. The review app runs in
Flask's test client and talks to the provider over HTTP, as it would to Entra ID.

A good token with a known role gives a session; a wrong issuer, audience or tenant, an expired token, a bad
signature, a wrong nonce, a tampered state or no known role give none, and each leaves "login_afvist" in the
audit log.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, redirect, request
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from bot.settings import load
from review.db import engine_for, upgrade
from review.models import Bruger, Revision
from review.web import create_app

CLIENT_ID = "3f0c2a57-9d7e-4c1a-8a43-0c9b7f2d1e11"
CLIENT_SECRET = "test-klient-hemmelighed"
TENANT = "7a1d4b38-2c55-4f0e-9b6a-5d3e8c9f0a21"


class Provider:
    """A tiny OpenID provider. `claims` (merged into a good ID token) and `key` (what signs it) are set per test."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_key = self.key
        self.claims: dict = {}
        self.drop: tuple = ()
        self.codes: dict = {}
        self.authorize_requests: list = []
        self.token_requests: list = []
        app = Flask("idp")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self.discovery)
        app.add_url_rule("/jwks", view_func=self.jwks)
        app.add_url_rule("/authorize", view_func=self.authorize)
        app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        self.signing_key, self.claims, self.drop = self.key, {}, ()
        self.codes.clear()
        self.authorize_requests.clear()
        self.token_requests.clear()

    def discovery(self):
        return jsonify({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })

    def jwks(self):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid="k1", use="sig", alg="RS256")
        return jsonify({"keys": [jwk]})

    def authorize(self):
        args = request.args.to_dict()
        self.authorize_requests.append(args)
        code = secrets.token_urlsafe(16)
        self.codes[code] = args
        query = urllib.parse.urlencode({"code": code, "state": args.get("state", "")})
        return redirect(f"{args['redirect_uri']}?{query}")

    def token(self):
        form = request.form.to_dict()
        self.token_requests.append({"form": form, "authorization": request.headers.get("Authorization")})
        grant = self.codes.pop(form.get("code"), None)
        if grant is None or grant.get("redirect_uri") != form.get("redirect_uri"):
            return jsonify({"error": "invalid_grant"}), 400
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant.get("code_challenge_method") != "S256" or challenge != grant.get("code_challenge"):
            return jsonify({"error": "invalid_grant", "error_description": "PKCE"}), 400
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "sub-" + uuid.uuid4().hex[:8], "iat": now,
                  "nbf": now, "exp": now + 600, "nonce": grant.get("nonce"), "tid": TENANT,
                  "preferred_username": "Mette.Coach@herning.dk", "name": "Mette Coach", "roles": ["coach"]}
        claims.update(self.claims)
        for name in self.drop:
            claims.pop(name, None)
        id_token = jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": "k1"})
        return jsonify({"access_token": secrets.token_urlsafe(20), "token_type": "Bearer", "expires_in": 3600,
                        "id_token": id_token})

    def close(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def provider():
    p = Provider()
    yield p
    p.close()


@pytest.fixture
def app(provider, tmp_path):
    provider.reset()
    url = f"sqlite:///{tmp_path / 'oidc.db'}"
    engine = engine_for(url)
    upgrade(engine)
    settings = dataclasses.replace(
        load({"BALANCECOACH_STATE_DIR": str(tmp_path / "state"), "BALANCECOACH_DATABASE_URL": url,
              "BALANCECOACH_REVIEW_SECURE_COOKIES": "0", "BALANCECOACH_OIDC_ISSUER": provider.issuer,
              "BALANCECOACH_OIDC_CLIENT_ID": CLIENT_ID, "BALANCECOACH_OIDC_CLIENT_SECRET": CLIENT_SECRET,
              "BALANCECOACH_OIDC_TENANT_ID": TENANT}))
    app = create_app(settings, engine)
    app.config["TESTING"] = True
    app.engine = engine
    yield app
    engine.dispose()


def _login(app, tamper_state=False, tamper_nonce=None):
    """Walk the flow: /login/oidc -> the provider's /authorize -> back to the callback. Returns (client, response)."""
    client = app.test_client()
    start = client.get("/login/oidc")
    assert start.status_code == 302
    authorize_url = start.headers["Location"]
    if tamper_nonce:
        authorize_url = authorize_url.replace("nonce=", f"nonce={tamper_nonce}")
    back = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urllib.parse.urlsplit(back.headers["Location"])
    assert callback.path == "/login/oidc/callback"
    query = callback.query
    if tamper_state:
        query = query.replace("state=", "state=x")
    return client, client.get(f"{callback.path}?{query}")


def _audit(app, handling):
    with Session(app.engine, future=True) as session:
        return session.execute(sa.select(Revision).where(Revision.handling == handling)).scalars().all()


def _has_session(client) -> bool:
    return client.get("/organisation").status_code == 200


def test_login_page_offers_microsoft_and_local_accounts(app):
    page = app.test_client().get("/login").get_data(as_text=True)
    assert 'href="/login/oidc"' in page and "Log ind med Microsoft" in page and 'name="kodeord"' in page


def test_a_good_token_with_role_coach_gives_a_session(app, provider):
    client, response = _login(app)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert client.get("/samtaler").status_code == 200
    assert client.get("/revision").status_code == 403
    with Session(app.engine, future=True) as session:
        user = session.execute(sa.select(Bruger)).scalar_one()
        assert (user.brugernavn, user.navn, user.rolle, user.kilde, user.kodeord_hash) == \
            ("mette.coach@herning.dk", "Mette Coach", "coach", "oidc", None)
    authorize = provider.authorize_requests[0]
    assert authorize["response_type"] == "code" and authorize["client_id"] == CLIENT_ID
    assert authorize["code_challenge_method"] == "S256" and len(authorize["code_challenge"]) >= 43
    assert len(authorize["state"]) >= 20 and len(authorize["nonce"]) >= 16
    assert "openid" in authorize["scope"].split()
    assert provider.token_requests[0]["form"]["code_verifier"]
    assert [r.bruger for r in _audit(app, "login")] == ["mette.coach@herning.dk"]
    assert _audit(app, "login_afvist") == []


def test_the_highest_role_wins_and_roles_follow_the_identity_provider(app, provider):
    provider.claims = {"roles": ["coach", "Admin"]}
    client, response = _login(app)
    assert response.status_code == 302 and client.get("/revision").status_code == 200
    provider.claims = {"roles": ["hr"]}
    client, response = _login(app)
    assert response.status_code == 302
    assert client.get("/samtaler").status_code == 403 and client.get("/organisation").status_code == 200
    with Session(app.engine, future=True) as session:
        assert session.execute(sa.select(Bruger.rolle)).scalars().all() == ["hr"]


@pytest.mark.parametrize("case", ["wrong_issuer", "wrong_audience", "wrong_tenant", "no_tenant", "expired",
                                  "bad_signature", "no_known_role", "no_roles", "wrong_nonce", "tampered_state"])
def test_a_bad_login_gives_no_session_and_is_audited(app, provider, case):
    now = int(time.time())
    tamper_state = tamper_nonce = None
    if case == "wrong_issuer":
        provider.claims = {"iss": "http://127.0.0.1:1/anden"}
    elif case == "wrong_audience":
        provider.claims = {"aud": "en-anden-app"}
    elif case == "wrong_tenant":
        provider.claims = {"tid": "00000000-0000-4000-8000-000000000000"}
    elif case == "no_tenant":
        provider.drop = ("tid",)
    elif case == "expired":
        provider.claims = {"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}
    elif case == "bad_signature":
        provider.signing_key = provider.other_key  # same kid, another key
    elif case == "no_known_role":
        provider.claims = {"roles": ["reader", "Coach.Læser"]}
    elif case == "no_roles":
        provider.drop = ("roles",)
    elif case == "wrong_nonce":
        tamper_nonce = "forkert"
    elif case == "tampered_state":
        tamper_state = True
    client, response = _login(app, tamper_state=bool(tamper_state), tamper_nonce=tamper_nonce)
    assert response.status_code == 403, case
    page = response.get_data(as_text=True)
    assert "kunne ikke logges ind" in page or "ikke adgang" in page, case
    if case == "no_known_role":
        assert "rollen coach, hr eller admin" in page
        assert _audit(app, "login_afvist")[0].bruger == "Mette.Coach@herning.dk"  # who tried, for the admin
    assert not _has_session(client), case
    assert client.get("/samtaler").headers["Location"].startswith("/login")
    refused = _audit(app, "login_afvist")
    assert len(refused) == 1 and refused[0].detaljer.startswith("oidc"), (case, [r.detaljer for r in refused])
    assert _audit(app, "login") == []
    with Session(app.engine, future=True) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Bruger)).scalar() == 0


def test_a_local_account_with_the_same_name_is_not_taken_over(app, provider):
    from datetime import datetime

    with Session(app.engine, future=True) as session:
        session.add(Bruger(brugernavn="mette.coach@herning.dk", rolle="hr", kilde="lokal", oprettet=datetime.utcnow()))
        session.commit()
    client, response = _login(app)
    assert response.status_code == 403 and not _has_session(client)
    assert "lokal konto" in _audit(app, "login_afvist")[0].detaljer


def test_claims_are_checked_again_after_authlib():
    from review.auth import LoginAfvist, check_claims

    good = {"iss": "https://idp", "aud": ["app", "other"], "azp": "app", "exp": time.time() + 60, "tid": TENANT,
            "sub": "s", "roles": ["coach"], "preferred_username": "A@B"}
    assert check_claims(good, issuer="https://idp", client_id="app", tenant_id=TENANT).rolle == "coach"
    for bad in ({"iss": "https://idp/"}, {"aud": "other"}, {"azp": "other"}, {"exp": time.time() - 120},
                {"exp": None}, {"tid": None}, {"sub": ""}, {"roles": "reader"}):
        with pytest.raises(LoginAfvist):
            check_claims({**good, **bad}, issuer="https://idp", client_id="app", tenant_id=TENANT)
