"""HR's labels, written into `data/` as training data that goes through git review like any other change.

`make export-training` (python -m review export-training) writes one file per source: the intents HR
confirmed or corrected as Rasa NLU YAML (data/nlu/hr_eksempler.yml), the dilemmas HR marked in the
analysis' own format (data/analyse/hr_dilemmaer.yml). Each file is rewritten whole from the database, so a
message whose leader withdrew consent since the last export leaves the data with the next one. A text that
is already an example elsewhere in data/ is left out (Rasa refuses one example under two intents), and two
labels of the same text keep the newest.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import sqlalchemy as sa
import yaml

from review.models import LaeringsBesked, Samtale

NLU_FILE = Path("nlu") / "hr_eksempler.yml"
ANALYSIS_FILE = Path("analyse") / "hr_dilemmaer.yml"
DILEMMA_INTENT = "beskriv_dilemma"

_NLU_HEADER = ("# Skrevet af `make export-training` ud fra HR's mærkninger i gennemsynet (review/training.py).\n"
               "# Ret ikke i filen: ret mærkningen i gennemsynet og eksportér igen. Kun beskeder fra ledere, der\n"
               "# sagde ja til, at deres beskeder må bruges til at forbedre coachen; navne og numre er fjernet.\n")


def normal(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def _example_text(text: str) -> str:
    """One line, and no Rasa entity syntax by accident: "[navn](" would read as an annotated entity."""
    return re.sub(r"\](?=[({\[])", "] ", " ".join(text.split()))


def nlu_examples(nlu: Path) -> List[Tuple[str, str]]:
    """(text, intent) of every example in a Rasa NLU file, or in every file of a folder, annotations as written."""
    found = []
    for path in sorted(nlu.glob("*.yml")) if nlu.is_dir() else [nlu]:
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append((line[2:], block["intent"]))
    return found


def plain(text: str) -> str:
    """An example's text without Rasa's entity annotations: "[Ikast](sted)" is "Ikast"."""
    return re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", text)


def existing_examples(data_dir: Path, skip: Iterable[Path] = ()) -> Dict[str, str]:
    """Every NLU example text already in data/ (normalised) with its intent, except in `skip`."""
    skip = {p.resolve() for p in skip}
    found: Dict[str, str] = {}
    for path in sorted((data_dir / "nlu").glob("*.yml")):
        if path.resolve() not in skip:
            found.update((normal(plain(text)), intent) for text, intent in nlu_examples(path))
    return found


def intents(data_dir: Path) -> List[str]:
    """The intents HR can choose between: those the project has examples for."""
    return sorted(set(existing_examples(data_dir).values()))


def labelled(connection) -> List[LaeringsBesked]:
    """HR's labels of messages whose leader still consents, oldest first (so the newest label wins)."""
    query = (sa.select(LaeringsBesked).join(Samtale, Samtale.id == LaeringsBesked.samtale_id)
             .where(LaeringsBesked.status == "maerket", Samtale.laering == "ja")
             .order_by(LaeringsBesked.maerket_tid, LaeringsBesked.id))
    from sqlalchemy.orm import Session

    return list(Session(bind=connection).execute(query).scalars())


def training_data(rows: Iterable[LaeringsBesked], existing: Dict[str, str]) -> Tuple[Dict[str, List[str]], List[dict]]:
    """(intent -> example texts, dilemmas in data/analyse's format) from the labelled rows."""
    by_text: Dict[str, LaeringsBesked] = {}
    for row in rows:
        by_text[normal(row.tekst)] = row
    examples: Dict[str, List[str]] = {}
    dilemmas: List[dict] = []
    for key, row in sorted(by_text.items(), key=lambda item: item[1].id):
        text = _example_text(row.tekst)
        if row.maerke_intent and key not in existing:
            examples.setdefault(row.maerke_intent, []).append(text)
        if row.maerke_hensyn:
            heard = json.loads(row.maerke_hensyn)
            dilemmas.append({"tekst": text, "kvadranter": sorted(heard.get("kvadranter") or []),
                             "etikker": sorted(heard.get("etikker") or []),
                             "borgersyn": sorted(heard.get("borgersyn") or []),
                             "t": None, "oversaettelse": False, "fremtid": False})
    return examples, dilemmas


def write_nlu(examples: Dict[str, List[str]], path: Path, header: str = "") -> None:
    """Rasa NLU YAML: the examples under their intents, intents in order."""
    lines = [header, 'version: "3.1"\n', "nlu:\n"]
    for intent in sorted(examples):
        lines.append(f"- intent: {intent}\n  examples: |\n")
        lines.extend(f"    - {text}\n" for text in examples[intent])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


def write(data_dir: Path, examples: Dict[str, List[str]], dilemmas: List[dict]) -> Dict[str, int]:
    """Rewrite HR's two files under `data_dir`; an empty source leaves no file behind."""
    nlu_path, analysis_path = data_dir / NLU_FILE, data_dir / ANALYSIS_FILE
    if examples:
        write_nlu(examples, nlu_path, _NLU_HEADER)
    elif nlu_path.exists():
        nlu_path.unlink()
    if dilemmas:
        analysis_path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join("- " + json.dumps(d, ensure_ascii=False) + "\n" for d in dilemmas)
        analysis_path.write_text(_NLU_HEADER + body, encoding="utf-8")
    elif analysis_path.exists():
        analysis_path.unlink()
    return {"eksempler": sum(len(v) for v in examples.values()), "dilemmaer": len(dilemmas)}


def export(engine: sa.engine.Engine, data_dir: Path) -> Dict[str, int]:
    """Write HR's labels into `data_dir` (the project's data/, or a candidate's copy of it)."""
    with engine.connect() as connection:
        rows = labelled(connection)
    existing = existing_examples(data_dir, skip=[data_dir / NLU_FILE])
    examples, dilemmas = training_data(rows, existing)
    return write(data_dir, examples, dilemmas)


def regression_set(engine: sa.engine.Engine) -> List[dict]:
    """HR's labelled messages as a test set: what a candidate must still understand after it deploys."""
    with engine.connect() as connection:
        rows = labelled(connection)
    seen: Dict[str, dict] = {}
    for row in rows:
        seen[normal(row.tekst)] = {"tekst": row.tekst, "intent": row.maerke_intent,
                                   "hensyn": json.loads(row.maerke_hensyn) if row.maerke_hensyn else None}
    return list(seen.values())


def labels_of(row: LaeringsBesked) -> Optional[dict]:
    return json.loads(row.maerke_hensyn) if row.maerke_hensyn else None
