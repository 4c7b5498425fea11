"""Shared fixtures. Models are trained by `make test` before pytest starts; tests never train."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BALANCECOACH_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
if str(ROOT) not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)


@pytest.fixture(scope="session")
def model():
    from bot.knowledge import default_model

    return default_model()


@pytest.fixture(scope="session")
def analyser():
    from bot.analysis import Analyser

    return Analyser()


POSTGRES_ADMIN = os.environ.get("BALANCECOACH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def fresh_database(tmp_path):
    """`fresh_database("sqlite" | "postgresql")` gives the URL of an empty database of that kind; PostgreSQL
    ones are created on the machine's server for the test and dropped after it."""
    import uuid

    from ops import postgres

    made = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'db-{uuid.uuid4().hex[:8]}.db'}"
        made.append(postgres.create("bc_test", POSTGRES_ADMIN))
        return made[-1]

    yield make
    for url in made:
        postgres.drop(url, POSTGRES_ADMIN)
