"""`make run-prod`: the production shape on one machine — nginx in front, two or more Rasa servers sharing
PostgreSQL (tracker store) and Redis (lock store), the action server and the review app.

    python -m ops.production secrets DIR     # once: secret files (0600) and a self-signed certificate
    python -m ops.production run             # needs the variables `secrets` prints; refuses defaults
    python -m ops.production nginx ...       # the proxy's config for docker-compose / Kubernetes (deploy/)

The same topology is written down for the municipality's IT in docker-compose.yml and deploy/kubernetes/;
tests/test_deploy.py reads all three and fails when they drift apart (`TOPOLOGY` is what they must agree on).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bot import settings as settings_module
from ops.stack import Stack, _get, _local

ROOT = settings_module.ROOT
TEMPLATES = Path(__file__).resolve().parent / "templates"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

TOPOLOGY = {
    "rasa": {"replicas": 2, "port": 5005, "command": ["python", "-m", "rasa_addons.server", "rasa"]},
    "actions": {"replicas": 1, "port": 5055, "command": ["python", "-m", "rasa_addons.server", "actions"]},
    "review": {"replicas": 1, "port": 5010, "command": ["python", "-m", "review", "serve"]},
    "proxy": {"replicas": 1, "ports": {"leaders": 8443, "review": 8444}},
}
"""What `make run-prod`, docker-compose.yml and the Kubernetes manifests all run: processes, replicas, ports."""

PROXY_ROUTES = ("/webhooks/rest/session", "/webhooks/rest/webhook", "/webhooks/rest/billede/",
                "/webhooks/teams/webhook", "/webhooks/webchat/", "/socket.io/")
"""The only paths of the Rasa servers the proxy lets through."""


class ProductionRefused(RuntimeError):
    """The settings may not serve the municipality; the message lists every reason."""


def render(template: str, **values) -> str:
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    return environment.get_template(template).render(**values)


def proxy_config(rasa: Sequence[str], review: str, cert: str, key: str, kilde: str,
                 leaders_port: int = TOPOLOGY["proxy"]["ports"]["leaders"],
                 review_port: int = TOPOLOGY["proxy"]["ports"]["review"]) -> str:
    return render("balancecoach.conf.j2", rasa=list(rasa), review=review, cert=cert, key=key, kilde=kilde,
                  leaders_port=leaders_port, review_port=review_port)


def trusting(cert: Optional[str]) -> ssl.SSLContext:
    """A client context that trusts the proxy's own certificate (self-signed on a test machine)."""
    context = ssl.create_default_context(cafile=cert) if cert else ssl.create_default_context()
    context.check_hostname = False
    return context


