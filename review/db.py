"""The review app's database: the tracker store's database, with the review tables migrated by Alembic.

Both the Rasa server and the review app call `upgrade` at start; Alembic's version table makes the second call
a no-op, and on PostgreSQL an advisory lock keeps two starting processes from migrating at once.
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 4_207_310_002


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.engine.Engine) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        command.upgrade(alembic_config(connection), "head")


def engine_for(url: str) -> sa.engine.Engine:
    """An engine for the shared database; SQLite gets foreign keys (for the cascades) and a busy timeout,
    since the Rasa server writes to the same file."""
    engine = sa.create_engine(url, future=True, pool_pre_ping=True,
                              connect_args={"timeout": 15} if url.startswith("sqlite") else {})
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.close()
    return engine
