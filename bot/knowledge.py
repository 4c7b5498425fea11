"""The balance model as data: loads and validates `bot/knowledge.yml`.

HR edits the YAML without touching Python, so every mistake must surface at load time with the path of
the bad entry (``kvadranter.fornyelse.signaler[3]``) rather than as a wrong analysis later.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import yaml
from pydantic import BaseModel, Extra, Field, ValidationError, root_validator, validator

DEFAULT_PATH = Path(__file__).with_name("knowledge.yml")

QUADRANT_IDS = ("relationer", "stabilitet", "fornyelse", "resultater")
ETHIC_IDS = ("naerhedsetik", "pligtetik", "vitalitetsetik", "konsekvensetik")
ROLE_IDS = ("myndighed", "serviceproducent", "facilitator")
CITIZEN_VIEW_IDS = ("rettighedsbaerer", "saarbart_medmenneske", "bruger_kunde", "aktiv_medskaber")
AXIS_IDS = ("ind", "ud", "udvikling", "drift")
QUADRANT_NAME_PATTERNS = {"relationer": r"relation\w*", "stabilitet": r"stabilitet\w*", "fornyelse": r"fornyelse\w*",
                          "resultater": r"resultat\w*"}
"""How leaders write a quadrant's name in a correction or a weighting ("relationerne", "resultatet")."""
T_IDS = ("soejle", "tvaers")

_PATTERN_WORD = re.compile(r"^\*?[\w.'\-æøåÆØÅéü]+\*?$|^\*$")


class KnowledgeError(ValueError):
    """The knowledge file is missing, unreadable or invalid; the message names the bad entry."""


class Signal(BaseModel):
    """One signal: a word pattern or a phrase of word patterns, with a weight."""

    ord: str
    vaegt: float = Field(1.0, gt=0, le=5)

    class Config:
        extra = Extra.forbid
        allow_mutation = False

    @validator("ord")
    def _valid_pattern(cls, value: str) -> str:
        value = value.strip().lower()
        if not value:
            raise ValueError("tomt signalord")
        for word in value.split():
            if not _PATTERN_WORD.match(word):
                raise ValueError(f"ugyldigt signalord {value!r} (brug bogstaver og evt. * forrest/bagest)")
        if value.replace("*", "").strip() == "":
            raise ValueError(f"signalordet {value!r} består kun af *")
        return value

    @property
    def words(self) -> Tuple[str, ...]:
        return tuple(self.ord.split())


def _signals(value):
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("signaler skal være en liste")
    return [{"ord": item} if isinstance(item, str) else item for item in value]


class _Entry(BaseModel):
    navn: str = Field(..., min_length=1)
    beskrivelse: str = Field(..., min_length=1)
    signaler: List[Signal] = []
    ikke_signaler: List[Signal] = []  # idioms in which a signal word means something else ("stå på mål")

    class Config:
        extra = Extra.forbid

    _normalise_signals = validator("signaler", "ikke_signaler", pre=True, allow_reuse=True)(_signals)


SHORT_MAX = 40
"""A `kort` label stands in parentheses in the coach's explanations and on a quadrant button, where a long
one would wrap or be cut off."""


def _short_label(cls, value):
    """`kort` and `kendetegn` are spliced into the coach's sentences ("Relationer (trivsel og samarbejde)"), so
    a full stop or a brace (the response format's placeholders) would break the sentence they sit in."""
    if value is None:
        return value
    value = " ".join(str(value).split())
    if not value:
        raise ValueError("tom tekst")
    if value.endswith((".", ",", ";", ":")):
        raise ValueError(f"{value!r} skal stå inde i en sætning: uden punktum eller komma til sidst")
    if "{" in value or "}" in value:
        raise ValueError(f"{value!r}: krøllede parenteser kan ikke bruges her")
    return value


class Axis(BaseModel):
    navn: str
    beskrivelse: str
    kort: Optional[str] = Field(None, max_length=SHORT_MAX)  # "Ind (organisationen)" in the model's overview

    class Config:
        extra = Extra.forbid

    _kort = validator("kort", allow_reuse=True)(_short_label)


class Quadrant(_Entry):
    id: str = ""
    kort: str = Field(..., min_length=1, max_length=SHORT_MAX)  # "trivsel og samarbejde": buttons, explanations
    kendetegn: str = Field(..., min_length=1, max_length=2 * SHORT_MAX)  # the model's overview, a little longer
    akser: Tuple[str, str]
    spoergsmaal: str = Field(..., min_length=1)
    etik: str

    _labels = validator("kort", "kendetegn", allow_reuse=True)(_short_label)

    @validator("akser")
    def _axes(cls, value):
        if set(value) not in ({"ind", "udvikling"}, {"ind", "drift"}, {"ud", "udvikling"}, {"ud", "drift"}):
            raise ValueError("akser skal være én af ind/ud og én af udvikling/drift")
        return value

    @validator("etik")
    def _ethic(cls, value):
        if value not in ETHIC_IDS:
            raise ValueError(f"ukendt etik {value!r}; kendte: {', '.join(ETHIC_IDS)}")
        return value


