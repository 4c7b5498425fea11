"""The balance picture: the four quadrants on the model's two axes, with the leader's own weighting.

The closing summary shows leaders where their considerations sit — Ind/Ud across, Udvikling/Drift up and
down — which ones they voiced, the weight they themselves gave each (in per cent, or as an order in words:
"vejer tungest", "må ikke glide ud"), and which one they overlooked. The analysis' confidence is never drawn:
it says how sure the classifier was, not how much a consideration weighs for the leader. It is drawn once
with matplotlib and saved twice: SVG for the web widget (text stays text, so it scales and can be read by a
screen reader's find), PNG for channels that cannot show SVG (Teams). Positions come from each quadrant's
`akser` in `bot/knowledge.yml`, so the layout follows the model rather than a hard-coded table.

Danish the leader sees: the quadrant and axis names come from the knowledge file; the few fixed words the
picture needs are in `TEKST` right below, and nowhere else.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from .knowledge import BalanceModel
from .weighting import Weighting

# Every fixed Danish word drawn in the picture (quadrant and axis names come from bot/knowledge.yml).
TEKST = {
    "titel": "Dit balancebillede",
    "overset": "overset",
    "ikke_hoert": "ikke hørt",
    "hoert": "hørt",
    "vaegt": "vægt",
    "tungest": "vejer tungest",
    "rang": "{n}. prioritet",
    "gulv": "må ikke glide ud",
}

FILENAME = "balancebillede"
MAX_WORDS = 3          # the leader's own words shown per quadrant
MAX_WORD_CHARS = 22    # a quoted word longer than this is shortened with "…"

# Grid position (column, row) per pair of axes: Ind left, Ud right; Udvikling top, Drift bottom.
_COLUMN = {"ind": 0, "ud": 1}
_ROW = {"udvikling": 1, "drift": 0}

_COLOURS = {  # colour-blind safe (Okabe–Ito), dark enough for text contrast on white
    "relationer": "#CC79A7",
    "stabilitet": "#0072B2",
    "fornyelse": "#009E73",
    "resultater": "#D55E00",
}
_INK = "#1f1f1f"
_MUTED = "#595959"  # 7:1 on white


@dataclass(frozen=True)
class BalancePicture:
    svg: str
    png: bytes
    description: str  # the picture in words: alt text for screen readers and text-only channels
    weights: Dict[str, int]  # the per-cent weights drawn as bars (empty when the leader gave none)
    labels: Dict[str, str]  # what each quadrant's box says about its weight ("vejer tungest", "hørt", ...)

    def payload(self) -> Dict[str, object]:
        """What a channel needs: both formats base64-encoded, the alt text, the file name for downloads, and
        the weights and labels the picture was drawn from."""
        return {
            "svg": base64.b64encode(self.svg.encode("utf-8")).decode("ascii"),
            "png": base64.b64encode(self.png).decode("ascii"),
            "filnavn": FILENAME,
            "beskrivelse": self.description,
            "vaegte": dict(self.weights),
            "etiketter": dict(self.labels),
        }


def _cell(quadrant_axes: Iterable[str]):
    axes = set(quadrant_axes)
    column = next(_COLUMN[a] for a in axes if a in _COLUMN)
    row = next(_ROW[a] for a in axes if a in _ROW)
    return column, row


def _short(word: str) -> str:
    word = " ".join(str(word).split())
    return word if len(word) <= MAX_WORD_CHARS else word[: MAX_WORD_CHARS - 1] + "…"


def _voiced(kvadranter: Optional[List[Dict[str, Any]]], model: BalanceModel) -> Dict[str, Dict[str, Any]]:
    """Known quadrants only, in the order heard: slots come from a tracker and are not trusted blindly."""
    voiced: Dict[str, Dict[str, Any]] = {}
    for item in kvadranter or []:
        if not isinstance(item, dict) or item.get("id") not in model.kvadranter:
            continue
        words = [_short(w) for w in item.get("signaler") or [] if str(w).strip()][:MAX_WORDS]
        voiced[item["id"]] = {"signaler": words}
    return voiced


def weights_and_labels(voiced: Dict[str, Dict[str, Any]], weighting: Weighting, model: BalanceModel):
    """Per-cent weights to draw as bars, and a label per quadrant: the leader's weight, rank or floor, else
    just "hørt" for a voiced consideration. A quadrant the leader weighted counts as voiced."""
    weights = {q: max(0, min(100, int(v))) for q, v in weighting.vaegte.items() if q in model.kvadranter}
    labels: Dict[str, str] = {}
    for qid in model.kvadranter:
        if qid in weights:
            labels[qid] = f"{TEKST['vaegt']} {weights[qid]} %"
        elif qid in weighting.orden:
            rank = weighting.orden.index(qid)
            labels[qid] = TEKST["tungest"] if rank == 0 and len(weighting.orden) == 1 else TEKST["rang"].format(n=rank + 1)
        elif qid in weighting.gulv:
            labels[qid] = TEKST["gulv"]
        elif qid in voiced:
            labels[qid] = TEKST["hoert"]
    return weights, labels


def describe(labels: Dict[str, str], order: List[str], negligeret: Optional[str], model: BalanceModel) -> str:
    """The same content as the drawing, as one line of text (the leader's order first, then the rest)."""
    parts = [TEKST["titel"] + "."]
    for qid in order + [q for q in model.kvadranter if q not in order]:
        state = labels.get(qid)
        if qid == negligeret:
            state = f"{state}, {TEKST['overset']}" if state else TEKST["overset"]
        parts.append(f"{model.kvadranter[qid].navn}: {state or TEKST['ikke_hoert']}.")
    return " ".join(parts)


def _plan(kvadranter, negligeret, model: BalanceModel, vaegtning):
    voiced = _voiced(kvadranter, model)
    weighting = Weighting.from_slot(vaegtning)
    weights, labels = weights_and_labels(voiced, weighting, model)
    for qid in labels:
        voiced.setdefault(qid, {"signaler": []})
    order = [q for q in weighting.orden if q in voiced] + [q for q in voiced if q not in weighting.orden]
    return voiced, weights, labels, order


def drawing(kvadranter: Optional[List[Dict[str, Any]]], negligeret: Optional[str],
            vaegtning: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What is needed to draw the picture again, and nothing more: the conversation stores this (a slot),
    not image data. `id` names this content, so a channel draws each version once and a client can ask for
    exactly the picture it was shown."""
    import hashlib
    import json

    content = {
        "kvadranter": [{"id": k.get("id"), "signaler": list(k.get("signaler") or [])[:MAX_WORDS]}
                       for k in kvadranter or [] if isinstance(k, dict)],
        "negligeret": negligeret,
        "vaegtning": vaegtning if isinstance(vaegtning, dict) else None,
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]
    return {"id": digest, **content}


def message(picture: Dict[str, Any], model: BalanceModel) -> Dict[str, object]:
    """What the summary message carries for a picture from `drawing`: its id, alt text, file name, and the
    weights and labels it shows — the image itself is fetched by id from the channel."""
    voiced, weights, labels, order = _plan(picture.get("kvadranter"), picture.get("negligeret"), model,
                                           picture.get("vaegtning"))
    return {
        "id": picture["id"],
        "filnavn": FILENAME,
        "beskrivelse": describe(labels, order, picture.get("negligeret"), model),
        "vaegte": dict(weights),
        "etiketter": dict(labels),
        "tegning": picture,  # for channels that attach the image itself (Teams)
    }


def render_drawing(picture: Dict[str, Any], model: BalanceModel) -> BalancePicture:
    return render(picture.get("kvadranter"), picture.get("negligeret"), model, picture.get("vaegtning"))


def render(kvadranter: Optional[List[Dict[str, Any]]], negligeret: Optional[str], model: BalanceModel,
           vaegtning: Optional[Dict[str, Any]] = None) -> BalancePicture:
    """Draw the picture for the slots `kvadranter` ([{id, navn, signaler}]), `negligeret` (an id) and
    `vaegtning` (the leader's weighting as `bot.weighting.Weighting.to_slot` stores it).

    Each voiced consideration gets its name, the leader's weight (a bar and per cent, or rank/floor in words,
    or "hørt" when no weighting was given) and up to three of the leader's own words; the neglected one gets
    a dashed outline and the word "overset".
    """
    import matplotlib

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, Rectangle

    voiced, weights, labels, order = _plan(kvadranter, negligeret, model, vaegtning)
    fig = Figure(figsize=(6.8, 6.8), dpi=100, facecolor="white")
    FigureCanvasAgg(fig)  # Agg for the PNG, no pyplot and no GUI backend: safe in a server process
    ax = fig.add_axes([0.0, 0.0, 1.0, 1.0])
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_axis_off()

    def text(x, y, s, **kw):
        kw.setdefault("color", _INK)
        kw.setdefault("fontfamily", "DejaVu Sans")
        return ax.text(x, y, s, parse_math=False, **kw)

    text(50, 96.8, TEKST["titel"], ha="center", va="center", fontsize=15, fontweight="bold")

    left, bottom, size, gap = 11.0, 8.0, 38.0, 2.0  # two 40×40 cells per direction, axes through the middle
    axes = model.akser
    middle_x, middle_y = left + size + gap / 2, bottom + size + gap / 2
    for start, end in (((left - 3, middle_y), (left + 2 * size + gap + 3, middle_y)),
                       ((middle_x, bottom - 3), (middle_x, bottom + 2 * size + gap + 3))):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="<|-|>", mutation_scale=14, color=_MUTED, lw=1.2,
                                     zorder=1))
    text(left - 3.5, middle_y, axes["ind"].navn, ha="right", va="center", fontsize=11, fontweight="bold")
    text(left + 2 * size + gap + 3.5, middle_y, axes["ud"].navn, ha="left", va="center", fontsize=11, fontweight="bold")
    text(middle_x, bottom + 2 * size + gap + 5.8, axes["udvikling"].navn, ha="center", va="center", fontsize=11,
         fontweight="bold")
    text(middle_x, bottom - 5.2, axes["drift"].navn, ha="center", va="center", fontsize=11, fontweight="bold")

    for qid, quadrant in model.kvadranter.items():
        column, row = _cell(quadrant.akser)
        x0 = left + column * (size + gap)
        y0 = bottom + row * (size + gap)
        colour = _COLOURS.get(qid, _MUTED)
        heard = voiced.get(qid)
        neglected = qid == negligeret
        ax.add_patch(Rectangle((x0, y0), size, size, facecolor=colour if heard else "#f2f2f2",
                               alpha=0.12 if heard else 1.0, edgecolor="none", zorder=2))
        if neglected:
            ax.add_patch(Rectangle((x0 + 0.6, y0 + 0.6), size - 1.2, size - 1.2, fill=False, edgecolor=_INK,
                                   linestyle=(0, (5, 3)), linewidth=2.4, zorder=4))
        else:
            ax.add_patch(Rectangle((x0, y0), size, size, fill=False, edgecolor=colour if heard else "#bdbdbd",
                                   linewidth=1.2, zorder=3))
        text(x0 + size / 2, y0 + size - 6, quadrant.navn, ha="center", va="center", fontsize=13,
             fontweight="bold", zorder=5)
        if heard:
            bar_x, bar_y, bar_w, bar_h = x0 + 4, y0 + size - 16, size - 8, 5.0
            if qid in weights:
                ax.add_patch(Rectangle((bar_x, bar_y), bar_w, bar_h, facecolor="white", edgecolor=_MUTED, lw=0.8,
                                       zorder=5))
                ax.add_patch(Rectangle((bar_x, bar_y), bar_w * weights[qid] / 100, bar_h, facecolor=colour,
                                       edgecolor="none", zorder=6))
            text(x0 + size / 2, bar_y - 4 if qid in weights else bar_y + 2.5, labels[qid], ha="center",
                 va="center", fontsize=10.5, fontweight="bold", zorder=7)
            for i, word in enumerate(heard["signaler"][: MAX_WORDS - 1 if neglected else MAX_WORDS]):
                text(x0 + size / 2, bar_y - 9.5 - i * 4.6, f"»{word}«", ha="center", va="center", fontsize=10,
                     color=_MUTED, fontstyle="italic", zorder=7)
        elif not neglected:
            text(x0 + size / 2, y0 + size / 2 - 2, TEKST["ikke_hoert"], ha="center", va="center", fontsize=10,
                 color=_MUTED, zorder=7)
        if neglected:
            text(x0 + size / 2, y0 + 3.4 if heard else y0 + size / 2 - 2, TEKST["overset"], ha="center",
                 va="center", fontsize=12, fontweight="bold", zorder=7,
                 bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": _INK, "linestyle": "--"})

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "balancebillede"}):
        svg_buffer = io.StringIO()
        fig.savefig(svg_buffer, format="svg", metadata={"Date": None, "Title": TEKST["titel"]})
        png_buffer = io.BytesIO()
        fig.savefig(png_buffer, format="png", metadata={"Software": None})
    return BalancePicture(svg=svg_buffer.getvalue(), png=png_buffer.getvalue(),
                          description=describe(labels, order, negligeret, model), weights=weights, labels=labels)
