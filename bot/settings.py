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


MIN_SECRET_CHARS = 32


def _private_dir(path: Path) -> Path:
    """The state folder holds conversations and secrets: only the service user may enter it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _secret(env: Mapping[str, str], name: str, state_dir: Path, filename: str) -> str:
    """A secret from `NAME`, from the file `NAME_FILE` names, or generated once into `var/<filename>`.

    Files must be 0600 (or stricter): a secret others can read is refused, as is one too short to resist
    guessing. The value is never printed; Settings keeps it out of its repr.
    """
    value = env.get(name, "").strip()
    source = name
    file_name = env.get(f"{name}_FILE", "").strip()
    if not value and file_name:
        path, source = Path(file_name), f"{name}_FILE={file_name}"
        if not path.is_file():
            raise SettingsError(f"{source}: filen findes ikke")
        value = _read_private(path, source)
    if not value:
        path = _private_dir(state_dir) / filename
        source = str(path)
        if path.exists():
            value = _read_private(path, source)
        else:
            value = secrets.token_urlsafe(48)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(value)
    if len(value) < MIN_SECRET_CHARS:
        raise SettingsError(f"{source}: hemmeligheden er for kort ({len(value)} tegn); brug mindst {MIN_SECRET_CHARS} "
                            "tilfældige tegn, fx python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return value


def _read_private(path: Path, source: str) -> str:
    if path.stat().st_mode & 0o077:
        raise SettingsError(f"{source}: filen må kun kunne læses af ejeren (chmod 600 {path})")
    return path.read_text().strip()


def _number(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < minimum:
        raise SettingsError(f"{name}={raw!r}: skal være et helt tal, mindst {minimum}")
    return int(raw)


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw not in ("", "0", "1", "true", "false", "ja", "nej"):
        raise SettingsError(f"{name}={raw!r}: skal være 1 eller 0")
    return default if raw == "" else raw in ("1", "true", "ja")


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(?::\d{1,5})?$")


def _origins(env: Mapping[str, str]) -> Tuple[str, ...]:
    """Web origins (scheme://host[:port]) that may embed the widget; never "*" (the API sends credentials)."""
    origins = tuple(o.strip().rstrip("/") for o in env.get("BALANCECOACH_CORS_ORIGINS", "").split(",") if o.strip())
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise SettingsError(f"BALANCECOACH_CORS_ORIGINS: {origin!r} er ikke en oprindelse som "
                                "https://intranet.herning.dk (og aldrig *)")
    return origins


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LOCAL_HTTP = re.compile(r"^http://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:/|$)")


def _url(env: Mapping[str, str], name: str, value: str, internal: bool = False) -> str:
    """https only; plain http is accepted for this machine alone, so tests can serve keys and tokens locally
    (and, for `internal` addresses inside the deployment, plain http to any host)."""
    if internal and not re.match(r"^https?://[A-Za-z0-9.\-]+(?::\d{1,5})?$", value):
        raise SettingsError(f"{name}={value!r}: skal være adresser som http://rasa-0.rasa:5005, kommasepareret")
    if value and not internal and not (value.startswith("https://") or _LOCAL_HTTP.match(value)):
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
    if tenant and not _GUID.match(tenant):
        raise SettingsError(
            f"BALANCECOACH_TEAMS_TENANT_ID={tenant!r}: skal være kommunens tenant-id (et GUID fra Entra ID); "
            "kun den tenants ledere kan tale med coachen"
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
    host: str  # the Rasa server's interface: loopback unless a reverse proxy on another host needs it
    action_host: str  # the action server's interface
    database_url: str = field(repr=False)  # may hold a password: see `database_display`
    endpoints: Path
    state_dir: Path
    retention_days: int
    redis_host: str
    redis_port: int
    session_secret: str = field(default="", repr=False)  # signs conversation tokens (bot/identity.py)
    action_secret: str = field(default="", repr=False)  # the Rasa server sends it with every action call
    api_enabled: bool = False  # Rasa's HTTP API: off unless BALANCECOACH_API=1
    api_secret: str = field(default="", repr=False)  # JWT secret of the HTTP API (HS256), when it is on
    cors_origins: Tuple[str, ...] = ()
    session_ttl_days: int = 30
    retention_interval_seconds: int = 900
    max_message_chars: int = 4000
    max_request_bytes: int = 65536
    messages_per_minute: int = 30  # per conversation, after a burst of `message_burst`
    message_burst: int = 20
    client_messages_per_minute: int = 1200  # per client address, all its conversations together
    sessions_per_minute: int = 30  # new conversations per client address, after a burst of 60
    clock_file: str = ""  # tests only: a file with a clock offset in seconds (rasa_addons/server.py)
    hjaelp: CrisisHelp = CrisisHelp()
    # Microsoft Teams (channels/teams.py). All empty: the Teams webhook answers 503 and nothing else changes.
    teams_app_id: str = ""
    teams_app_password: str = field(default="", repr=False)  # a secret: never in logs
    teams_tenant_id: str = ""  # empty: a multi-tenant bot (token from botframework.com)
    teams_openid_url: str = ""  # empty: Bot Framework's published OpenID metadata
    teams_token_url: str = ""  # empty: the tenant's token endpoint, or botframework.com's when multi-tenant
    teams_service_urls: Tuple[str, ...] = ()  # empty: any Bot Connector URL the signed token vouches for
    # Pseudonyms: a keyed hash of the channel identity, so a coach sees which shared conversations share a leader.
    pseudonym_secret: str = field(default="", repr=False)
    # The review app (review/): its own process and port, its own cookie secret.
    review_port: int = 5010
    review_host: str = "127.0.0.1"
    review_secret: str = field(default="", repr=False)  # signs the review app's session cookies
    review_session_minutes: int = 480
    review_secure_cookies: bool = True  # off only for plain-http use on this machine (make run)
    review_trusted_proxy: str = "127.0.0.1"  # whose X-Forwarded-Proto/-Port the review app believes ("*": any)
    # OpenID Connect login (Entra ID in Herning). All empty: local accounts only (`python -m review add-user`).
    oidc_issuer: str = ""  # e.g. https://login.microsoftonline.com/<tenant>/v2.0
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_tenant_id: str = ""  # the `tid` every token must carry
    oidc_roles_claim: str = "roles"
    # HR's candidates (review/udrulning.py): a deploy is refused when any figure drops by more than this.
    deploy_tolerance: float = 0.02
    # Every Rasa server of this coach (BALANCECOACH_RASA_URLS); HR's deploys load the new model into each.
    replica_urls: Tuple[str, ...] = ()

    @property
    def rasa_urls(self) -> Tuple[str, ...]:
        return self.replica_urls or (self.rasa_url,)

    @property
    def redis_locks(self) -> bool:
        """Do the Rasa servers share a Redis lock store (endpoints.production.yml), and so one Redis?"""
        return redis_locks(self.endpoints)

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def teams_configured(self) -> bool:
        return bool(self.teams_app_id and self.teams_app_password)

    @property
    def database_display(self) -> str:
        """The database URL with any password replaced by ***, for messages and logs."""
        return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", self.database_url)

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
                "BALANCECOACH_REDIS_HOST": self.redis_host,
                "BALANCECOACH_REDIS_PORT": str(self.redis_port),
                "BALANCECOACH_RETENTION_DAYS": str(self.retention_days),
                "BALANCECOACH_STATE_DIR": str(self.state_dir),
                "BALANCECOACH_SESSION_SECRET": self.session_secret,
                "BALANCECOACH_ACTION_SECRET": self.action_secret,
                "BALANCECOACH_API": "1" if self.api_enabled else "0",
                "BALANCECOACH_API_SECRET": self.api_secret,
                "BALANCECOACH_CORS_ORIGINS": ",".join(self.cors_origins),
                "BALANCECOACH_HOST": self.host,
                "BALANCECOACH_ACTION_HOST": self.action_host,
                "BALANCECOACH_SESSION_TTL_DAYS": str(self.session_ttl_days),
                "BALANCECOACH_RETENTION_INTERVAL_SECONDS": str(self.retention_interval_seconds),
                "BALANCECOACH_MAX_MESSAGE_CHARS": str(self.max_message_chars),
                "BALANCECOACH_MAX_REQUEST_BYTES": str(self.max_request_bytes),
                "BALANCECOACH_MESSAGES_PER_MINUTE": str(self.messages_per_minute),
                "BALANCECOACH_MESSAGE_BURST": str(self.message_burst),
                "BALANCECOACH_CLIENT_MESSAGES_PER_MINUTE": str(self.client_messages_per_minute),
                "BALANCECOACH_SESSIONS_PER_MINUTE": str(self.sessions_per_minute),
                "BALANCECOACH_CLOCK_FILE": self.clock_file,
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
                "BALANCECOACH_PSEUDONYM_SECRET": self.pseudonym_secret,
                "BALANCECOACH_REVIEW_PORT": str(self.review_port),
                "BALANCECOACH_REVIEW_HOST": self.review_host,
                "BALANCECOACH_REVIEW_SECRET": self.review_secret,
                "BALANCECOACH_REVIEW_SESSION_MINUTES": str(self.review_session_minutes),
                "BALANCECOACH_REVIEW_SECURE_COOKIES": "1" if self.review_secure_cookies else "0",
                "BALANCECOACH_REVIEW_TRUSTED_PROXY": self.review_trusted_proxy,
                "BALANCECOACH_OIDC_ISSUER": self.oidc_issuer,
                "BALANCECOACH_OIDC_CLIENT_ID": self.oidc_client_id,
                "BALANCECOACH_OIDC_CLIENT_SECRET": self.oidc_client_secret,
                "BALANCECOACH_OIDC_TENANT_ID": self.oidc_tenant_id,
                "BALANCECOACH_OIDC_ROLES_CLAIM": self.oidc_roles_claim,
                "BALANCECOACH_RASA_URLS": ",".join(self.replica_urls),
                "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "3"),
                # OpenMP's idle threads spin ~300,000 rounds after each embedding, into the rest of the turn;
                # 1,000 keeps them quick between an embedding's own steps and off the cores afterwards.
                "GOMP_SPINCOUNT": env.get("GOMP_SPINCOUNT", "1000"),
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "PYTHONWARNINGS": env.get("PYTHONWARNINGS", "ignore::DeprecationWarning"),
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
    if env.get("BALANCECOACH_AUTH_TOKEN", "").strip():
        raise SettingsError("BALANCECOACH_AUTH_TOKEN bruges ikke længere (et token på kommandolinjen og i URL'er "
                            "bliver logget): sæt BALANCECOACH_API=1 og BALANCECOACH_API_SECRET, se .env.example")
    api_enabled = _flag(env, "BALANCECOACH_API")
    return Settings(
        rasa_port=_port(env, "RASA_PORT", 5005),
        action_port=_port(env, "ACTION_PORT", 5055),
        host=env.get("BALANCECOACH_HOST", "").strip() or "127.0.0.1",
        action_host=env.get("BALANCECOACH_ACTION_HOST", "").strip() or "127.0.0.1",
        session_secret=_secret(env, "BALANCECOACH_SESSION_SECRET", state_dir, "session_secret"),
        action_secret=_secret(env, "BALANCECOACH_ACTION_SECRET", state_dir, "action_secret"),
        api_enabled=api_enabled,
        api_secret=_secret(env, "BALANCECOACH_API_SECRET", state_dir, "api_secret") if api_enabled else "",
        cors_origins=_origins(env),
        session_ttl_days=_number(env, "BALANCECOACH_SESSION_TTL_DAYS", 30),
        retention_interval_seconds=_number(env, "BALANCECOACH_RETENTION_INTERVAL_SECONDS", 900),
        max_message_chars=_number(env, "BALANCECOACH_MAX_MESSAGE_CHARS", 4000, 100),
        max_request_bytes=_number(env, "BALANCECOACH_MAX_REQUEST_BYTES", 65536, 4096),
        messages_per_minute=_number(env, "BALANCECOACH_MESSAGES_PER_MINUTE", 30),
        message_burst=_number(env, "BALANCECOACH_MESSAGE_BURST", 20),
        client_messages_per_minute=_number(env, "BALANCECOACH_CLIENT_MESSAGES_PER_MINUTE", 1200),
        sessions_per_minute=_number(env, "BALANCECOACH_SESSIONS_PER_MINUTE", 30),
        clock_file=env.get("BALANCECOACH_CLOCK_FILE", "").strip(),
        database_url=database_url,
        endpoints=endpoints,
        state_dir=state_dir,
        retention_days=int(retention),
        redis_host=env.get("BALANCECOACH_REDIS_HOST", "").strip() or "127.0.0.1",
        redis_port=_port(env, "BALANCECOACH_REDIS_PORT", 6379),
        hjaelp=_crisis_help(env),
        pseudonym_secret=_secret(env, "BALANCECOACH_PSEUDONYM_SECRET", state_dir, "pseudonym_secret"),
        review_port=_port(env, "BALANCECOACH_REVIEW_PORT", 5010),
        review_host=env.get("BALANCECOACH_REVIEW_HOST", "").strip() or "127.0.0.1",
        review_secret=_secret(env, "BALANCECOACH_REVIEW_SECRET", state_dir, "review_secret"),
        review_session_minutes=_number(env, "BALANCECOACH_REVIEW_SESSION_MINUTES", 480),
        review_secure_cookies=_flag(env, "BALANCECOACH_REVIEW_SECURE_COOKIES", True),
        review_trusted_proxy=env.get("BALANCECOACH_REVIEW_TRUSTED_PROXY", "").strip() or "127.0.0.1",
        deploy_tolerance=_fraction(env, "BALANCECOACH_DEPLOY_TOLERANCE", 0.02),
        replica_urls=tuple(_url(env, "BALANCECOACH_RASA_URLS", u.strip().rstrip("/"), internal=True)
                           for u in env.get("BALANCECOACH_RASA_URLS", "").split(",") if u.strip()),
        **_oidc(env),
        **_teams(env),
    )


def packed_analysis(env: Optional[Mapping[str, str]] = None) -> Tuple[Path, Path]:
    """(analysis classifier, balance model) a Rasa training packs into the model: what `make train` built, or a
    candidate's own files (review/udrulning.py). Read apart from `load`, which needs the servers' secrets."""
    env = os.environ if env is None else env
    return (Path(env.get("BALANCECOACH_ANALYSE_MODEL", "").strip() or ROOT / "models" / "analyse.pkl"),
            Path(env.get("BALANCECOACH_KNOWLEDGE", "").strip() or ROOT / "bot" / "knowledge.yml"))


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 0.2:
        raise SettingsError(f"{name}={raw!r}: skal være et tal mellem 0 og 0.2 (fx 0.02 for to procentpoint)")
    return value


def _oidc(env: Mapping[str, str]) -> dict:
    """The optional OpenID Connect section: an issuer without a client (or the reverse) stops the app."""
    get = lambda name: env.get(name, "").strip()  # noqa: E731
    issuer, client = get("BALANCECOACH_OIDC_ISSUER"), get("BALANCECOACH_OIDC_CLIENT_ID")
    if bool(issuer) != bool(client):
        missing = "BALANCECOACH_OIDC_CLIENT_ID" if issuer else "BALANCECOACH_OIDC_ISSUER"
        raise SettingsError(f"{missing} mangler: OpenID Connect kræver både udsteder og klient-id (eller ingen af dem)")
    tenant = get("BALANCECOACH_OIDC_TENANT_ID")
    if tenant and not _GUID.match(tenant):
        raise SettingsError(f"BALANCECOACH_OIDC_TENANT_ID={tenant!r}: skal være kommunens tenant-id (et GUID)")
    return {
        "oidc_issuer": _url(env, "BALANCECOACH_OIDC_ISSUER", issuer),
        "oidc_client_id": client,
        "oidc_client_secret": get("BALANCECOACH_OIDC_CLIENT_SECRET"),
        "oidc_tenant_id": tenant,
        "oidc_roles_claim": get("BALANCECOACH_OIDC_ROLES_CLAIM") or "roles",
    }


def redis_locks(endpoints: Path) -> bool:
    return endpoints.is_file() and "type: redis" in endpoints.read_text(encoding="utf-8")


SECRETS = ("BALANCECOACH_SESSION_SECRET", "BALANCECOACH_ACTION_SECRET", "BALANCECOACH_API_SECRET",
           "BALANCECOACH_PSEUDONYM_SECRET", "BALANCECOACH_REVIEW_SECRET")
"""The secrets production needs, each from the variable or the file NAME_FILE names."""

_PLACEHOLDER = re.compile(r"skift|change.?me|replace|eksempel|example|dummy|default|xxxx|todo", re.IGNORECASE)


def production_problems(env: Optional[Mapping[str, str]] = None) -> list:
    """Why these settings must not serve the municipality (empty when they may): every secret set on purpose
    (never generated into var/, never a placeholder from the examples, never one shared by two uses),
    PostgreSQL, the Redis lock store, the API for HR's deploys, and the proxy's certificate and key."""
    env = os.environ if env is None else env
    problems, seen = [], {}
    for name in SECRETS:
        value = env.get(name, "").strip()
        file_name = env.get(f"{name}_FILE", "").strip()
        if not value and file_name and Path(file_name).is_file():
            value = Path(file_name).read_text().strip()
        if not value:
            problems.append(f"{name} (eller {name}_FILE) mangler; produktion genererer ingen hemmeligheder")
            continue
        if _PLACEHOLDER.search(value) or len(set(value)) < 12:
            problems.append(f"{name} er en standardværdi eller for ensformig; brug fx "
                            "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        if value in seen:
            problems.append(f"{name} er den samme som {seen[value]}; hver brug sin egen hemmelighed")
        seen.setdefault(value, name)
    if not env.get("BALANCECOACH_DATABASE_URL", "").strip().startswith(("postgresql://", "postgresql+psycopg2://")):
        problems.append("BALANCECOACH_DATABASE_URL skal pege på PostgreSQL (postgresql://...)")
    endpoints = env.get("BALANCECOACH_ENDPOINTS", "").strip()
    if not endpoints or not redis_locks(ROOT / endpoints):
        problems.append("BALANCECOACH_ENDPOINTS skal være endpoints.production.yml (Redis-låse på tværs af servere)")
    if not _flag(env, "BALANCECOACH_API"):
        problems.append("BALANCECOACH_API=1 mangler (HR udruller modeller gennem Rasas API; proxyen viser det ikke)")
    for name in ("BALANCECOACH_TLS_CERT_FILE", "BALANCECOACH_TLS_KEY_FILE"):
        path = env.get(name, "").strip()
        if not path or not Path(path).is_file():
            problems.append(f"{name} mangler eller findes ikke (proxyens TLS-certifikat og nøgle)")
        elif name.endswith("KEY_FILE") and Path(path).stat().st_mode & 0o077:
            problems.append(f"{name}: nøglen må kun kunne læses af ejeren (chmod 600 {path})")
    return problems
