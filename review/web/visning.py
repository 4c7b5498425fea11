"""How things are shown: Danish labels from the balance model (bot/knowledge.yml), dates in Danish time, and
the template filters and globals that use them.

Times in the database are naive UTC (as `datetime.utcnow()` writes them); coaches see Europe/Copenhagen.
Date filters are Danish calendar days, turned into UTC bounds here.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.knowledge import BalanceModel, default_model

TZ = ZoneInfo("Europe/Copenhagen")

KANALER = {"web": "Web", "teams": "Teams"}
DELING = {"nej": "Ikke delt", "anonym": "Delt anonymt", "navngivet": "Delt med navn"}
TRIN = {  # the conversation's last step (Samtale.sidste_trin, bot/facts.py), in the order a conversation passes
    "start": "Start (intet dilemma endnu)",
    "dilemma": "Dilemma beskrevet",
    "kortlaegning": "Kortlægning",
    "svar_negligeret": "Det oversete hensyn",
    "svar_balance": "Balancen",
    "svar_oversaettelse": "Linse: {oversaettelse}",
    "svar_t_ledelse": "Linse: {t_ledelse}",
    "svar_borgersyn": "Linse: {borgersyn}",
    "svar_fremtid": "Linse: {fremtid}",
    "svar_etik": "Linse: {etik}",
    "naeste_skridt": "Næste skridt",
    "opsummering": "Opsummering nået",
}
SLAGS = {"kvadrant": "Hensyn hørt", "overset": "Overset hensyn", "etik": "Etik", "borgersyn": "Borgersyn",
         "rolle": "Rolle", "linse": "Linse"}
_LINSER_UDEN_NAVN = {"t_ledelse": "T-ledelse", "etik": "Etikkerne", "borgersyn": "Borgersyn"}
"""Lenses the coach asks about that the knowledge file has no single name for (it names their parts)."""

MAANEDER = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
            "november", "december")


@lru_cache(maxsize=1)
def model() -> BalanceModel:
    return default_model()


def navn(slags: str, ident: Optional[str]) -> str:
    """The Danish name of a quadrant, ethic, citizen view, role or lens id; the id itself if unknown."""
    if not ident:
        return ""
    ident = str(ident)
    m = model()
    if slags == "linse":
        kort = ident[5:] if ident.startswith("svar_") else ident
        if kort in ("borgere", "borgersyn"):
            return m.borgere.navn
        try:
            return m.name(kort)
        except KeyError:
            return _LINSER_UDEN_NAVN.get(kort, kort.replace("_", " ").capitalize())
    try:
        return m.name(ident)
    except KeyError:
        return ident


def valg(slags: str) -> List[Tuple[str, str]]:
    """(id, name) pairs for a filter's options, in the knowledge file's order."""
    m = model()
    table = {"kvadrant": m.kvadranter, "overset": m.kvadranter, "etik": m.etikker, "borgersyn": m.borgersyn,
             "rolle": m.roller}[slags]
    return [(ident, entry.navn) for ident, entry in table.items()]


def trin_navn(trin: Optional[str]) -> str:
    label = TRIN.get(trin or "")
    if label is None:
        return trin or ""
    return label.format(**{k: navn("linse", k) for k in ("oversaettelse", "t_ledelse", "borgersyn", "fremtid",
                                                          "etik")})


def lokal(value: Optional[datetime]) -> Optional[datetime]:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(TZ)


def fra_tidsstempel(seconds: Optional[float]) -> Optional[datetime]:
    if seconds is None:
        return None
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc).astimezone(TZ)


def dag_graense(dag: date) -> datetime:
    """Midnight of a Danish calendar day, as naive UTC (what the database stores)."""
    return datetime.combine(dag, time(0, 0), tzinfo=TZ).astimezone(timezone.utc).replace(tzinfo=None)


def periode(fra: Optional[date], til: Optional[date]) -> Tuple[Optional[datetime], Optional[datetime]]:
    """UTC bounds [start, end) of the Danish days fra..til (both included)."""
    return (dag_graense(fra) if fra else None, dag_graense(til + timedelta(days=1)) if til else None)


def laes_dato(raw: Optional[str]) -> Optional[date]:
    try:
        return date.fromisoformat((raw or "").strip()) if raw and raw.strip() else None
    except ValueError:
        return None


def dato(value) -> str:
    value = lokal(value) if isinstance(value, datetime) else value
    if value is None:
        return ""
    return f"{value.day}. {MAANEDER[value.month - 1]} {value.year}"


def dato_tid(value) -> str:
    value = lokal(value) if isinstance(value, datetime) else value
    if value is None:
        return ""
    return f"{dato(value)} kl. {value:%H.%M}"


def klokken(value) -> str:
    value = lokal(value) if isinstance(value, datetime) else value
    return "" if value is None else f"{value:%H.%M}"


def tidsstempel(value) -> str:
    value = lokal(value) if isinstance(value, datetime) else value
    return "" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def tidsstempel_sek(seconds: Optional[float]) -> str:
    """A Unix time (the model page's history) as a Danish local time."""
    return tidsstempel(fra_tidsstempel(seconds)) if seconds else ""


def procent(value: Optional[float]) -> str:
    return "" if value is None else f"{round(float(value) * 100):d} %"


def register(app) -> None:
    app.jinja_env.filters.update(dato=dato, dato_tid=dato_tid, klokken=klokken, procent=procent, tidsstempel=tidsstempel,
                                 tidsstempel_sek=tidsstempel_sek, trin_navn=trin_navn)
    app.jinja_env.globals.update(navn=navn, KANALER=KANALER, DELING=DELING, SLAGS=SLAGS)


def labels_for(slags: str, idents) -> Dict[str, str]:
    return {ident: navn(slags, ident) for ident in idents}
