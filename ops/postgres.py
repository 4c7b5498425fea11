"""Throw-away PostgreSQL databases on the machine's server, for tests and benchmarks that need a real one."""
from __future__ import annotations

import os
import uuid

import sqlalchemy as sa

ADMIN_URL = os.environ.get("BALANCECOACH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _admin(sql: str, admin_url: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(sql))
    finally:
        admin.dispose()


def create(prefix: str = "balancecoach", admin_url: str = ADMIN_URL) -> str:
    """A new, empty database; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"', admin_url)
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop(url: str, admin_url: str = ADMIN_URL) -> None:
    if url.startswith("postgresql"):
        _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)', admin_url)
