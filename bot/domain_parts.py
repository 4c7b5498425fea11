"""What the coach says about the balance model, made from `bot/knowledge.yml` when the Rasa model is built.

Why: the explanations of the model, the quadrant buttons and the lens names used to be written out a second
time in domain.yml, so an HR edit to knowledge.yml changed what the coach heard but not what it said about the
model. Now domain.yml keeps only the sentence frames, in Danish like every other reply:

  utter_ramme_<navn>     a frame for the response `utter_<navn>`: its text (and buttons) with placeholders
                         such as {kvadranter_kort} that the knowledge file fills in
  utter_rammedel_<del>   a small part the placeholders are built from ("{navn} ({kort})", " og som ")

`generate` fills every frame and `write` puts the finished responses in a domain file of their own beside a
copy of domain.yml. Rasa reads that directory as one domain (`rasa train --domain build/domain`), so the
trained model carries the texts: a new model deploy changes what the coach says, and the action server
needs no knowledge file to say it. Placeholders the knowledge file does not fill ({borgersyn_navne},
{opbevaring_dage}) stay for the actions to fill per conversation, and everything filled in here has its braces
doubled, because the actions run each response through `str.format` (actions/actions.py `say`).

A frame button whose title uses a quadrant's {navn} or {kort} is repeated once per quadrant, in the
knowledge file's order, and its payload (an intent) gets the quadrant as the entity `kvadrant`.
Plain Python, no Rasa: `merged_domain()` gives tests and tools the domain Rasa will see.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import yaml

from .knowledge import BalanceModel, load_model

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_PATH = ROOT / "domain.yml"
FRAME = "utter_ramme_"
PART = "utter_rammedel_"
GENERATED_FILE = "viden.yml"
QUADRANT_ENTITY = "kvadrant"
_QUADRANT_FIELDS = ("id", "navn", "kort", "kendetegn")
_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")
_HEADER = (
    "# Lavet af `python -m bot domain` (bot/domain_parts.py) ud fra {knowledge} og rammerne utter_ramme_* i\n"
    "# domain.yml. Ret ikke her: ret balancemodellen i bot/knowledge.yml eller ordlyden i domain.yml.\n"
)

PathLike = Union[str, Path]


class DomainPartsError(ValueError):
    """A frame in domain.yml cannot be filled, or a generated response would clash with a written one."""


def _read_yaml(path: Path) -> Dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _escape(value: str) -> str:
    """Knowledge text goes through the actions' `str.format` later: its braces must come out as written."""
    return str(value).replace("{", "{{").replace("}", "}}")


