"""Shared conversations: the filtered list, the transcript with notes and tags, and the printable export.

Only conversations with `deling` other than "nej" exist here: any other id answers 404, the same as an id
that does not exist, and the check runs on every request (withdrawn consent hides a conversation at once).
Every transcript view and export writes an audit row.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import and_, exists, func, select

from review.auth import kraever
from review.models import Maerke, Note, Samtale, SamtaleHensyn, SamtaleMaerke
from review.web import db, revision, transkript, visning

bp = Blueprint("samtaler", __name__)

PR_SIDE = 50
ID = re.compile(r"^[0-9a-f]{32}$")
MAX_NOTE = 5000
MAX_MAERKE = 64
MAX_SOEG = 200


@dataclass
class Filtre:
    fra: Optional[object] = None
    til: Optional[object] = None
    kvadrant: str = ""
    overset: str = ""
    etik: str = ""
    borgersyn: str = ""
    kanal: str = ""
    vurdering: str = ""
    q: str = ""
    maerke: str = ""

    @classmethod
    def fra_request(cls, args) -> "Filtre":
        def known(name: str, slags: str) -> str:
            value = (args.get(name) or "").strip()
            return value if value in dict(visning.valg(slags)) else ""

        vurdering = (args.get("vurdering") or "").strip()
        kanal = (args.get("kanal") or "").strip()
        return cls(
            fra=visning.laes_dato(args.get("fra")), til=visning.laes_dato(args.get("til")),
            kvadrant=known("kvadrant", "kvadrant"), overset=known("overset", "overset"),
            etik=known("etik", "etik"), borgersyn=known("borgersyn", "borgersyn"),
            kanal=kanal if kanal in visning.KANALER else "",
            vurdering=vurdering if vurdering in ("1", "2", "3", "4", "5", "ingen") else "",
            q=" ".join((args.get("q") or "").split())[:MAX_SOEG],
            maerke=(args.get("maerke") or "").strip()[:MAX_MAERKE],
        )

    def args(self) -> Dict[str, str]:
        """The active filters as query parameters (for paging links)."""
        values = {"fra": self.fra.isoformat() if self.fra else "", "til": self.til.isoformat() if self.til else "",
                  "kvadrant": self.kvadrant, "overset": self.overset, "etik": self.etik,
                  "borgersyn": self.borgersyn, "kanal": self.kanal, "vurdering": self.vurdering, "q": self.q,
                  "maerke": self.maerke}
        return {k: v for k, v in values.items() if v}


def like_moenster(tekst: str) -> str:
    """A LIKE pattern matching `tekst` anywhere, its own % _ and \\ taken literally."""
    escaped = tekst.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _har(slags: str, navn: str):
    return exists().where(and_(SamtaleHensyn.samtale_id == Samtale.id, SamtaleHensyn.slags == slags,
                               SamtaleHensyn.navn == navn))


def betingelser(f: Filtre, dialect: str) -> list:
    """WHERE clauses for the shared conversations matching the filters."""
    where = [Samtale.deling != "nej"]
    start, slut = visning.periode(f.fra, f.til)
    if start is not None:
        where.append(Samtale.startet >= start)
    if slut is not None:
        where.append(Samtale.startet < slut)
    for slags, value in (("kvadrant", f.kvadrant), ("overset", f.overset), ("etik", f.etik),
                         ("borgersyn", f.borgersyn)):
        if value:
            where.append(_har(slags, value))
    if f.kanal:
        where.append(Samtale.kanal == f.kanal)
    if f.vurdering == "ingen":
        where.append(Samtale.vurdering.is_(None))
    elif f.vurdering:
        where.append(Samtale.vurdering == int(f.vurdering))
    if f.q:
        pattern = like_moenster(f.q)
        if dialect == "sqlite":
            where.append(func.bc_fold(Samtale.tekst).like(pattern.casefold(), escape="\\"))
        else:
            where.append(Samtale.tekst.ilike(pattern, escape="\\"))
    if f.maerke:
        where.append(exists().where(and_(SamtaleMaerke.samtale_id == Samtale.id,
                                         SamtaleMaerke.maerke_id == Maerke.id, Maerke.navn == f.maerke)))
    return where


def side_af(session, f: Filtre, side: int):
    """(rows for page `side`, total count, number of pages); hensyn and tags for the page load in one query
    each (selectin), never per row."""
    dialect = session.get_bind().dialect.name
    where = betingelser(f, dialect)
    total = session.execute(select(func.count()).select_from(Samtale).where(*where)).scalar_one()
    sider = max(1, math.ceil(total / PR_SIDE))
    side = min(max(1, side), sider)
    rows = session.execute(
        select(Samtale).where(*where).order_by(Samtale.startet.desc(), Samtale.id.desc())
        .limit(PR_SIDE).offset((side - 1) * PR_SIDE)
    ).scalars().all()
    return rows, total, sider, side


def hensyn_af(samtale: Samtale) -> Dict[str, List[str]]:
    grouped: Dict[str, List[str]] = {}
    for h in sorted(samtale.hensyn, key=lambda h: (h.slags, h.navn)):
        grouped.setdefault(h.slags, []).append(h.navn)
    return grouped


def delt_samtale(samtale_id: str) -> Samtale:
    """The conversation if it exists and is shared right now; 404 otherwise (unshared looks like missing)."""
    if not ID.match(samtale_id or ""):
        abort(404)
    samtale = db().execute(select(Samtale).where(Samtale.id == samtale_id, Samtale.deling != "nej")).scalar_one_or_none()
    if samtale is None:
        abort(404)
    return samtale


@bp.get("/samtaler")
@kraever("coach", "admin")
def liste():
    f = Filtre.fra_request(request.args)
    try:
        side = int(request.args.get("side", "1"))
    except ValueError:
        side = 1
    rows, total, sider, side = side_af(db(), f, side)
    maerker = db().execute(select(Maerke.navn).order_by(Maerke.navn)).scalars().all()
    return render_template(
        "samtaler.html", rows=rows, total=total, side=side, sider=sider, f=f, filtre=f.args(),
        hensyn={s.id: hensyn_af(s) for s in rows}, valg=visning.valg, maerker=maerker,
    )


def _visning(samtale: Samtale, inline: bool = False):
    """The conversation and its pictures. On screen each picture is its own request
    (`billede`), so the page answers without waiting for drawings; the print export carries them inline."""
    forloeb = transkript.hent(db().connection(), samtale.sender_id, samtale.session_start)

    def picture(value, nr: int):
        if inline:
            return transkript.tegning(value)
        return {"src": url_for("samtaler.billede", samtale_id=samtale.id, nr=nr),
                "alt": transkript.beskrivelse(value)}

    billeder, slut = {}, None
    if forloeb is not None:
        for tur in forloeb.ture:
            if tur.billede is not None:
                billeder[tur.billede_nr] = picture(tur.billede, tur.billede_nr)
        slut = picture(forloeb.slut_billede, 0) if forloeb.slut_billede else None
    return forloeb, billeder, slut


@bp.get("/samtaler/<samtale_id>/billede/<int:nr>.svg")
@kraever("coach", "admin")
def billede(samtale_id: str, nr: int):
    """Version `nr` of a shared conversation's balance picture (0: the final one), as SVG."""
    s = delt_samtale(samtale_id)
    forloeb = transkript.hent(db().connection(), s.sender_id, s.session_start)
    if forloeb is None:
        abort(404)
    value = forloeb.slut_billede if nr == 0 else next(
        (t.billede for t in forloeb.ture if t.billede is not None and t.billede_nr == nr), None)
    if value is None:
        abort(404)
    return Response(transkript.svg(value), mimetype="image/svg+xml")


