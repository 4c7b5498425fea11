"""Redaction (bot/redaction.py): names and numbers out, ordinary Danish kept — our own sentences, never the
evaluation set's — and the `python -m bot redact` contract."""
import json
import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from bot.redaction import redact
from conftest import ROOT

CASES = [
    ("Lene fra hjemmeplejen har sagt op, og Ahmet Yilmaz overtager hendes ruter.",
     ["Lene", "Ahmet", "Yilmaz"], ["hjemmeplejen", "sagt op", "ruter"]),
    ("Mads er syg igen. Hans kone ringede i morges.", ["Mads"], ["Hans kone", "syg igen"]),
    ("Jeg har fået en klage fra hr. Sørensen om hans mors pleje.", ["Sørensen"], ["hans mors pleje"]),
    ("Skriv til sekretariatet på sekr-ost@herning.dk eller ring 9628 2828.", ["sekr-ost@herning.dk", "9628 2828"],
     ["sekretariatet"]),
    ("Borgeren har CPR-nummer 310899-3127 og bor på Østergade 7, 1. tv. i Ikast.", ["310899-3127", "Østergade 7"],
     ["Ikast", "Borgeren"]),
    ("Vi holder møde i Brande på torsdag med Region Midtjylland og MED-udvalget.", [],
     ["Brande", "Region Midtjylland", "MED-udvalget"]),
    ("Per time får vi 4 besøg, og per uge 120.", [], ["Per time", "per uge", "4 besøg"]),
    ("Jeg skal tale med Ali og Zainab om deres vagter.", ["Ali", "Zainab"], ["vagter"]),
    ("Min leder i Aulum, Helle, siger at vi skal spare 300.000 kr.", ["Helle"], ["Min leder", "Aulum", "300.000 kr."]),
    ("Frederik og Victoria fra personalegruppen vil flytte til Tjørring.", ["Frederik", "Victoria"],
     ["Tjørring", "personalegruppen"]),
    ("Vi mødes på Bøgevej 12 kl. 14 og spiser i Herning bagefter.", ["Bøgevej 12"], ["kl. 14", "Herning"]),
    ("Ring +45 22 33 44 55 eller 22334455, hvis det haster.", ["22 33 44 55", "22334455"], ["hvis det haster"]),
    ("Sagsnummeret er 123456-7890, ikke et cpr-nummer, for der findes ingen 34. i en måned.",
     [], ["123456-7890"]),
    ("Sikkerhed er vigtigt. Stabilitet også. Relationer og Resultater skal med.", [],
     ["Sikkerhed", "Stabilitet", "Relationer", "Resultater"]),
]


def occurs(item, text):
    import re

    return re.search(r"(?<!\w)" + re.escape(item) + r"(?!\w)", text) is not None


@pytest.mark.parametrize("text, gone, kept", CASES)
def test_names_and_numbers_go_and_ordinary_danish_stays(text, gone, kept):
    out = redact(text)
    assert [g for g in gone if occurs(g, out)] == [], out
    assert [k for k in kept if k not in out] == [], out


def test_placeholders_say_what_was_there():
    out = redact("Karen (karen@example.dk, 40 50 60 70, cpr 010203-4567) bor på Kirkevej 2.")
    assert out == "[navn] ([email], [telefon], cpr [cpr]) bor på [adresse]."


@given(st.text(max_size=400))
def test_any_text_comes_back_as_text_without_crashing(text):
    out = redact(text)
    assert isinstance(out, str)
    assert redact(out) == out, "redacting twice changes nothing more"


def test_the_command_reads_lines_and_writes_json_lines():
    lines = ["Mette har ringet.", "", "Intet navn her, kun 3 ledige pladser.", "æøå 😊 <b>"]
    done = subprocess.run([sys.executable, "-m", "bot", "redact"], input="\n".join(lines) + "\n", text=True,
                          capture_output=True, cwd=ROOT, timeout=120, check=True)
    out = [json.loads(line)["tekst"] for line in done.stdout.splitlines()]
    assert out == ["[navn] har ringet.", "", "Intet navn her, kun 3 ledige pladser.", "æøå 😊 <b>"]
