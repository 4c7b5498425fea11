"""Organisation-wide figures: how leaders use the coach over a period, as counts only.

Every conversation in the period counts, shared or not, because nothing here can point back to a leader:
no text, no pseudonyms, no single conversation. Small groups are suppressed:

* a count from fewer than `MINDST` (5) conversations is None in the data and "<5" on the page and in the CSV
  (zero included: "nobody" is also a statement about a small group);
* where the categories of a figure split the period's conversations between them (summary reached or not,
  last step, rating, channel), one hidden cell could be worked out from the total and the others, so the
  smallest visible cells are hidden as well until the hidden ones together hold at least `MINDST`;
* a period with fewer than `MINDST` conversations shows nothing but a message.

`figures(session, fra, til)` computes them (a handful of GROUP BY queries, fast on 10,000+ conversations);
`svg_bar_chart(title, rows)` draws one as a plain SVG bar chart for a slide; `csv_text(figures)` gives the CSV.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, List, Optional, Sequence, Tuple, Union
from xml.sax.saxutils import escape

from sqlalchemy import case, func, select

from review.models import Samtale, SamtaleHensyn

MINDST = 5
SKJULT = "<5"


@dataclass(frozen=True)
class Tal:
    """One category's count; `antal` is None when it is too small to show."""

    noegle: str
    navn: str
    antal: Optional[int]

    @property
    def vist(self) -> str:
        return SKJULT if self.antal is None else str(self.antal)


@dataclass
class Figures:
    fra: Optional[date]
    til: Optional[date]
    samtaler: Optional[int]  # None: fewer than MINDST in the period, and every list below is empty
    kvadranter: List[Tal] = field(default_factory=list)  # voiced
    oversete: List[Tal] = field(default_factory=list)  # the neglected quadrant
    etikker: List[Tal] = field(default_factory=list)
    borgersyn: List[Tal] = field(default_factory=list)
    linser: List[Tal] = field(default_factory=list)
    opsummering: List[Tal] = field(default_factory=list)  # reached the summary, or not
    trin: List[Tal] = field(default_factory=list)  # where conversations ended (sidste_trin)
    vurderinger: List[Tal] = field(default_factory=list)  # 1..5 and "no rating"
    ruter: List[Tal] = field(default_factory=list)  # strain and crisis routes taken
    kanaler: List[Tal] = field(default_factory=list)

    @property
    def for_faa(self) -> bool:
        return self.samtaler is None

    def afsnit(self) -> List[Tuple[str, str, List[Tal]]]:
        """(key, Danish title, rows) for each figure, in page order."""
        return [
            ("kvadranter", "Hensyn lederne nævner", self.kvadranter),
            ("oversete", "Hensyn der blev overset", self.oversete),
            ("etikker", "Etikker", self.etikker),
            ("borgersyn", "Borgersyn", self.borgersyn),
            ("linser", "Linser coachen brugte", self.linser),
            ("opsummering", "Nåede opsummeringen", self.opsummering),
            ("trin", "Hvor samtalerne sluttede", self.trin),
            ("vurderinger", "Ledernes vurdering", self.vurderinger),
            ("ruter", "Belastning og krise", self.ruter),
            ("kanaler", "Kanal", self.kanaler),
        ]


def undertryk(antal: Optional[int]) -> Optional[int]:
    """A count as it may be shown: None when it comes from fewer than MINDST conversations."""
    return antal if antal is not None and antal >= MINDST else None


def _enkelt(rows: Iterable[Tuple[str, str, int]]) -> List[Tal]:
    return [Tal(k, n, undertryk(a)) for k, n, a in rows]


def _fordeling(rows: Sequence[Tuple[str, str, int]]) -> List[Tal]:
    """Categories that split the total between them: primary suppression, then hide the smallest visible
    cells until the hidden ones hold at least MINDST conversations (or nothing is left to hide), so no hidden
    cell can be found by subtracting the visible ones from the total."""
    hidden = {k for k, _n, a in rows if a < MINDST}
    if hidden:
        visible = sorted((a, k) for k, _n, a in rows if k not in hidden)
        while sum(a for k, _n, a in rows if k in hidden) < MINDST and visible:
            hidden.add(visible.pop(0)[1])
    return [Tal(k, n, None if k in hidden else a) for k, n, a in rows]


