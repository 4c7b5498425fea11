"""The organisation view: counts over a period across all conversations (shared or not), never text or
pseudonyms, with small groups suppressed (review/organisation.py). Coaches, HR and admins see it."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request
from markupsafe import Markup

from review import organisation
from review.auth import kraever
from review.web import db, visning

bp = Blueprint("org", __name__)

STANDARD_DAGE = 90


def _periode():
    today = date.today()
    fra = visning.laes_dato(request.args.get("fra"))
    til = visning.laes_dato(request.args.get("til"))
    if til is None:
        til = today
    if fra is None:
        fra = til - timedelta(days=STANDARD_DAGE - 1)
    if fra > til:
        fra, til = til, fra
    return fra, til


def _note(figures) -> str:
    return (f"{figures.samtaler} samtaler, {visning.dato(figures.fra)} – {visning.dato(figures.til)}. "
            f"Tal under {organisation.MINDST} vises som {organisation.SKJULT}.")


@bp.get("/organisation", endpoint="organisation")
@kraever("coach", "hr", "admin")
def organisation_():
    fra, til = _periode()
    figures = organisation.figures(db(), fra, til)
    diagrammer = []
    if not figures.for_faa:
        for key, title, rows in figures.afsnit():
            if rows:
                svg = organisation.svg_bar_chart(title, rows, ident=key, note=_note(figures), vis_titel=False)
                diagrammer.append({"key": key, "titel": title, "rows": rows, "svg": Markup(svg)})
    return render_template("organisation.html", figures=figures, diagrammer=diagrammer, fra=fra, til=til,
                           mindst=organisation.MINDST)



@bp.get("/organisation.csv")
@kraever("coach", "hr", "admin")
def organisation_csv():
    fra, til = _periode()
    figures = organisation.figures(db(), fra, til)
    return Response("\ufeff" + organisation.csv_text(figures), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="balancecoach-{fra}-{til}.csv"'})


@bp.get("/organisation/<key>.svg")
@kraever("coach", "hr", "admin")
def diagram(key: str):
    fra, til = _periode()
    figures = organisation.figures(db(), fra, til)
    if figures.for_faa:
        abort(404)
    for k, title, rows in figures.afsnit():
        if k == key and rows:
            svg = organisation.svg_bar_chart(title, rows, ident=key, note=_note(figures))
            return Response(svg, mimetype="image/svg+xml",
                            headers={"Content-Disposition": f'attachment; filename="{key}-{fra}-{til}.svg"'})
    abort(404)
