"""Admin pages: the audit log (who viewed, exported, noted, logged in; newest first), the leaders' consent
decisions as the bot recorded them, and the user list."""
from __future__ import annotations

import math

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from review.auth import ROLLE_NAVN, kraever
from review.models import Bruger, Revision, Samtykke
from review.web import db

bp = Blueprint("admin", __name__)

PR_SIDE = 50


def _side(name: str) -> int:
    try:
        return max(1, int(request.args.get(name, "1")))
    except ValueError:
        return 1


def _paged(model, order, side: int, where=()):
    total = db().execute(select(func.count()).select_from(model).where(*where)).scalar_one()
    sider = max(1, math.ceil(total / PR_SIDE))
    side = min(side, sider)
    rows = db().execute(select(model).where(*where).order_by(*order).limit(PR_SIDE)
                        .offset((side - 1) * PR_SIDE)).scalars().all()
    return rows, total, side, sider


@bp.get("/revision", endpoint="revision")
@kraever("admin")
def revision_():
    handling = (request.args.get("handling") or "").strip()[:32]
    where = [Revision.handling == handling] if handling else []
    rows, total, side, sider = _paged(Revision, (Revision.tidspunkt.desc(), Revision.id.desc()), _side("side"), where)
    samtykker, s_total, s_side, s_sider = _paged(Samtykke, (Samtykke.tidspunkt.desc(), Samtykke.id.desc()),
                                                 _side("samtykke_side"))
    handlinger = db().execute(select(Revision.handling).distinct().order_by(Revision.handling)).scalars().all()
    return render_template("revision.html", rows=rows, total=total, side=side, sider=sider, handling=handling,
                           handlinger=handlinger, samtykker=samtykker, s_total=s_total, s_side=s_side,
                           s_sider=s_sider)



@bp.get("/brugere")
@kraever("admin")
def brugere():
    rows = db().execute(select(Bruger).order_by(Bruger.rolle, Bruger.brugernavn)).scalars().all()
    return render_template("brugere.html", rows=rows, ROLLE_NAVN=ROLLE_NAVN)
