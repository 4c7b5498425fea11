"""The review app: a Flask app where coaches read conversations leaders chose to share, and coaches and HR see
organisation-wide counts. `create_app` builds it; `python -m review serve` runs it under waitress.

Security in one place: every response gets a strict Content-Security-Policy (no inline script or style, no
other origins), nosniff and no-referrer; pages are never cached (conversation data, and consent can be
withdrawn at any moment); every POST carries a CSRF token (Flask-WTF); the session cookie is signed,
HttpOnly, SameSite=Lax and Secure unless settings say otherwise, and a login older than the session lifetime
is refused on the server whatever the cookie claims. Each request opens its own database session, so a
conversation whose consent was just withdrawn is gone from the next page.
"""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Optional

import sqlalchemy as sa
from flask import Flask, abort, flash, g, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import sessionmaker

from review import auth
from review.models import Bruger

HERE = Path(__file__).resolve().parent.parent

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def create_app(settings=None, engine: Optional[sa.engine.Engine] = None, project: Optional[Path] = None) -> Flask:
    """`project` is the folder whose data/, bot/knowledge.yml and domain.yml HR's pages read and change (this
    checkout; tests give a copy)."""
    if settings is None:
        from bot.settings import load

        settings = load()
    if engine is None:
        from review.db import engine_for

        engine = engine_for(settings.database_url)
    _sqlite_functions(engine)

    app = Flask("review", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"),
                static_url_path="/static")
    lifetime = timedelta(minutes=settings.review_session_minutes)
    app.config.update(
        SECRET_KEY=settings.review_secret,
        SESSION_COOKIE_NAME="bc_gennemsyn",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # Strict would drop the cookie on the identity provider's redirect back
        SESSION_COOKIE_SECURE=bool(settings.review_secure_cookies),
        PERMANENT_SESSION_LIFETIME=lifetime,
        SESSION_REFRESH_EACH_REQUEST=False,  # the lifetime counts from login, not from the last click
        WTF_CSRF_TIME_LIMIT=int(lifetime.total_seconds()),
        # Flask-WTF's strict mode wants a same-origin Referer on HTTPS POSTs, but Referrer-Policy: no-referrer
        # means browsers send none. The token (tied to the signed session) and `_same_site_posts` stand instead.
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.jinja_env.autoescape = True  # every template, whatever its extension
    app.extensions["bc_settings"] = settings
    app.extensions["bc_engine"] = engine
    app.extensions["bc_projekt"] = Path(project or HERE.parent)
    app.extensions["bc_sessions"] = sessionmaker(bind=engine, future=True, expire_on_commit=False)
    CSRFProtect(app)

    from review.web import admin, hr, hr_model, hr_viden, login, org, samtaler, visning

    visning.register(app)
    app.register_blueprint(login.bp)
    app.register_blueprint(samtaler.bp)
    app.register_blueprint(org.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(hr.bp)
    app.register_blueprint(hr_model.bp)
    app.register_blueprint(hr_viden.bp)
    login.init_oidc(app, settings)

    @app.before_request
    def _same_site_posts():
        """Defence in depth beside the CSRF token: a POST a browser marks as coming from another site is refused
        (Sec-Fetch-Site), as is one whose Origin names another origin ("null" is what no-referrer gives)."""
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return None
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            abort(400)
        origin = request.headers.get("Origin")
        if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
            abort(400)
        return None

    @app.before_request
    def _who():
        g.bruger = None
        started = session.get("login_tid")
        if "bruger_id" not in session:
            return None
        if not isinstance(started, (int, float)) or time.time() - started > lifetime.total_seconds() \
                or started > time.time() + 60:
            session.clear()
            flash("Din session er udløbet. Log ind igen.")
            return None
        bruger = db().get(Bruger, session["bruger_id"])
        if bruger is None or bruger.rolle not in auth.ROLLE_RANG:
            session.clear()
            return None
        g.bruger = bruger
        return None

    @app.after_request
    def _headers(response):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response

    @app.teardown_appcontext
    def _close(_exc):
        session_ = g.pop("db", None)
        if session_ is not None:
            session_.close()

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_template("fejl.html", titel="Formularen kunne ikke sendes",
                               besked="Siden var for gammel eller blev sendt uden sikkerhedsnøgle. Gå tilbage, "
                                      "genindlæs siden og prøv igen."), 400

    for code, titel, besked in (
            (400, "Forkert forespørgsel", "Forespørgslen kunne ikke forstås."),
            (403, "Ingen adgang", "Din rolle giver ikke adgang til denne side."),
            (404, "Ikke fundet", "Siden findes ikke, eller samtalen er ikke (længere) delt."),
            (405, "Ikke tilladt", "Den handling er ikke tilladt her."),
            (413, "For stor", "Det sendte var for stort."),
    ):
        app.register_error_handler(code, _error_page(code, titel, besked))
    return app


def _error_page(code: int, titel: str, besked: str):
    def handler(_error):
        return render_template("fejl.html", titel=titel, besked=besked), code

    return handler


def db():
    """This request's database session (opened on first use, closed when the request ends)."""
    from flask import current_app

    if "db" not in g:
        g.db = current_app.extensions["bc_sessions"]()
    return g.db


def settings():
    from flask import current_app

    return current_app.extensions["bc_settings"]


def revision(handling: str, samtale_id: Optional[str] = None, detaljer: Optional[str] = None,
             bruger: Optional[str] = None) -> None:
    """Write one audit row now, in its own transaction, so it is kept even if the page fails afterwards."""
    from datetime import datetime

    from review.models import Revision

    if bruger is None and getattr(g, "bruger", None) is not None:
        bruger = g.bruger.brugernavn
    session_ = db()
    session_.add(Revision(tidspunkt=datetime.utcnow(), bruger=bruger, handling=handling, samtale_id=samtale_id,
                          detaljer=(detaljer or None) and detaljer[:2000]))
    session_.commit()


def revision_row(engine, bruger: Optional[str], handling: str, detaljer: Optional[str] = None) -> None:
    """An audit row from outside a request (the candidate's own process)."""
    from datetime import datetime

    from review.models import Revision

    with engine.begin() as connection:
        connection.execute(sa.insert(Revision.__table__).values(
            tidspunkt=datetime.utcnow(), bruger=bruger, handling=handling, detaljer=(detaljer or None) and detaljer[:2000]))


def _fold(value):
    return None if value is None else str(value).casefold()


def _sqlite_functions(engine: sa.engine.Engine) -> None:
    """SQLite's lower() folds ASCII only; searches for "økonomi" must find "Økonomi" there as on PostgreSQL."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_bc_fold", False):
        return

    @sa.event.listens_for(engine, "connect")
    def _register(dbapi_connection, _record):
        dbapi_connection.create_function("bc_fold", 1, _fold, deterministic=True)

    engine._bc_fold = True
    engine.dispose()  # connections opened before the listener lack the function