@bp.get("/samtaler/<samtale_id>")
@kraever("coach", "admin")
def samtale(samtale_id: str):
    s = delt_samtale(samtale_id)
    revision("vis_samtale", samtale_id=s.id)
    forloeb, billeder, slut = _visning(s)
    alle_maerker = db().execute(select(Maerke.navn).order_by(Maerke.navn)).scalars().all()
    return render_template("samtale.html", s=s, forloeb=forloeb, billeder=billeder, slut=slut,
                           hensyn=hensyn_af(s), alle_maerker=alle_maerker, noter=s.noter)


@bp.get("/samtaler/<samtale_id>/eksport")
@kraever("coach", "admin")
def eksport(samtale_id: str):
    s = delt_samtale(samtale_id)
    med_noter = request.args.get("noter") == "1"
    revision("eksport", samtale_id=s.id, detaljer="med noter" if med_noter else None)
    forloeb, billeder, slut = _visning(s, inline=True)
    return render_template("eksport.html", s=s, forloeb=forloeb, billeder=billeder, slut=slut,
                           hensyn=hensyn_af(s), noter=s.noter if med_noter else None, udskrevet=datetime.utcnow())


@bp.post("/samtaler/<samtale_id>/noter")
@kraever("coach", "admin")
def ny_note(samtale_id: str):
    s = delt_samtale(samtale_id)
    tekst = (request.form.get("tekst") or "").strip()
    if not tekst:
        flash("Noten er tom.", "fejl")
    elif len(tekst) > MAX_NOTE:
        flash(f"Noten er for lang (højst {MAX_NOTE} tegn).", "fejl")
    else:
        db().add(Note(samtale_id=s.id, bruger_id=g.bruger.id, tekst=tekst, oprettet=datetime.utcnow()))
        db().commit()
        revision("note", samtale_id=s.id)
        flash("Noten er gemt.")
    return redirect(url_for("samtaler.samtale", samtale_id=s.id) + "#noter")


@bp.post("/samtaler/<samtale_id>/maerker")
@kraever("coach", "admin")
def nyt_maerke(samtale_id: str):
    s = delt_samtale(samtale_id)
    navn = " ".join((request.form.get("navn") or "").split())
    if not navn or len(navn) > MAX_MAERKE:
        flash(f"Et mærke skal have 1 til {MAX_MAERKE} tegn.", "fejl")
        return redirect(url_for("samtaler.samtale", samtale_id=s.id) + "#maerker")
    maerke = db().execute(select(Maerke).where(Maerke.navn == navn)).scalar_one_or_none()
    if maerke is None:
        maerke = Maerke(navn=navn)
        db().add(maerke)
        db().flush()
    if maerke not in s.maerker:
        s.maerker.append(maerke)
    db().commit()
    revision("maerke_tilfoejet", samtale_id=s.id, detaljer=navn)
    return redirect(url_for("samtaler.samtale", samtale_id=s.id) + "#maerker")


@bp.post("/samtaler/<samtale_id>/maerker/<int:maerke_id>/fjern")
@kraever("coach", "admin")
def fjern_maerke(samtale_id: str, maerke_id: int):
    s = delt_samtale(samtale_id)
    maerke = next((m for m in s.maerker if m.id == maerke_id), None)
    if maerke is not None:
        s.maerker.remove(maerke)
        db().commit()
        revision("maerke_fjernet", samtale_id=s.id, detaljer=maerke.navn)
    return redirect(url_for("samtaler.samtale", samtale_id=s.id) + "#maerker")
