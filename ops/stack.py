"""Start and stop the coach: the action server, the Rasa server and (for `make run`) the review app, as child
processes.

`make run`, the evaluation, the benchmark and the end-to-end tests all start the coach through `Stack`, so
what is tested is what leaders get.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List, Optional

from bot import settings as settings_module

ROOT = settings_module.ROOT
BIN = Path(sys.executable).parent


def _get(url: str, timeout: float = 2.0, context=None) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return response.status
    except Exception:
        return None


def _post(url: str, payload: dict, headers: Optional[dict] = None, timeout: float = 60.0, context=None):
    request = urllib.request.Request(url, json.dumps(payload).encode(),
                                     {"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        return json.loads(response.read().decode())


class Conversation:
    """One leader's conversation over the REST contract: the server issues its id and token."""

    def __init__(self, base_url: str, context=None) -> None:
        self.base_url = base_url
        self.context = context  # TLS: trusts the proxy's certificate (ops/production.py)
        opened = _post(f"{base_url}/webhooks/rest/session", {}, context=context)
        self.sender, self.token = opened["sender"], opened["token"]

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def say(self, message: str, timeout: float = 60.0) -> List[dict]:
        return _post(f"{self.base_url}/webhooks/rest/webhook", {"sender": self.sender, "message": message},
                     self.headers, timeout, self.context)


class Stack:
    """The running coach. Use as a context manager; logs go to `log_dir`."""

    def __init__(self, settings=None, model: Optional[Path] = None, log_dir: Optional[Path] = None,
                 quiet: bool = True, review: bool = False):
        """`model` defaults to the one HR deployed last (review/udrulning.py), else the one `make train` built."""
        from review.udrulning import current_model

        self.settings = settings or settings_module.load()
        self.review = review
        self.model = Path(model) if model else current_model(self.settings.state_dir)
        self.log_dir = Path(log_dir or self.settings.state_dir / "logs")
        self.quiet = quiet
        self.processes: List[subprocess.Popen] = []
        self.conversations: Dict[str, Conversation] = {}

    @property
    def url(self) -> str:
        return self.settings.rasa_url

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        os.umask(0o077)  # logs and the SQLite file: the service user's alone
        self.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        out = open(self.log_dir / f"{name}.log", "ab") if self.quiet else None
        process = subprocess.Popen(
            args, cwd=ROOT, env=self.settings.child_env(), stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def start(self, timeout: float = 240.0) -> "Stack":
        if not self.model.exists():
            raise FileNotFoundError(f"{self.model} findes ikke; kør 'make train'")
        s = self.settings
        try:  # the servers run in their own sessions: a Ctrl-C during start-up must not leave them behind
            self._spawn("actions", [sys.executable, "-m", "rasa_addons.server", "actions"])
            self._spawn("rasa", [sys.executable, "-m", "rasa_addons.server", "rasa", "--model", str(self.model)])
            checks = [f"http://{_local(s.action_host)}:{s.action_port}/health", f"{self.url}/"]
            self._wait(checks, time.time() + timeout)
            if self.review:  # after the Rasa server, which has migrated the shared database by then
                self._spawn("review", [sys.executable, "-m", "review", "serve"])
                self._wait([f"{self.review_url}/login"], time.time() + 60)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, checks: List[str], deadline: float) -> None:
        timeout = deadline - time.time()
        while checks:
            for name, process in zip(("action server", "Rasa server", "gennemsynet"), self.processes):
                if process.poll() is not None:
                    code = process.returncode
                    self.stop()
                    raise RuntimeError(f"{name} stoppede under opstart (kode {code}); se {self.log_dir}")
            if time.time() > deadline:
                self.stop()
                raise TimeoutError(f"coachen svarede ikke inden {timeout:.0f} s; se {self.log_dir}")
            if _get(checks[0]) == 200:
                checks.pop(0)
            else:
                time.sleep(0.5)

    @property
    def review_url(self) -> str:
        return f"http://{_local(self.settings.review_host)}:{self.settings.review_port}"

    def conversation(self) -> Conversation:
        return Conversation(self.url)

    def ask(self, message: str, sender: Optional[str] = None) -> List[dict]:
        """One turn; `sender` is the caller's name for a conversation the server opened on first use."""
        key = sender or uuid.uuid4().hex
        if key not in self.conversations:
            self.conversations[key] = self.conversation()
        return self.conversations[key].say(message)

    def sender_id(self, name: str) -> str:
        """The server's id of the conversation the caller calls `name`."""
        return self.conversations[name].sender

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []

    def pids(self) -> List[int]:
        return [p.pid for p in self.processes]

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def serve(shell: bool = False) -> int:
    """`make run` / `make shell`: start both servers, say where to chat, stop both on Ctrl-C."""
    s = settings_module.load()
    if shell:
        stack = Stack(s)
        stack._spawn("actions", [sys.executable, "-m", "rasa_addons.server", "actions"])
        try:
            return subprocess.call(
                [str(BIN / "rasa"), "shell", "--model", str(stack.model), "--endpoints", str(s.endpoints),
                 # rasa shell talks to its own server through Rasa's plain REST channel: loopback only
                 "--interface", "127.0.0.1", "--port", str(s.rasa_port)],
                cwd=ROOT, env=s.child_env(),
            )
        finally:
            stack.stop()
    if _local(s.review_host) == "127.0.0.1" and not os.environ.get("BALANCECOACH_REVIEW_SECURE_COOKIES"):
        import dataclasses

        s = dataclasses.replace(s, review_secure_cookies=False)  # plain http on this machine only
    stack = Stack(s, quiet=False, review=True)
    print("Starter action server, Rasa server og gennemsynet (første gang tager det et halvt minut) ...", flush=True)
    started = time.time()

    def _interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)  # stopped while starting: Stack.start stops what it started
    try:
        stack.start()
    except KeyboardInterrupt:
        print("\nStoppet under opstart.", flush=True)
        return 130
    base = s.rasa_url
    print(
        f"\nBalancecoach kører (klar på {time.time() - started:.0f} s).\n"
        f"  Chat i browseren:   {base}/webhooks/webchat/\n"
        f"  REST:               POST {base}/webhooks/rest/session, derefter /webhooks/rest/webhook med "
        "Authorization: Bearer <token> (README)\n"
        f"  socket.io:          {base}/socket.io\n"
        f"  HTTP API:           {'til (JWT, se docs/sikkerhed.md)' if s.api_enabled else 'slået fra (BALANCECOACH_API=1)'}\n"
        f"  Samtaler gemmes i:  {s.database_display}, slettes efter {s.retention_days} dage\n"
        f"  Gennemsynet:        {stack.review_url}/ (coaches; opret en konto med "
        f"{BIN / 'python'} -m review add-user NAVN --rolle coach)\n"
        "Stop med Ctrl-C.",
        flush=True,
    )
    stopping = {"now": False}

    def _stop(signum, frame):
        stopping["now"] = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping["now"]:
            if any(p.poll() is not None for p in stack.processes):
                print("En af serverne stoppede; stopper begge.", file=sys.stderr)
                stack.stop()
                return 1
            time.sleep(0.5)
    finally:
        print("\nStopper Balancecoach ...", flush=True)
        stack.stop()
    return 0
