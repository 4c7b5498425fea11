"""HR's model page: train a candidate in the background, see it beside the running model, deploy or roll back.

The work is review/udrulning.py's; this is the page around it. Every start, deploy and rollback is audited
with who and which figures.
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from review import udrulning
from review.auth import kraever
from review.web import revision, settings
from review.web.hr import project

bp = Blueprint("hr_model", __name__, url_prefix="/hr/model")

NAVNE = {
    "intent_macro_f1": "Hensigter: macro F1 (udeholdte eksempler)",
    "intent_accuracy": "Hensigter: træfsikkerhed",
    "kvadrant_cv_f1": "Hensyn: F1 (krydsvalideret)",
    "borgersyn_cv_f1": "Borgersyn: F1 (krydsvalideret)",
    "linse_cv_f1": "Oversættelse og fremtid: F1",
    "t_ledelse_cv_accuracy": "T-ledelse: træfsikkerhed",
    "hr_intent_accuracy": "HR's mærkede beskeder: hensigt rigtig",
    "hr_kvadrant_f1": "HR's mærkede dilemmaer: hensyn F1",
}


def _state():
    return settings().state_dir


@bp.get("/", endpoint="oversigt")
@kraever("hr", "admin")
def oversigt():
    state = _state()
    running = udrulning.running(state)
    return render_template("hr_model.html", koerer=running, kandidater=udrulning.candidates(state)[:10],
                           historik=list(reversed(udrulning.history(state)))[:20],
                           tilbage=udrulning.rollback_targets(state), travl=udrulning.busy(state), NAVNE=NAVNE,
                           api=bool(settings().api_secret))


@bp.post("/kandidat")
@kraever("hr", "admin")
def start():
    try:
        kid = udrulning.start(_state(), project(), g.bruger.brugernavn, settings().child_env())
    except udrulning.Afvist as error:
        flash(str(error), "fejl")
        return redirect(url_for("hr_model.oversigt"))
    revision("kandidat_startet", detaljer=kid)
    return redirect(url_for("hr_model.kandidat", kid=kid))


def _known(kid: str) -> str:
    try:
        here = udrulning.candidate_dir(_state(), kid)
    except udrulning.Afvist:
        abort(404)
    if not here.is_dir():
        abort(404)
    return kid


@bp.get("/kandidat/<kid>")
@kraever("hr", "admin")
def kandidat(kid: str):
    kid = _known(kid)
    state = _state()
    status = udrulning.status(state, kid)
    report = udrulning._read_json(udrulning.candidate_dir(state, kid) / "rapport.json", None)
    return render_template("hr_kandidat.html", kid=kid, status=status, r=report, NAVNE=NAVNE,
                           koerer=udrulning.running(state), api=bool(settings().api_secret))


@bp.post("/kandidat/<kid>/udrul")
@kraever("hr", "admin")
def udrul(kid: str):
    kid = _known(kid)
    s = settings()
    try:
        entry = udrulning.deploy(s.state_dir, kid, s.rasa_urls, s.api_secret, g.bruger.brugernavn)
    except udrulning.Afvist as error:
        revision("udrulning_afvist", detaljer=json.dumps({"kandidat": kid, "grund": str(error)}, ensure_ascii=False))
        flash(str(error), "fejl")
        return redirect(url_for("hr_model.kandidat", kid=kid))
    revision("udrulning", detaljer=json.dumps({"artefakt": kid, "foer": entry["foer"], "tal": entry["tal"]},
                                              ensure_ascii=False))
    flash(f"Kandidat {kid} er udrullet; coachen bruger den nu.")
    return redirect(url_for("hr_model.oversigt"))


@bp.post("/tilbage")
@kraever("hr", "admin")
def tilbage():
    s = settings()
    artefakt = (request.form.get("artefakt") or "").strip()[:64]
    try:
        entry = udrulning.rollback(s.state_dir, artefakt, s.rasa_urls, s.api_secret, g.bruger.brugernavn)
    except udrulning.Afvist as error:
        flash(str(error), "fejl")
        return redirect(url_for("hr_model.oversigt"))
    revision("tilbagerulning", detaljer=json.dumps({"artefakt": artefakt, "foer": entry["foer"], "tal": entry["tal"]},
                                                   ensure_ascii=False))
    flash(f"Rullet tilbage til {artefakt}; coachen bruger den nu.")
    return redirect(url_for("hr_model.oversigt"))