def _known_quadrant(cls, value):
    if value not in QUADRANT_IDS:
        raise ValueError(f"ukendt kvadrant {value!r}")
    return value


class Ethic(_Entry):
    under: str
    kort: str = Field(..., min_length=1, max_length=SHORT_MAX)  # "omsorg og det konkrete menneske"

    _under = validator("under", allow_reuse=True)(_known_quadrant)
    _kort = validator("kort", allow_reuse=True)(_short_label)


class Role(_Entry):
    pass


class CitizenView(_Entry):
    rolle: str
    under: str

    @validator("rolle")
    def _role(cls, value):
        if value not in ROLE_IDS:
            raise ValueError(f"ukendt rolle {value!r}; kendte: {', '.join(ROLE_IDS)}")
        return value

    _under = validator("under", allow_reuse=True)(_known_quadrant)


class Lens(_Entry):
    pass


def _exactly(ids: Tuple[str, ...], what: str):
    def check(cls, value: Dict):
        missing = [i for i in ids if i not in value]
        extra = [i for i in value if i not in ids]
        if missing or extra:
            raise ValueError(
                f"{what} skal være præcis {', '.join(ids)}"
                + (f"; mangler {', '.join(missing)}" if missing else "")
                + (f"; ukendt {', '.join(extra)}" if extra else "")
            )
        return value

    return check


class BalanceModel(BaseModel):
    """The whole leadership foundation as the analysis and the conversation use it."""

    version: int = 1
    akser: Dict[str, Axis]
    kvadranter: Dict[str, Quadrant]
    etikker: Dict[str, Ethic]
    roller: Dict[str, Role]
    borgersyn: Dict[str, CitizenView]
    t_ledelse: Dict[str, Lens]
    borgere: Lens
    oversaettelse: Lens
    fremtid: Lens

    class Config:
        extra = Extra.forbid

    _akser = validator("akser", allow_reuse=True)(_exactly(AXIS_IDS, "akser"))
    _kvadranter = validator("kvadranter", allow_reuse=True)(_exactly(QUADRANT_IDS, "kvadranter"))
    _etikker = validator("etikker", allow_reuse=True)(_exactly(ETHIC_IDS, "etikker"))
    _roller = validator("roller", allow_reuse=True)(_exactly(ROLE_IDS, "roller"))
    _borgersyn = validator("borgersyn", allow_reuse=True)(_exactly(CITIZEN_VIEW_IDS, "borgersyn"))
    _t = validator("t_ledelse", allow_reuse=True)(_exactly(T_IDS, "t_ledelse"))

    @root_validator(skip_on_failure=True)
    def _consistent(cls, values):
        quadrants: Dict[str, Quadrant] = values["kvadranter"]
        for qid, quadrant in quadrants.items():
            quadrant.id = qid
            ethic = values["etikker"][quadrant.etik]
            if ethic.under != qid:
                raise ValueError(f"kvadranter.{qid}.etik: {quadrant.etik} står under {ethic.under}, ikke {qid}")
        axes = [frozenset(q.akser) for q in quadrants.values()]
        if len(set(axes)) != 4:
            raise ValueError("kvadranter: to kvadranter har de samme akser")
        return values

    def diagonal(self, quadrant_id: str) -> str:
        """The quadrant sharing no axis: the sharpest tension in the model."""
        own = set(self.kvadranter[quadrant_id].akser)
        for qid, quadrant in self.kvadranter.items():
            if not own & set(quadrant.akser):
                return qid
        raise KnowledgeError(f"{quadrant_id} har ingen diagonal modpol")

    def name(self, any_id: str) -> str:
        for table in (self.kvadranter, self.etikker, self.roller, self.borgersyn, self.t_ledelse):
            if any_id in table:
                return table[any_id].navn
        for lens_id in ("borgere", "oversaettelse", "fremtid"):
            if any_id == lens_id:
                return getattr(self, lens_id).navn
        raise KeyError(any_id)


def _format(error: ValidationError, path: Path) -> str:
    lines = []
    for item in error.errors():
        location = ""
        for part in item["loc"]:
            if part == "__root__":
                continue
            location += f"[{part}]" if isinstance(part, int) else (f".{part}" if location else str(part))
        lines.append(f"  {location or '(hele filen)'}: {item['msg']}")
    return f"{path}: ugyldig balancemodel:\n" + "\n".join(lines)


def load_model(path: Optional[Union[str, Path]] = None) -> BalanceModel:
    """Read and validate a knowledge file; raises KnowledgeError naming the bad entry."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise KnowledgeError(f"{path}: kan ikke læses ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{path}: ikke gyldig YAML: {error}") from error
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: forventede en mapping øverst i filen")
    try:
        return BalanceModel.parse_obj(raw)
    except ValidationError as error:
        raise KnowledgeError(_format(error, path)) from None


@lru_cache(maxsize=1)
def default_model() -> BalanceModel:
    return load_model(DEFAULT_PATH)
