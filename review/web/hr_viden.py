"""HR's editor for the balance model (bot/knowledge.yml): signal words and descriptions, validated and previewed.

The file stays the one source, edited in place with its comments and layout kept (ruamel's round trip), so an
edit is a small diff in git review. A change is first validated (bot/knowledge.py reads the edited copy, and
an error names the entry) and previewed: the messages HR has been lent are analysed with the balance model as
it is and as it would be, with the running analysis classifier, and those heard differently are listed. It
reaches leaders with the next candidate that is deployed, since the Rasa model carries the balance model.
"""
from __future__ import annotations

import functools
import io
import json
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from review.auth import kraever
from review.models import LaeringsBesked, Samtale
from review.web import db, revision
from review.web.hr import project

bp = Blueprint("hr_viden", __name__, url_prefix="/hr/viden")

AFSNIT = {
    "kvadranter": "Hensyn (kvadranter)",
    "etikker": "Etikker",
    "borgersyn": "Borgersyn",
    "roller": "Kommunens roller",
    "oversaettelse": "Linse: oversættelse",
    "fremtid": "Linse: fremtidsskabelse",
}
ENKELTE = ("oversaettelse", "fremtid")
"""Sections that are one entry, not a table of them."""
FORHAANDSVIS_HOEJST = 300
MAX_ORD = 60
MAX_TEKST = 1500


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _path() -> Path:
    return project() / "bot" / "knowledge.yml"


def _entry(data, afsnit: str, ident: str):
    if afsnit not in AFSNIT:
        abort(404)
    if afsnit in ENKELTE:
        return data.get(afsnit) if ident == afsnit else None
    return (data.get(afsnit) or {}).get(ident)


def _words(entry) -> List[str]:
    found = []
    for item in entry.get("signaler") or []:
        found.append(str(item.get("ord")) if hasattr(item, "get") else str(item))
    return found


def _entries(data) -> List[Tuple[str, str, dict]]:
    rows = []
    for afsnit in AFSNIT:
        if afsnit in ENKELTE:
            if data.get(afsnit) is not None:
                rows.append((afsnit, afsnit, data[afsnit]))
        else:
            rows.extend((afsnit, ident, entry) for ident, entry in (data.get(afsnit) or {}).items())
    return rows


@bp.get("/", endpoint="viden")
@kraever("hr", "admin")
def viden():
    data = _yaml().load(_path().read_text(encoding="utf-8"))
    return render_template("hr_viden.html", poster=_entries(data), AFSNIT=AFSNIT, ord_af=_words)


def _edited(afsnit: str, ident: str, form) -> Tuple[str, List[str]]:
    """The knowledge file with this entry changed, as text, and the changes in words."""
    y = _yaml()
    data = y.load(_path().read_text(encoding="utf-8"))
    entry = _entry(data, afsnit, ident)
    if entry is None:
        abort(404)
    changes = []
    for field in ("beskrivelse", "kort", "spoergsmaal"):
        if field in form and field in entry:
            value = " ".join((form.get(field) or "").split())[:MAX_TEKST]
            if value and value != " ".join(str(entry[field]).split()):
                entry[field] = value
                changes.append(f"{field} ændret")
    remove = set(form.getlist("fjern"))
    if remove and "signaler" in entry:
        kept = [item for item in entry["signaler"]
                if (str(item.get("ord")) if hasattr(item, "get") else str(item)) not in remove]
        changes.extend(f"signalord fjernet: {w}" for w in sorted(remove & set(_words(entry))))
        entry["signaler"][:] = kept
    new = " ".join((form.get("nyt_ord") or "").split()).strip()[:MAX_ORD]
    if new:
        if "signaler" not in entry:
            entry["signaler"] = []
        if new.casefold() not in {w.casefold() for w in _words(entry)}:
            entry["signaler"].append(new)
            changes.append(f"signalord tilføjet: {new}")
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue(), changes


def _validate(text: str):
    from bot.knowledge import KnowledgeError, load_model

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "knowledge.yml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_model(path), None
        except KnowledgeError as error:
            return None, str(error)


@functools.lru_cache(maxsize=2)
def _classifier(path: str, mtime: float):
    from bot import classifier

    return classifier.load(Path(path))


def _heard(analysis) -> Dict[str, List[str]]:
    return {"kvadranter": sorted(analysis.voiced), "etikker": sorted(analysis.etikker),
            "borgersyn": sorted(analysis.borgersyn), "roller": sorted(analysis.roller)}


def preview(before_model, after_model, texts: List[str]) -> List[dict]:
    """The texts the analysis would hear differently after the edit (same classifier on both sides)."""
    from bot.analysis import Analyser

    pkl = project() / "models" / "analyse.pkl"
    trained = _classifier(str(pkl), pkl.stat().st_mtime)
    before = Analyser(model=before_model, trained=trained).analyse_many(texts)
    after = Analyser(model=after_model, trained=trained).analyse_many(texts)
    changed = []
    for text, a, b in zip(texts, before, after):
        if _heard(a) != _heard(b):
            changed.append({"tekst": text, "foer": _heard(a), "efter": _heard(b)})
    return changed


@bp.post("/<afsnit>/<ident>")
@kraever("hr", "admin")
def ret(afsnit: str, ident: str):
    from bot.knowledge import load_model

    text, changes = _edited(afsnit, ident, request.form)
    if not changes:
        flash("Intet at ændre.")
        return redirect(url_for("hr_viden.viden"))
    model, error = _validate(text)
    if error:
        flash(f"Ændringen kan ikke gemmes: {error}", "fejl")
        return redirect(url_for("hr_viden.viden"))
    if request.form.get("handling") == "gem":
        _path().write_text(text, encoding="utf-8")
        revision("viden_rettet", detaljer=json.dumps({"post": f"{afsnit}/{ident}", "aendringer": changes},
                                                     ensure_ascii=False))
        flash("Gemt i bot/knowledge.yml. Det når lederne med næste kandidat, der udrulles.")
        return redirect(url_for("hr_viden.viden"))
    texts = db().execute(select(LaeringsBesked.tekst).join(Samtale, Samtale.id == LaeringsBesked.samtale_id)
                         .where(Samtale.laering == "ja").order_by(LaeringsBesked.tidspunkt.desc())
                         .limit(FORHAANDSVIS_HOEJST)).scalars().all()
    changed = preview(load_model(_path()), model, list(texts))
    return render_template("hr_viden_forhaandsvis.html", afsnit=afsnit, ident=ident, aendringer=changes,
                           aendret=changed, antal=len(texts), form=request.form, AFSNIT=AFSNIT)
