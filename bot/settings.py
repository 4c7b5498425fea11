"""The one place that reads the environment. Every variable is documented in `.env.example`.

Settings fail fast with a message naming the variable, so a misconfigured server never starts half-way.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable has a value the coach cannot use."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name}={raw!r}: skal være et portnummer mellem 1 og 65535")
    return int(raw)


def _local_token(state_dir: Path) -> str:
    """A generated API token, kept in the git-ignored state folder so it survives restarts."""
    path = state_dir / "auth_token"
    if path.exists():
        return path.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path.write_text(token)
    path.chmod(0o600)
    return token


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TENANT = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$")
_LOCAL_HTTP = re.compile(r"^http://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:/|$)")


def _url(env: Mapping[str, str], name: str, value: str) -> str:
    """https only; plain http is accepted for this machine alone, so tests can serve keys and tokens locally."""
    if value and not (value.startswith("https://") or _LOCAL_HTTP.match(value)):
        raise SettingsError(f"{name}={value!r}: skal være en https://-adresse (http kun til 127.0.0.1/localhost)")
    return value


def _teams(env: Mapping[str, str]) -> dict:
    """The optional Teams section; a half-filled one stops the server with the variable to fix."""
    get = lambda name: env.get(name, "").strip()  # noqa: E731
    app_id, password, tenant = get("BALANCECOACH_TEAMS_APP_ID"), get("BALANCECOACH_TEAMS_APP_PASSWORD"), \
        get("BALANCECOACH_TEAMS_TENANT_ID")
    if app_id and not _GUID.match(app_id):
        raise SettingsError(f"BALANCECOACH_TEAMS_APP_ID={app_id!r}: skal være botens Microsoft App ID (et GUID)")
    if bool(app_id) != bool(password):
        missing = "BALANCECOACH_TEAMS_APP_PASSWORD" if app_id else "BALANCECOACH_TEAMS_APP_ID"
        raise SettingsError(f"{missing} mangler: Teams kræver både app-id og app-hemmelighed (eller ingen af dem)")
    if tenant and not _TENANT.match(tenant):
        raise SettingsError(
            f"BALANCECOACH_TEAMS_TENANT_ID={tenant!r}: skal være tenant-id (GUID) eller domæne (fx herning.dk)"
        )
    service_urls = tuple(
        _url(env, "BALANCECOACH_TEAMS_SERVICE_URLS", u.strip())
        for u in get("BALANCECOACH_TEAMS_SERVICE_URLS").split(",") if u.strip()
    )
    return {
        "teams_app_id": app_id,
        "teams_app_password": password,
        "teams_tenant_id": tenant,
        "teams_openid_url": _url(env, "BALANCECOACH_TEAMS_OPENID_URL", get("BALANCECOACH_TEAMS_OPENID_URL")),
        "teams_token_url": _url(env, "BALANCECOACH_TEAMS_TOKEN_URL", get("BALANCECOACH_TEAMS_TOKEN_URL")),
        "teams_service_urls": service_urls,
    }


_PHONE = re.compile(r"^\+?[0-9][0-9 ]{1,14}[0-9]$")


@dataclass(frozen=True)
class CrisisHelp:
    """Where the crisis reply sends a leader: one place, so another municipality or region sets its own."""

    livslinien: str = "70 201 201"
    akut: str = "112"
    laegevagt: str = "lægevagten i Region Midtjylland"
    laegevagt_nummer: str = "70 11 31 31"


def _crisis_help(env: Mapping[str, str]) -> CrisisHelp:
    default = CrisisHelp()
    values = {}
    for field_name, variable in (("livslinien", "BALANCECOACH_HJAELP_LIVSLINIEN"), ("akut", "BALANCECOACH_HJAELP_AKUT"),
                                 ("laegevagt_nummer", "BALANCECOACH_HJAELP_LAEGEVAGT_NUMMER")):
        value = " ".join(env.get(variable, "").split()) or getattr(default, field_name)
        if not _PHONE.match(value):
            raise SettingsError(f"{variable}={value!r}: skal være et telefonnummer (cifre og mellemrum)")
        values[field_name] = value
    values["laegevagt"] = " ".join(env.get("BALANCECOACH_HJAELP_LAEGEVAGT", "").split()) or default.laegevagt
    return CrisisHelp(**values)


@dataclass(frozen=True)
class Settings:
    rasa_port: int
    action_port: int
    host: str
    auth_token: str
    database_url: str
    endpoints: Path
    state_dir: Path
    retention_days: int
    redis_host: str
    redis_port: int
    hjaelp: CrisisHelp = CrisisHelp()
    # Microsoft Teams (rasa_addons/teams.py). All empty: the Teams webhook answers 503 and nothing else changes.
    teams_app_id: str = ""
    teams_app_password: str = field(default="", repr=False)  # a secret: never in logs
    teams_tenant_id: str = ""  # empty: a multi-tenant bot (token from botframework.com)
    teams_openid_url: str = ""  # empty: Bot Framework's published OpenID metadata
    teams_token_url: str = ""  # empty: the tenant's token endpoint, or botframework.com's when multi-tenant
    teams_service_urls: Tuple[str, ...] = ()  # empty: any Bot Connector URL the signed token vouches for

    @property
    def teams_configured(self) -> bool:
        return bool(self.teams_app_id and self.teams_app_password)

    @property
    def rasa_url(self) -> str:
        return f"http://{'localhost' if self.host in ('0.0.0.0', '') else self.host}:{self.rasa_port}"

    def child_env(self, base: Optional[Mapping[str, str]] = None) -> dict:
        """Environment for the Rasa and action server processes (endpoints.yml reads from it)."""
        env = dict(base if base is not None else os.environ)
        env.update(
            {
                "ACTION_PORT": str(self.action_port),
                "RASA_PORT": str(self.rasa_port),
                "BALANCECOACH_DATABASE_URL": self.database_url,
                "BALANCECOACH_AUTH_TOKEN": self.auth_token,
                "BALANCECOACH_REDIS_HOST": self.redis_host,
                "BALANCECOACH_REDIS_PORT": str(self.redis_port),
                "BALANCECOACH_RETENTION_DAYS": str(self.retention_days),
                "BALANCECOACH_HJAELP_LIVSLINIEN": self.hjaelp.livslinien,
                "BALANCECOACH_HJAELP_AKUT": self.hjaelp.akut,
                "BALANCECOACH_HJAELP_LAEGEVAGT": self.hjaelp.laegevagt,
                "BALANCECOACH_HJAELP_LAEGEVAGT_NUMMER": self.hjaelp.laegevagt_nummer,
                "BALANCECOACH_TEAMS_APP_ID": self.teams_app_id,
                "BALANCECOACH_TEAMS_APP_PASSWORD": self.teams_app_password,
                "BALANCECOACH_TEAMS_TENANT_ID": self.teams_tenant_id,
                "BALANCECOACH_TEAMS_OPENID_URL": self.teams_openid_url,
                "BALANCECOACH_TEAMS_TOKEN_URL": self.teams_token_url,
                "BALANCECOACH_TEAMS_SERVICE_URLS": ",".join(self.teams_service_urls),
                "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "3"),
                # OpenMP's idle threads spin ~300,000 rounds after each embedding, into the rest of the turn;
                # 1,000 keeps them quick between an embedding's own steps and off the cores afterwards.
                "GOMP_SPINCOUNT": env.get("GOMP_SPINCOUNT", "1000"),
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "RASA_TELEMETRY_ENABLED": "false",
                "PYTHONPATH": str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
            }
        )
        return env


def load(env: Optional[Mapping[str, str]] = None) -> Settings:
    env = os.environ if env is None else env
    state_dir = Path(env.get("BALANCECOACH_STATE_DIR", "").strip() or "var")
    if not state_dir.is_absolute():
        state_dir = ROOT / state_dir
    database_url = env.get("BALANCECOACH_DATABASE_URL", "").strip() or f"sqlite:///{state_dir / 'tracker.db'}"
    if not database_url.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg2://")):
        raise SettingsError(
            f"BALANCECOACH_DATABASE_URL={database_url!r}: brug sqlite:///sti/til/fil.db eller postgresql://..."
        )
    endpoints = Path(env.get("BALANCECOACH_ENDPOINTS", "").strip() or ROOT / "endpoints.yml")
    if not endpoints.is_absolute():
        endpoints = ROOT / endpoints
    if not endpoints.exists():
        raise SettingsError(f"BALANCECOACH_ENDPOINTS={endpoints}: filen findes ikke")
    retention = env.get("BALANCECOACH_RETENTION_DAYS", "").strip() or "30"
    if not retention.isdigit() or int(retention) < 1:
        raise SettingsError(f"BALANCECOACH_RETENTION_DAYS={retention!r}: skal være et helt antal dage, mindst 1")
    token = env.get("BALANCECOACH_AUTH_TOKEN", "").strip() or _local_token(state_dir)
    return Settings(
        rasa_port=_port(env, "RASA_PORT", 5005),
        action_port=_port(env, "ACTION_PORT", 5055),
        host=env.get("BALANCECOACH_HOST", "").strip() or "0.0.0.0",
        auth_token=token,
        database_url=database_url,
        endpoints=endpoints,
        state_dir=state_dir,
        retention_days=int(retention),
        redis_host=env.get("BALANCECOACH_REDIS_HOST", "").strip() or "127.0.0.1",
        redis_port=_port(env, "BALANCECOACH_REDIS_PORT", 6379),
        hjaelp=_crisis_help(env),
        **_teams(env),
    )
