"""The production shape refuses to start unsafe (bot/settings.py `production_problems`, ops/production.py), and
its proxy config is one nginx accepts. The running shape itself is tested in tests/chaos/ (`make chaos`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from bot import settings
from ops.production import ROOT, proxy_config, render, write_secrets

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hemmeligheder")
    return {**write_secrets(folder), "BALANCECOACH_DATABASE_URL": POSTGRES}


def test_safe_settings_pass(good):
    assert settings.production_problems(good) == []


def test_nothing_set_names_every_missing_part():
    problems = "\n".join(settings.production_problems({}))
    for name in settings.SECRETS + ("BALANCECOACH_DATABASE_URL", "BALANCECOACH_ENDPOINTS", "BALANCECOACH_API=1",
                                    "BALANCECOACH_TLS_CERT_FILE", "BALANCECOACH_TLS_KEY_FILE"):
        assert name in problems


@pytest.mark.parametrize("value", ["skift-mig-til-en-lang-tilfaeldig-vaerdi-0123456789",
                                   "changeme-changeme-changeme-changeme-changeme",
                                   "a" * 48, "abababababababababababababababababababab"])
def test_a_default_or_uniform_secret_is_refused(good, value):
    env = {**good, "BALANCECOACH_REVIEW_SECRET": value}
    assert any("BALANCECOACH_REVIEW_SECRET" in p for p in settings.production_problems(env))


def test_one_secret_for_two_uses_is_refused(good, tmp_path):
    same = (tmp_path / "same")
    same.write_text(open(good["BALANCECOACH_SESSION_SECRET_FILE"]).read())
    same.chmod(0o600)
    env = {**good, "BALANCECOACH_API_SECRET_FILE": str(same)}
    assert any("samme" in p for p in settings.production_problems(env))


def test_sqlite_the_in_memory_lock_store_and_a_readable_key_are_refused(good, tmp_path):
    key = tmp_path / "tls.key"
    shutil.copy(good["BALANCECOACH_TLS_KEY_FILE"], key)
    key.chmod(0o644)
    env = {**good, "BALANCECOACH_DATABASE_URL": "sqlite:///var/tracker.db", "BALANCECOACH_ENDPOINTS": "endpoints.yml",
           "BALANCECOACH_TLS_KEY_FILE": str(key)}
    problems = "\n".join(settings.production_problems(env))
    assert "PostgreSQL" in problems and "Redis" in problems and "chmod 600" in problems


def test_run_prod_refuses_before_starting_anything(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALANCECOACH_")}
    env["BALANCECOACH_STATE_DIR"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-m", "ops.production", "run"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    assert "Produktion starter ikke" in out.stderr and "BALANCECOACH_SESSION_SECRET" in out.stderr
    assert not list(tmp_path.glob("*secret*")), "production must not generate secrets into the state folder"


@pytest.mark.skipif(not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"),
                    reason="nginx is installed by make run-prod / make chaos")
def test_nginx_accepts_the_rendered_config(good, tmp_path):
    (tmp_path / "tmp").mkdir()
    (tmp_path / "balancecoach.conf").write_text(proxy_config(
        ["127.0.0.1:5005", "127.0.0.1:5006"], "127.0.0.1:5010", good["BALANCECOACH_TLS_CERT_FILE"],
        good["BALANCECOACH_TLS_KEY_FILE"], kilde="test"))
    (tmp_path / "nginx.conf").write_text(render("nginx.conf.j2", prefix=tmp_path, logs=tmp_path))
    out = subprocess.run([shutil.which("nginx") or "/usr/sbin/nginx", "-t", "-p", str(tmp_path), "-c",
                          str(tmp_path / "nginx.conf")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def _gate_over(monkeypatch, tmp_path, endpoints: str, redis_port: int = 6379):
    from channels.gate import Gate

    for name, value in {"BALANCECOACH_STATE_DIR": str(tmp_path), "BALANCECOACH_ENDPOINTS": endpoints,
                        "BALANCECOACH_REDIS_PORT": str(redis_port), "BALANCECOACH_MESSAGE_BURST": "3",
                        "BALANCECOACH_MESSAGES_PER_MINUTE": "1"}.items():
        monkeypatch.setenv(name, value)
    return Gate(settings.load())


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def test_servers_on_one_redis_share_each_conversations_limit(monkeypatch, tmp_path):
    """Two servers' gates: a conversation's burst of three is spent across both, not three on each."""
    import uuid

    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    first = _gate_over(monkeypatch, tmp_path, "endpoints.production.yml")
    second = _gate_over(monkeypatch, tmp_path, "endpoints.production.yml")
    sender = f"web-{uuid.uuid4().hex}"
    answers = [gate.refusal(sender, "10.0.0.1", "hej") for gate in (first, second, first, second)]
    assert answers == [None, None, None, "vent_lidt"]
    assert second.refusal(f"web-{uuid.uuid4().hex}", "10.0.0.1", "hej") is None, "another conversation is free"


def test_without_redis_in_the_endpoints_each_server_counts_alone(monkeypatch, tmp_path):
    first = _gate_over(monkeypatch, tmp_path, "endpoints.yml")
    second = _gate_over(monkeypatch, tmp_path, "endpoints.yml")
    assert [g.refusal("web-x", "10.0.0.1", "hej") for g in (first, first, first, first)][-1] == "vent_lidt"
    assert second.refusal("web-x", "10.0.0.1", "hej") is None


def test_a_redis_that_does_not_answer_lets_the_message_on_to_the_lock_store(monkeypatch, tmp_path):
    gate = _gate_over(monkeypatch, tmp_path, "endpoints.production.yml", redis_port=6399)
    assert [gate.refusal("web-y", "10.0.0.1", "hej") for _ in range(5)] == [None] * 5