def _fill(text: str, values: Dict[str, str]) -> str:
    """Fill the placeholders the knowledge file answers; leave the others ({borgersyn_navne}) for the actions."""
    return _PLACEHOLDER.sub(lambda m: _escape(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def _join(items: Sequence[str], last: str) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


def _part_text(responses: Dict[str, Any], name: str) -> str:
    try:
        return responses[name][0]["text"]
    except (KeyError, IndexError, TypeError):
        raise DomainPartsError(f"domain.yml mangler sætningsdelen {name}, som rammerne bygges af") from None


def values(model: BalanceModel, responses: Dict[str, Any]) -> Dict[str, str]:
    """Every placeholder a frame may use, with the Danish built from the knowledge file and the parts."""

    def part(name: str, **fill: str) -> str:
        return _part_text(responses, f"{PART}{name}").format(**fill)

    and_ = _part_text(responses, "utter_del_og")
    named = lambda navn, kort: part("navn_kort", navn=navn, kort=kort) if kort else navn  # noqa: E731
    quadrants = model.kvadranter.values()
    roles = []
    for rid, role in model.roller.items():
        views = [v.navn.lower() for v in model.borgersyn.values() if v.rolle == rid]
        roles.append(part("rolle_borgersyn", rolle=role.navn.lower(), borgersyn=_join(views, part("og_som")))
                     if views else role.navn.lower())
    result = {
        "kvadranter_navne": _join([q.navn for q in quadrants], and_),
        "kvadranter_kort": _join([named(q.navn, q.kort) for q in quadrants], and_),
        "kvadranter_kendetegn": _join([named(q.navn, q.kendetegn) for q in quadrants], and_),
        "etikker_under": _join([part("etik_under", etik=e.navn.lower(), kvadrant=model.kvadranter[e.under].navn,
                                     kort=e.kort) for e in model.etikker.values()], and_),
        "roller_borgersyn": _join(roles, and_),
        "roller_som": _join([part("som_rolle", rolle=r.navn.lower()) for r in model.roller.values()], and_),
        "linse_oversaettelse": model.oversaettelse.navn.lower(),
        "linse_fremtid": model.fremtid.navn.lower(),
        "linse_borgere": model.borgere.navn.lower(),
    }
    for aid, axis in model.akser.items():
        result[f"akse_{aid}"] = named(axis.navn, axis.kort)
    return result


def knowledge_values(knowledge: Optional[PathLike] = None, domain: Optional[PathLike] = None) -> Dict[str, str]:
    """The placeholders' values for texts outside the Rasa domain that name the model (the Teams manifest)."""
    raw = _read_yaml(Path(domain) if domain else DOMAIN_PATH)
    return values(load_model(knowledge), raw.get("responses") or {})


def _buttons(buttons: List[Dict[str, str]], model: BalanceModel, filled: Dict[str, str]) -> List[Dict[str, str]]:
    out = []
    for button in buttons:
        title, payload = str(button.get("title", "")), str(button.get("payload", ""))
        per_quadrant = any(f"{{{f}}}" in title for f in _QUADRANT_FIELDS)
        if not per_quadrant:
            out.append({"title": _fill(title, filled), "payload": payload})
            continue
        for qid, quadrant in model.kvadranter.items():
            own = {**filled, "id": qid, "navn": quadrant.navn, "kort": quadrant.kort, "kendetegn": quadrant.kendetegn}
            entity = _escape(json.dumps({QUADRANT_ENTITY: qid}, ensure_ascii=False))
            out.append({"title": _fill(title, own), "payload": payload + entity})
    return out


def generate(model: BalanceModel, domain: Dict[str, Any]) -> Dict[str, List[Dict[str, Any]]]:
    """The finished responses, `utter_<navn>` for every frame `utter_ramme_<navn>` in the domain."""
    responses = domain.get("responses") or {}
    filled = values(model, responses)
    generated: Dict[str, List[Dict[str, Any]]] = {}
    for name, variants in responses.items():
        if not name.startswith(FRAME):
            continue
        target = "utter_" + name[len(FRAME):]
        if target in responses:
            raise DomainPartsError(f"{target} står både som ramme ({name}) og som færdigt svar i domain.yml")
        out = []
        for variant in variants:
            made = {key: value for key, value in variant.items() if key not in ("text", "buttons")}
            made = {"text": _fill(variant["text"], filled), **made}
            if variant.get("buttons"):
                made["buttons"] = _buttons(variant["buttons"], model, filled)
            out.append(made)
        generated[target] = out
    return generated


def merged_domain(knowledge: Optional[PathLike] = None, domain: Optional[PathLike] = None) -> Dict[str, Any]:
    """domain.yml with the responses made from the knowledge file, as Rasa sees `build/domain` (a fresh dict)."""
    raw = _read_yaml(Path(domain) if domain else DOMAIN_PATH)
    raw["responses"] = {**(raw.get("responses") or {}), **generate(load_model(knowledge), raw)}
    return raw


def write(knowledge: Optional[PathLike], out: PathLike, domain: Optional[PathLike] = None) -> Path:
    """Write `out/domain.yml` (a copy) and `out/viden.yml` (the generated responses) for `rasa --domain out`.

    Any other YAML file in `out` would be merged into the domain by Rasa, so it is refused rather than
    overwritten: point `--out` at a folder of its own.
    """
    domain_path = Path(domain) if domain else DOMAIN_PATH
    knowledge_path = Path(knowledge) if knowledge else None
    out = Path(out)
    strangers = [p.name for p in out.iterdir() if p.suffix in (".yml", ".yaml")
                 and p.name not in ("domain.yml", GENERATED_FILE)] if out.is_dir() else []
    if strangers:
        raise DomainPartsError(f"{out} indeholder andre YAML-filer ({', '.join(sorted(strangers))}), som Rasa ville "
                               "læse med i domænet; brug en mappe for sig selv")
    written = _read_yaml(domain_path)
    generated = generate(load_model(knowledge_path), written)  # a bad knowledge file stops here: nothing written
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(domain_path, out / "domain.yml")
    shown = knowledge_path.as_posix() if knowledge_path else "bot/knowledge.yml"
    body = yaml.safe_dump({"version": str(written.get("version", "3.1")), "responses": generated},
                          allow_unicode=True, sort_keys=False, width=110, default_flow_style=False)
    (out / GENERATED_FILE).write_text(_HEADER.format(knowledge=shown) + body, encoding="utf-8")
    return out
