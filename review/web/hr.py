"""HR's inbox and labelling: single messages, lent by leaders who said yes, where the coach was unsure or wrong.

Never a conversation: a message shows with the coach's reading (intent, confidence, runner-up, what the
analysis heard) and why it is here (bot/learning.py), and near-duplicates are grouped so one label serves a
phrasing many leaders use. Only messages whose leader still consents exist here; anything else answers 404.
Labels live in the database until `make export-training` writes them into data/.
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Dict, List

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from bot import learning
from review import training
from review.auth import kraever
from review.models import LaeringsBesked, Samtale
from review.web import db, revision, visning

bp = Blueprint("hr", __name__, url_prefix="/hr")

PR_SIDE = 25
HOEJST = 2000
"""The newest messages the inbox groups at a time; older ones show as those are labelled."""
STATUS = {"ny": "Nye", "maerket": "Mærkede", "afvist": "Afviste"}


def project():
    return current_app.extensions["bc_projekt"]


def _lent():
    """Messages whose leader still lets HR use them."""
    return (select(LaeringsBesked, Samtale.vurdering).join(Samtale, Samtale.id == LaeringsBesked.samtale_id)
            .where(Samtale.laering == "ja"))


def _grunde(row: LaeringsBesked, vurdering) -> List[str]:
    reasons = [r for r in (row.grunde or "").split(",") if r]
    if vurdering in (1, 2):
        reasons.append("lav_vurdering")
    return reasons


def _groups(rows) -> List[Dict]:
    """Newest first; a message joins the first group whose key it nearly shares."""
    groups: List[Dict] = []
    for row, vurdering in rows:
        for group in groups:
            if learning.similar(group["noegle"], row.gruppe):
                group["beskeder"].append(row)
                group["grunde"].update(_grunde(row, vurdering))
                break
        else:
            groups.append({"noegle": row.gruppe, "beskeder": [row], "grunde": set(_grunde(row, vurdering))})
    return groups


@bp.get("/")
@kraever("hr", "admin")
def indbakke():
    status = request.args.get("status", "ny")
    status = status if status in STATUS else "ny"
    query = _lent().where(LaeringsBesked.status == status)
    if status == "ny":
        query = query.where(or_(LaeringsBesked.grunde != "", Samtale.vurdering.in_((1, 2))))
    rows = db().execute(query.order_by(LaeringsBesked.tidspunkt.desc(), LaeringsBesked.id.desc())
                        .limit(HOEJST)).all()
    groups = _groups(rows)
    try:
        side = max(1, int(request.args.get("side", "1")))
    except ValueError:
        side = 1
    sider = max(1, math.ceil(len(groups) / PR_SIDE))
    side = min(side, sider)
    return render_template("hr_indbakke.html", grupper=groups[(side - 1) * PR_SIDE: side * PR_SIDE],
                           antal=len(groups), side=side, sider=sider, status=status, STATUS=STATUS,
                           GRUNDE=learning.REASONS, hoert=_hoert)


def _hoert(row: LaeringsBesked) -> Dict:
    try:
        return json.loads(row.hoert or "{}")
    except ValueError:
        return {}


def _besked(besked_id: int) -> LaeringsBesked:
    found = db().execute(_lent().where(LaeringsBesked.id == besked_id)).first()
    if found is None:
        abort(404)
    return found[0]


def _gruppe(row: LaeringsBesked) -> List[LaeringsBesked]:
    same = db().execute(_lent().where(LaeringsBesked.status == row.status)
                        .order_by(LaeringsBesked.tidspunkt.desc()).limit(HOEJST)).all()
    return [r for r, _ in same if r.id == row.id or learning.similar(row.gruppe, r.gruppe)]


@bp.get("/beskeder/<int:besked_id>")
@kraever("hr", "admin")
def besked(besked_id: int):
    row = _besked(besked_id)
    revision("hr_besked_vist", detaljer=f"besked {row.id}")
    label = training.labels_of(row) or {}
    return render_template("hr_besked.html", b=row, gruppe=_gruppe(row), hoert=_hoert(row),
                           intents=training.intents(project() / "data"), label=label,
                           GRUNDE=learning.REASONS, kvadranter=visning.valg("kvadrant"),
                           etikker=visning.valg("etik"), borgersyn=visning.valg("borgersyn"), STATUS=STATUS)


@bp.post("/beskeder/<int:besked_id>")
@kraever("hr", "admin")
def maerk(besked_id: int):
    row = _besked(besked_id)
    handling = request.form.get("handling")
    if handling not in ("maerk", "afvis", "fortryd"):
        abort(400)
    known = {slags: {v for v, _ in visning.valg(slags)} for slags in ("kvadrant", "etik", "borgersyn")}
    intent = (request.form.get("intent") or "").strip()
    if handling == "maerk" and intent not in training.intents(project() / "data"):
        flash("Vælg den hensigt, beskeden har.", "fejl")
        return redirect(url_for("hr.besked", besked_id=row.id))
    hensyn = None
    if handling == "maerk" and (request.form.get("dilemma") or intent == training.DILEMMA_INTENT):
        hensyn = {"kvadranter": sorted(set(request.form.getlist("kvadranter")) & known["kvadrant"]),
                  "etikker": sorted(set(request.form.getlist("etikker")) & known["etik"]),
                  "borgersyn": sorted(set(request.form.getlist("borgersyn")) & known["borgersyn"])}
    targets = _gruppe(row) if request.form.get("hele_gruppen") else [row]
    now = datetime.utcnow()
    for target in targets:
        target.status = {"maerk": "maerket", "afvis": "afvist", "fortryd": "ny"}[handling]
        target.maerke_intent = intent if handling == "maerk" else None
        target.maerke_hensyn = json.dumps(hensyn, ensure_ascii=False) if hensyn is not None else None
        target.maerket_af = g.bruger.brugernavn if handling != "fortryd" else None
        target.maerket_tid = now if handling != "fortryd" else None
    db().commit()
    revision(f"hr_{handling}", detaljer=json.dumps({"beskeder": [t.id for t in targets], "intent": intent or None,
                                                    "hensyn": hensyn}, ensure_ascii=False))
    flash({"maerk": f"Mærket: {len(targets)} besked(er).", "afvis": f"Afvist: {len(targets)} besked(er).",
           "fortryd": "Mærkningen er fjernet."}[handling])
    return redirect(url_for("hr.indbakke"))
