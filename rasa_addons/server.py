"""Start the Rasa server and the action server with their secrets in-process, never on a command line.

`rasa run --auth-token …` puts the API token in every process listing and `?token=` in every logged URL; the
action server of rasa-sdk listens on all interfaces and answers anyone. Both are started here instead, from
the settings (bot/settings.py), through the same functions Rasa's and rasa-sdk's CLIs call:

- Rasa: `rasa.core.run.serve_application`, with the HTTP API only when BALANCECOACH_API=1 (then with a JWT
  secret from the environment or a 0600 file), CORS only for the configured origins, and request bodies
  limited before they are parsed (Sanic's REQUEST_MAX_SIZE answers 413).
- Actions: `rasa_sdk.endpoint.create_app`, bound to BALANCECOACH_ACTION_HOST (loopback by default), and
  refusing every call without the shared secret the Rasa server sends (endpoints.yml, X-Balancecoach-Secret).

Files the processes create (logs, SQLite) are private to the service user (umask 077).

    python -m rasa_addons.server rasa [--model models/balancecoach.tar.gz]
    python -m rasa_addons.server actions
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
SECRET_HEADER = "X-Balancecoach-Secret"


def _prepare():
    os.umask(0o077)
    from bot import settings as settings_module

    try:
        settings = settings_module.load()
    except settings_module.SettingsError as error:
        print(f"Indstillingerne kan ikke bruges: {error}", file=sys.stderr)
        raise SystemExit(2)
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return settings


def _configure_logging() -> None:
    """INFO, as `rasa run` does by default: Rasa's DEBUG lines carry the leader's words and every slot, and
    must never reach a log file of the service."""
    import rasa.utils.io
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO)
    rasa.utils.io.configure_colored_logging(logging.INFO)
    configure_structlog(logging.INFO)


def run_rasa(model: Optional[str] = None) -> None:
    """`model` defaults to the one HR deployed last, else the one `make train` built: a restarted server (or a
    new replica) serves what the others serve."""
    settings = _prepare()
    if model is None:
        from review.udrulning import current_model

        model = str(current_model(settings.state_dir))
    # endpoints.yml sends ${BALANCECOACH_ACTION_SECRET}, which Rasa expands from the environment only; the
    # secret may have come from a file (BALANCECOACH_ACTION_SECRET_FILE).
    os.environ["BALANCECOACH_ACTION_SECRET"] = settings.action_secret
    # Leaders' requests only; the action server receives whole trackers and keeps Sanic's default.
    os.environ["SANIC_REQUEST_MAX_SIZE"] = str(settings.max_request_bytes)
    if settings.clock_file:
        from rasa_addons.clock import install

        install(settings.clock_file)
    import rasa.core.run
    from rasa.core.utils import AvailableEndpoints

    _configure_logging()
    rasa.core.run.serve_application(
        model_path=model,
        interface=settings.host,
        port=settings.rasa_port,
        credentials=str(ROOT / "credentials.yml"),
        cors=list(settings.cors_origins) or None,
        enable_api=settings.api_enabled,
        jwt_secret=settings.api_secret or None,
        jwt_method="HS256",
        endpoints=AvailableEndpoints.read_endpoints(str(settings.endpoints)),
    )


def action_app(settings, package: str = "actions"):
    """rasa-sdk's app for `package`, answering only calls that carry the shared secret (health excepted)."""
    from rasa_sdk.endpoint import create_app
    from sanic import response

    app = create_app(package, cors_origins=None)
    expected = settings.action_secret.encode()

    @app.middleware("request")
    async def require_secret(request):
        if request.path == "/health":
            return None
        given = (request.headers.get(SECRET_HEADER) or "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    return app


def run_actions() -> None:
    settings = _prepare()
    _configure_logging()
    app = action_app(settings)
    logging.getLogger(__name__).info("Action server on http://%s:%s", settings.action_host, settings.action_port)
    app.run(settings.action_host, settings.action_port, workers=1, access_log=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rasa_addons.server")
    sub = parser.add_subparsers(dest="which", required=True)
    p = sub.add_parser("rasa")
    p.add_argument("--model", help="default: the model HR deployed last, else models/balancecoach.tar.gz")
    sub.add_parser("actions")
    args = parser.parse_args(argv)
    if args.which == "rasa":
        run_rasa(args.model)
    else:
        run_actions()
    return 0


if __name__ == "__main__":
    sys.exit(main())