def _bounds(fra, til):
    from review.web.visning import periode

    if isinstance(fra, datetime) or isinstance(til, datetime):
        return fra, til
    return periode(fra, til)


def figures(session, fra: Optional[Union[date, datetime]], til: Optional[Union[date, datetime]]) -> Figures:
    """The figures for conversations started from `fra` to `til`: dates are Danish calendar days, both
    included (datetimes are taken as naive-UTC bounds [fra, til)); None leaves that end open."""
    from review.web import visning

    start, slut = _bounds(fra, til)
    where = []
    if start is not None:
        where.append(Samtale.startet >= start)
    if slut is not None:
        where.append(Samtale.startet < slut)

    (total, naaet, belastning, krise) = session.execute(
        select(func.count(), func.sum(case((Samtale.opsummering.is_(True), 1), else_=0)),
               func.sum(case((Samtale.belastning.is_(True), 1), else_=0)),
               func.sum(case((Samtale.krise.is_(True), 1), else_=0)))
        .select_from(Samtale).where(*where)
    ).one()
    total = int(total or 0)
    result = Figures(fra=fra if isinstance(fra, date) else None, til=til if isinstance(til, date) else None,
                     samtaler=undertryk(total))
    if result.for_faa:
        return result

    hensyn = {}
    for slags, navn, antal in session.execute(
            select(SamtaleHensyn.slags, SamtaleHensyn.navn, func.count())
            .join(Samtale, Samtale.id == SamtaleHensyn.samtale_id).where(*where)
            .group_by(SamtaleHensyn.slags, SamtaleHensyn.navn)):
        hensyn.setdefault(slags, {})[navn] = int(antal)

    def known_then_rest(slags: str, valg_slags: Optional[str]) -> List[Tuple[str, str, int]]:
        counts = hensyn.get(slags, {})
        known = visning.valg(valg_slags) if valg_slags else []
        rows = [(k, n, counts.get(k, 0)) for k, n in known]
        rows += [(k, visning.navn(slags, k), a) for k, a in sorted(counts.items()) if k not in dict(known)]
        return rows

    result.kvadranter = _enkelt(known_then_rest("kvadrant", "kvadrant"))
    result.oversete = _enkelt(known_then_rest("overset", "overset"))
    result.etikker = _enkelt(known_then_rest("etik", "etik"))
    result.borgersyn = _enkelt(known_then_rest("borgersyn", "borgersyn"))
    result.linser = _enkelt(sorted(known_then_rest("linse", None), key=lambda r: (-r[2], r[1])))
    naaet = int(naaet or 0)
    result.opsummering = _fordeling([("ja", "Nåede opsummeringen", naaet),
                                     ("nej", "Sluttede før opsummeringen", total - naaet)])

    trin = dict(session.execute(select(Samtale.sidste_trin, func.count()).where(*where)
                                .group_by(Samtale.sidste_trin)).all())
    trin_rows = [(k, visning.trin_navn(k), int(trin.get(k, 0))) for k in visning.TRIN]
    trin_rows += [(k, visning.trin_navn(k), int(a)) for k, a in sorted(trin.items(), key=lambda kv: str(kv[0]))
                  if k not in visning.TRIN]
    result.trin = _fordeling(trin_rows)

    ratings = dict(session.execute(select(Samtale.vurdering, func.count()).where(*where)
                                   .group_by(Samtale.vurdering)).all())
    result.vurderinger = _fordeling(
        [(str(v), f"{v} af 5", int(ratings.get(v, 0))) for v in range(1, 6)]
        + [("ingen", "Ingen vurdering", int(sum(a for k, a in ratings.items() if k not in range(1, 6))))])
    result.ruter = _enkelt([("belastning", "Belastningsspor", int(belastning or 0)),
                            ("krise", "Krisespor", int(krise or 0))])
    kanaler = dict(session.execute(select(Samtale.kanal, func.count()).where(*where)
                                   .group_by(Samtale.kanal)).all())
    result.kanaler = _fordeling([(k, visning.KANALER.get(k, k), int(kanaler.get(k, 0)))
                                 for k in list(visning.KANALER) + sorted(set(kanaler) - set(visning.KANALER))])
    return result