class Production(Stack):
    """The production shape as child processes. `kill`, `start_process` and `stop_process` let the fault tests
    take one part down and bring it back."""

    def __init__(self, settings=None, replicas: int = TOPOLOGY["rasa"]["replicas"], model: Optional[Path] = None,
                 log_dir: Optional[Path] = None, quiet: bool = True, env: Optional[Dict[str, str]] = None,
                 leaders_port: Optional[int] = None, review_port: Optional[int] = None, check: bool = True):
        self.env = dict(os.environ if env is None else env)
        if check:
            problems = settings_module.production_problems(self.env)
            if problems:
                raise ProductionRefused("Produktion starter ikke:\n  - " + "\n  - ".join(problems))
        super().__init__(settings or settings_module.load(self.env), model=model, log_dir=log_dir, quiet=quiet)
        self.replicas = replicas
        self.leaders_port = leaders_port or int(self.env.get("BALANCECOACH_PROXY_PORT") or
                                                TOPOLOGY["proxy"]["ports"]["leaders"])
        self.review_proxy_port = review_port or int(self.env.get("BALANCECOACH_PROXY_REVIEW_PORT") or
                                                    TOPOLOGY["proxy"]["ports"]["review"])
        self.cert = self.env.get("BALANCECOACH_TLS_CERT_FILE", "")
        self.key = self.env.get("BALANCECOACH_TLS_KEY_FILE", "")
        self.named: Dict[str, subprocess.Popen] = {}
        self.commands: Dict[str, tuple] = {}
        self.prefix: Optional[Path] = None
        self.context = trusting(self.cert or None)

    # --- addresses --------------------------------------------------------------------------------------

    def replica_port(self, index: int) -> int:
        return self.settings.rasa_port + index

    @property
    def replica_urls(self) -> List[str]:
        return [f"http://127.0.0.1:{self.replica_port(i)}" for i in range(self.replicas)]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.leaders_port}"

    @property
    def coaches_url(self) -> str:
        return f"https://127.0.0.1:{self.review_proxy_port}"

    # --- processes --------------------------------------------------------------------------------------

    def _env(self, **extra: str) -> Dict[str, str]:
        env = self.settings.child_env(self.env)
        env.update({"BALANCECOACH_RASA_URLS": ",".join(self.replica_urls),
                    "SANIC_PROXIES_COUNT": "1"})  # the leader's address from the proxy's X-Forwarded-For
        env.update(extra)
        return env

    def start_process(self, name: str) -> subprocess.Popen:
        args, env = self.commands[name]
        os.umask(0o077)
        self.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        out = open(self.log_dir / f"{name}.log", "ab") if self.quiet else None
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                   start_new_session=True)
        self.named[name] = process
        self.processes = list(self.named.values())
        return process

    def stop_process(self, name: str, sig: int = signal.SIGTERM, wait: float = 20.0) -> None:
        process = self.named.get(name)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill(self, name: str) -> None:
        self.stop_process(name, signal.SIGKILL)

    def health(self, name: str) -> str:
        if name.startswith("rasa-"):
            return f"http://127.0.0.1:{self.replica_port(int(name.split('-')[1]))}/"
        if name == "actions":
            return f"http://{_local(self.settings.action_host)}:{self.settings.action_port}/health"
        if name == "review":
            return f"{self.review_url}/login"
        return f"{self.url}/webhooks/webchat/"

    def wait_ready(self, names: Sequence[str], timeout: float = 240.0) -> None:
        deadline = time.time() + timeout
        waiting = list(names)
        while waiting:
            for name in waiting:
                if self.named[name].poll() is not None:
                    raise RuntimeError(f"{name} stoppede under opstart (kode {self.named[name].returncode}); "
                                       f"se {self.log_dir / (name + '.log')}")
            if time.time() > deadline:
                raise TimeoutError(f"{', '.join(waiting)} svarede ikke inden {timeout:.0f} s; se {self.log_dir}")
            if _get(self.health(waiting[0]), context=self.context if waiting[0] == "proxy" else None) == 200:
                waiting.pop(0)
            else:
                time.sleep(0.5)

    def start(self, timeout: float = 300.0) -> "Production":
        if not self.model.exists():
            raise FileNotFoundError(f"{self.model} findes ikke; kør 'make train'")
        python = sys.executable
        self.commands["actions"] = ([python, "-m", "rasa_addons.server", "actions"], self._env())
        for i in range(self.replicas):
            self.commands[f"rasa-{i}"] = ([python, "-m", "rasa_addons.server", "rasa", "--model", str(self.model)],
                                          self._env(RASA_PORT=str(self.replica_port(i))))
        self.commands["review"] = ([python, "-m", "review", "serve"], self._env())
        self.commands["proxy"] = ([NGINX, "-p", "{prefix}", "-c", "{prefix}/nginx.conf", "-g", "daemon off;"],
                                  self._env())
        try:
            self.start_process("actions")
            self.start_process("rasa-0")  # the first creates the tables and migrates; the others find them
            self.wait_ready(["rasa-0"], timeout)
            for i in range(1, self.replicas):
                self.start_process(f"rasa-{i}")
            self.start_process("review")
            self._start_proxy()
            self.wait_ready(["actions"] + [f"rasa-{i}" for i in range(1, self.replicas)] + ["review", "proxy"],
                            timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_proxy(self) -> None:
        self.prefix = Path(tempfile.mkdtemp(prefix="balancecoach-proxy-"))
        self.prefix.chmod(0o711)  # nginx's workers (not root) reach their temp folders inside
        (self.prefix / "tmp").mkdir(mode=0o711)
        (self.prefix / "balancecoach.conf").write_text(proxy_config(
            [f"127.0.0.1:{self.replica_port(i)}" for i in range(self.replicas)],
            f"{_local(self.settings.review_host)}:{self.settings.review_port}", self.cert, self.key,
            kilde="make run-prod", leaders_port=self.leaders_port, review_port=self.review_proxy_port))
        (self.prefix / "nginx.conf").write_text(render("nginx.conf.j2", prefix=self.prefix, logs=self.log_dir))
        args, env = self.commands["proxy"]
        self.commands["proxy"] = ([a.replace("{prefix}", str(self.prefix)) for a in args], env)
        self.start_process("proxy")

    def stop(self) -> None:
        for name in list(self.named):
            self.stop_process(name)
        self.named = {}
        self.processes = []
        if self.prefix is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)
            self.prefix = None

    def conversation(self):
        from ops.stack import Conversation

        return Conversation(self.url, context=self.context)


