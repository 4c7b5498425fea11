"""Names and numbers never stored: the real bot is driven with messages full of them, over REST, then every
row of every table (SQLite and PostgreSQL), the SQLite file's raw bytes and the log files are read. The only
name allowed anywhere is the contact a leader gives on purpose for a follow-up, in its one column, until
the leader withdraws consent."""
import pytest
import sqlalchemy as sa

from ops.evaluation import isolated_settings
from ops.stack import Stack

# Written for this test in the voice of leaders (not from the evaluation sets).
MESSAGES = [
    "Min afdelingsleder Birthe Søgaard og jeg er uenige om, hvorvidt Jannik skal have en advarsel.",
    "Borgeren (cpr 240586-1779) bor på Kirkevej 12 i Ikast og har ringet fra 28 91 45 03 flere gange.",
    "Skriv til tina.moeller@herning.dk, hvis Abdullah Yilmaz ikke møder op på mandag.",
    "ja",
    "Jeg kunne bede Karsten fra MED-udvalget om at hjælpe med en ny plan.",
    "spring til opsummeringen",
    "ja, uden mit navn",
    "ja",
    "4",
    "at Henriette og jeg fik talt om det",
]
SECRETS = ["Birthe", "Søgaard", "Jannik", "240586-1779", "Kirkevej 12", "28 91 45 03", "tina.moeller",
           "herning.dk", "Abdullah", "Yilmaz", "Karsten", "Henriette"]
KEPT = ["advarsel", "MED-udvalget", "Ikast", "mandag"]
CONTACT = "Sanne Ravnkilde, 51 22 73 40"


def every_cell(engine) -> str:
    inspector = sa.inspect(engine)
    cells = []
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                cells.extend(str(value) for value in row)
    return "\n".join(cells)


@pytest.fixture(params=["sqlite", "postgresql"])
def coach(request, tmp_path, fresh_database):
    url = fresh_database(request.param)
    settings = isolated_settings(5825, 5875, tmp_path, BALANCECOACH_DATABASE_URL=url)
    with Stack(settings, log_dir=tmp_path / "logs") as stack:
        stack.engine = sa.create_engine(url)
        yield stack
        stack.engine.dispose()


def test_no_name_or_number_is_stored_anywhere(coach, tmp_path):
    leader = coach.conversation()
    replies = [leader.say(message) for message in MESSAGES]
    said = " ".join(r.get("text") or "" for turn in replies for r in turn)
    assert "[navn]" in said, "the coach quotes the redacted words"

    named = coach.conversation()
    for message in ["Vi skal lukke en afdeling, og Bente er bange for sit job.", "spring til opsummeringen",
                    "ja med mit navn", CONTACT]:
        named.say(message)

    stored = every_cell(coach.engine)
    files = "".join(p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*")
                    if p.is_file() and p.suffix in (".log", ".db", ".db-wal", ".db-journal"))
    for secret in SECRETS + ["Bente"]:
        assert secret not in stored, f"{secret!r} is in the database"
        assert secret not in files, f"{secret!r} is in a log or the SQLite file"
    for word in KEPT:
        assert word in stored, f"ordinary Danish ({word!r}) must survive"

    with coach.engine.connect() as connection:
        contacts = connection.execute(sa.text("SELECT kontakt FROM bc_samtaler WHERE kontakt IS NOT NULL")).all()
    assert contacts == [(CONTACT,)], "the contact a leader gives on purpose is kept, in its one column"
    assert stored.count("Ravnkilde") == 1

    named.say("træk mit samtykke tilbage")
    assert "Ravnkilde" not in every_cell(coach.engine), "withdrawal takes the contact away"