# --- Output --------------------------------------------------------------------------------------------------

_FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"
_BAR = "#1d5a85"
_INK = "#1f1f1f"
_MUTED = "#595959"


def svg_bar_chart(title: str, rows: Sequence[Union[Tal, Tuple[str, Optional[int]]]], *, ident: str = "diagram",
                  note: Optional[str] = None, vis_titel: bool = True) -> str:
    """A horizontal bar chart as standalone SVG (no script, no style: presentation attributes only), sized for
    a 16:9 slide. `rows` are Tal or (label, count or None); None is drawn as "<5" without a bar. The title is
    drawn unless `vis_titel` is False (a page with its own heading); it is always the SVG's <title>."""
    items = [(r.navn, r.antal) if isinstance(r, Tal) else (str(r[0]), r[1]) for r in rows]
    width, label_w, top, row_h = 960, 330, 74 if vis_titel else 16, 46
    bar_max = width - label_w - 110
    biggest = max([a for _l, a in items if a is not None] or [1]) or 1
    height = top + row_h * max(1, len(items)) + (44 if note else 18)
    ident = "".join(c if c.isalnum() or c in "-_" else "-" for c in ident) or "diagram"
    desc = "; ".join(f"{label}: {SKJULT if a is None else a}" for label, a in items)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{ident}-titel {ident}-desc" font-family="{_FONT}">',
        f'<title id="{ident}-titel">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    if vis_titel:
        out.append(f'<text x="24" y="44" font-size="28" font-weight="bold" fill="{_INK}">{escape(title)}</text>')
    if not items:
        out.append(f'<text x="24" y="{top + 26}" font-size="20" fill="{_MUTED}">Ingen tal i perioden</text>')
    for i, (label, antal) in enumerate(items):
        y = top + i * row_h
        mid = y + row_h / 2 + 7
        shown = label if len(label) <= 30 else label[:29] + "…"
        out.append(f'<text x="{label_w - 16}" y="{mid:.0f}" font-size="20" text-anchor="end" fill="{_INK}">'
                   f'{escape(shown)}</text>')
        if antal is None:
            out.append(f'<rect x="{label_w}" y="{y + 9}" width="{bar_max}" height="{row_h - 18}" fill="#f2f2f2"/>')
            out.append(f'<text x="{label_w + 12}" y="{mid:.0f}" font-size="18" fill="{_MUTED}">'
                       f'{escape(SKJULT)} (for få til at vise)</text>')
            continue
        w = 0 if antal == 0 else max(3, round(bar_max * antal / biggest))
        out.append(f'<rect x="{label_w}" y="{y + 9}" width="{w}" height="{row_h - 18}" fill="{_BAR}"/>')
        out.append(f'<text x="{label_w + w + 10}" y="{mid:.0f}" font-size="20" font-weight="bold" fill="{_INK}">'
                   f'{antal}</text>')
    if note:
        out.append(f'<text x="24" y="{height - 16}" font-size="16" fill="{_MUTED}">{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def csv_text(f: Figures) -> str:
    """The figures as CSV (semicolon-separated, as Danish Excel expects): afsnit;kategori;antal. Hidden counts
    are "<5"; a period with too few conversations gives only the period and "<5"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["afsnit", "kategori", "antal"])
    writer.writerow(["periode", "fra", f.fra.isoformat() if f.fra else ""])
    writer.writerow(["periode", "til", f.til.isoformat() if f.til else ""])
    writer.writerow(["samtaler", "i alt", SKJULT if f.samtaler is None else f.samtaler])
    for _key, title, rows in f.afsnit():
        for row in rows:
            writer.writerow([title, row.navn, row.vist])
    return buffer.getvalue()