def write_secrets(folder: Path) -> Dict[str, str]:
    """Secret files (0600) for every production secret and a self-signed certificate for this machine; the
    variables that point at them. For a real deployment the secrets come from the municipality's vault and
    the certificate from its CA."""
    import secrets

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {}
    for name in settings_module.SECRETS:
        path = folder / name.lower().replace("balancecoach_", "")
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        env[f"{name}_FILE"] = str(path)
    cert, key = folder / "tls.crt", folder / "tls.key"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        key.chmod(0o600)
    env.update({"BALANCECOACH_TLS_CERT_FILE": str(cert), "BALANCECOACH_TLS_KEY_FILE": str(key),
                "BALANCECOACH_ENDPOINTS": "endpoints.production.yml", "BALANCECOACH_API": "1"})
    return env


def run() -> int:
    try:
        production = Production(quiet=False)
    except (ProductionRefused, settings_module.SettingsError) as error:
        print(error, file=sys.stderr)
        return 2
    print(f"Starter produktionsformen: nginx, {production.replicas} Rasa-servere, action server, gennemsynet ...",
          flush=True)
    stopping = {"now": False}

    def _stop(signum, frame):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    production.start()
    print(f"\nBalancecoach kører bag nginx.\n"
          f"  Ledere og Teams:   {production.url}/webhooks/webchat/ · {production.url}/webhooks/teams/webhook\n"
          f"  Coaches og HR:     {production.coaches_url}/\n"
          f"  Rasa-servere:      {', '.join(production.replica_urls)} (kun lokalt; proxyen viser ikke deres API)\n"
          f"  Samtaler:          {production.settings.database_display}; låse i Redis "
          f"{production.settings.redis_host}:{production.settings.redis_port}\n"
          "Stop med Ctrl-C.", flush=True)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping["now"]:
            dead = [n for n, p in production.named.items() if p.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} stoppede; stopper resten.", file=sys.stderr)
                return 1
            time.sleep(0.5)
    finally:
        production.stop()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.production")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("secrets", help="write secret files and a self-signed certificate; print the variables")
    p.add_argument("folder", type=Path)
    sub.add_parser("run", help="start the production shape (make run-prod)")
    p = sub.add_parser("nginx", help="the proxy's config for given upstreams (deploy/)")
    p.add_argument("--rasa", required=True, help="comma-separated host:port of every Rasa server")
    p.add_argument("--review", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--kilde", required=True)
    args = parser.parse_args(argv)
    if args.command == "secrets":
        for name, value in write_secrets(args.folder.resolve()).items():
            print(f"export {name}={value}")
        return 0
    if args.command == "nginx":
        sys.stdout.write(proxy_config(args.rasa.split(","), args.review, args.cert, args.key, args.kilde))
        return 0
    return run()


if __name__ == "__main__":
    sys.exit(main())
