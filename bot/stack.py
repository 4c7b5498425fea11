"""Start and stop the coach: the action server and the Rasa server as child processes.

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
from typing import List, Optional

from . import settings as settings_module

ROOT = settings_module.ROOT
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "balancecoach.tar.gz"


def _get(url: str, timeout: float = 2.0) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except Exception:
        return None


def post_message(base_url: str, sender: str, message: str, timeout: float = 60.0) -> List[dict]:
    """One turn through the REST channel."""
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"{base_url}/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode())


class Stack:
    """The running coach. Use as a context manager; logs go to `log_dir`."""

    def __init__(self, settings=None, model: Path = MODEL, log_dir: Optional[Path] = None, quiet: bool = True):
        self.settings = settings or settings_module.load()
        self.model = Path(model)
        self.log_dir = Path(log_dir or self.settings.state_dir / "logs")
        self.quiet = quiet
        self.processes: List[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return self.settings.rasa_url

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
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
        self._spawn("actions", [str(BIN / "rasa"), "run", "actions", "--port", str(s.action_port), "--actions", "actions"])
        self._spawn(
            "rasa",
            [
                str(BIN / "rasa"), "run", "--model", str(self.model), "--port", str(s.rasa_port),
                "--interface", s.host, "--enable-api", "--auth-token", s.auth_token, "--cors", "*",
                "--endpoints", str(s.endpoints), "--credentials", str(ROOT / "credentials.yml"),
            ],
        )
        deadline = time.time() + timeout
        checks = [f"http://127.0.0.1:{s.action_port}/health", f"http://127.0.0.1:{s.rasa_port}/"]
        while checks:
            for name, process in zip(("action server", "Rasa server"), self.processes):
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
        return self

    def ask(self, message: str, sender: Optional[str] = None) -> List[dict]:
        return post_message(f"http://127.0.0.1:{self.settings.rasa_port}", sender or uuid.uuid4().hex, message)

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


def serve(shell: bool = False) -> int:
    """`make run` / `make shell`: start both servers, say where to chat, stop both on Ctrl-C."""
    s = settings_module.load()
    if shell:
        stack = Stack(s)
        stack._spawn("actions", [str(BIN / "rasa"), "run", "actions", "--port", str(s.action_port), "--actions", "actions"])
        try:
            return subprocess.call(
                [str(BIN / "rasa"), "shell", "--model", str(MODEL), "--endpoints", str(s.endpoints)],
                cwd=ROOT, env=s.child_env(),
            )
        finally:
            stack.stop()
    stack = Stack(s, quiet=False)
    print("Starter action server og Rasa server (første gang tager det et halvt minut) ...", flush=True)
    started = time.time()
    stack.start()
    base = s.rasa_url
    print(
        f"\nBalancecoach kører (klar på {time.time() - started:.0f} s).\n"
        f"  Chat i browseren:   {base}/webhooks/webchat/\n"
        f"  REST:               curl -s {base}/webhooks/rest/webhook -H 'Content-Type: application/json' "
        f"-d '{{\"sender\": \"mig\", \"message\": \"hej\"}}'\n"
        f"  socket.io:          {base}/socket.io\n"
        f"  HTTP API (token):   {base}/status?token=<se var/auth_token eller BALANCECOACH_AUTH_TOKEN>\n"
        f"  Samtaler gemmes i:  {s.database_url}\n"
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
