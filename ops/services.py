"""A private PostgreSQL and a private Redis, for the fault tests (`make chaos`) and the load test: they stop and
restart these as an outage would, without touching the machine's own servers other work relies on."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional


def _wait_port(port: int, up: bool, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.2)
    raise TimeoutError(f"port {port} did not go {'up' if up else 'down'} within {timeout:.0f} s")


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"PostgreSQL's {name} is not installed (Debian: postgresql)")
    return found[-1]


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on its own port, run as the `postgres` user (initdb refuses root)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="balancecoach-pg-"))
        self.data = self.folder / "data"
        self._as_postgres: List[str] = []
        if os.geteuid() == 0:
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(self._as_postgres + list(args), check=True, capture_output=True, timeout=120)

    def start(self) -> "PrivatePostgres":
        if not self.data.exists():
            self._run(_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "--no-sync", "-E", "UTF8")
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "postgres.log"), "-w",
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c max_connections=300", "start")
        _wait_port(self.port, up=True)
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        _wait_port(self.port, up=False)

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except Exception:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """redis-server on its own port, keeping nothing on disk."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: Optional[subprocess.Popen] = None

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, up=True)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        _wait_port(self.port, up=False)
        self.process = None
