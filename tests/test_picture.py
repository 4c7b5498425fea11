"""The balance picture (bot/picture.py): the four quadrants on the model's axes, the leader's own weighting, the
overlooked one — and never the analysis' confidence."""
import base64
import struct
import xml.etree.ElementTree as ET

import pytest

from bot.picture import TEKST, render

PICTURE = {
    "kvadranter": [
        {"id": "relationer", "navn": "Relationer", "score": 0.989, "signaler": ["bekymret", "trivslen"]},
        {"id": "resultater", "navn": "Resultater", "score": 0.61, "signaler": ["spare", "mio."]},
    ],
    "negligeret": "fornyelse",
    "vaegtning": {"vaegte": {"resultater": 60, "relationer": 40}, "orden": ["resultater", "relationer"], "gulv": []},
}
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def picture(model):
    return render(PICTURE["kvadranter"], PICTURE["negligeret"], model, PICTURE["vaegtning"])


def texts(svg: str):
    """Every <text> in the SVG with its position (svg.fonttype 'none' keeps text as text)."""
    root = ET.fromstring(svg)
    found = []
    for node in root.iter(f"{SVG}text"):
        content = "".join(node.itertext()).strip()
        found.append((content, float(node.get("x")), float(node.get("y"))))
    return found


def position(svg, word):
    return next((x, y) for text, x, y in texts(svg) if text == word)


def test_svg_names_quadrants_and_axes_as_text(picture, model):
    words = [t for t, _, _ in texts(picture.svg)]
    for quadrant in model.kvadranter.values():
        assert quadrant.navn in words
    for axis in ("Ind", "Ud", "Udvikling", "Drift"):
        assert axis in words
    assert TEKST["titel"] in words


def test_quadrants_sit_on_the_two_axes(picture):
    """Ind left, Ud right; Udvikling up, Drift down (SVG y grows downwards)."""
    rel, forn, stab, res = (position(picture.svg, n) for n in ("Relationer", "Fornyelse", "Stabilitet", "Resultater"))
    ind, ud, udv, drift = (position(picture.svg, n) for n in ("Ind", "Ud", "Udvikling", "Drift"))
    assert rel[0] < forn[0] and stab[0] < res[0]      # Ind-side left of Ud-side
    assert rel[1] < stab[1] and forn[1] < res[1]      # Udvikling above Drift
    assert ind[0] < rel[0] < ud[0] and udv[1] < rel[1] < stab[1] < drift[1]


def test_the_leaders_weights_and_words_are_shown(picture):
    words = [t for t, _, _ in texts(picture.svg)]
    assert f"{TEKST['vaegt']} 60 %" in words and f"{TEKST['vaegt']} 40 %" in words
    assert "vægt 99 %" not in words and "vægt 61 %" not in words  # the classifier's confidence is never drawn
    assert picture.weights == {"resultater": 60, "relationer": 40}
    assert "»trivslen«" in words and "»spare«" in words
    assert words.count(TEKST["ikke_hoert"]) == 1       # Stabilitet: neither voiced nor overlooked


def test_bars_are_as_long_as_the_stated_weights(picture):
    """The two filled bars' widths relate as 60 to 40 (the bar outlines are the same width for both)."""
    import re

    root = ET.fromstring(picture.svg)
    fills = {}
    for node in root.iter(f"{SVG}path"):
        style = node.get("style") or ""
        for qid, colour in (("resultater", "#d55e00"), ("relationer", "#cc79a7")):
            if f"fill: {colour}" in style and "opacity" not in style:
                xs = [float(v) for v in re.findall(r"[ML] ([\d.]+) [\d.]+", node.get("d"))]
                fills.setdefault(qid, []).append(max(xs) - min(xs))
    assert max(fills["resultater"]) / max(fills["relationer"]) == pytest.approx(60 / 40, rel=0.02)


def test_without_a_stated_weighting_voiced_is_shown_as_heard_not_as_a_number(model):
    picture = render(PICTURE["kvadranter"], "fornyelse", model)
    words = [t for t, _, _ in texts(picture.svg)]
    assert words.count(TEKST["hoert"]) == 2 and not any("%" in w for w in words)
    assert picture.weights == {} and picture.labels == {"relationer": "hørt", "resultater": "hørt"}


def test_an_order_in_words_is_shown_as_priorities(model):
    picture = render(PICTURE["kvadranter"], "fornyelse", model,
                     {"vaegte": {}, "orden": ["relationer", "resultater"], "gulv": ["stabilitet"]})
    assert picture.labels == {"relationer": "1. prioritet", "resultater": "2. prioritet", "stabilitet": "må ikke glide ud"}
    assert "Relationer: 1. prioritet. Resultater: 2. prioritet. Stabilitet: må ikke glide ud." in picture.description


def test_the_neglected_quadrant_is_marked_overset_with_a_dashed_outline(picture):
    overset_x, overset_y = position(picture.svg, TEKST["overset"])
    fornyelse_x, _ = position(picture.svg, "Fornyelse")
    assert TEKST["overset"] == "overset" and abs(overset_x - fornyelse_x) < 1
    assert "stroke-dasharray" in picture.svg
    # one quadrant only: the picture for another neglected quadrant moves the mark
    assert [t for t, _, _ in texts(picture.svg)].count("overset") == 1


def test_png_is_a_real_png_of_sensible_size(picture):
    assert picture.png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", picture.png[16:24])
    assert 500 <= width <= 1200 and 500 <= height <= 1200
    assert 10_000 < len(picture.png) < 300_000


def test_payload_is_base64_of_both_formats_with_alt_text(picture):
    payload = picture.payload()
    assert base64.b64decode(payload["svg"]).decode() == picture.svg
    assert base64.b64decode(payload["png"]) == picture.png
    assert payload["filnavn"] == "balancebillede"
    assert payload["beskrivelse"].startswith(TEKST["titel"])
    assert "Resultater: vægt 60 %. Relationer: vægt 40 %." in payload["beskrivelse"]
    assert "Fornyelse: overset" in payload["beskrivelse"]
    assert payload["vaegte"] == {"resultater": 60, "relationer": 40}


def test_leaders_words_are_escaped_text_never_markup_or_mathtext(model):
    nasty = [{"id": "relationer", "score": 0.9, "signaler": ["<script>alert(1)</script>", "$x^2$"]}]
    svg = render(nasty, "resultater", model).svg
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert any(t.startswith("»$x^2$") for t, _, _ in texts(svg))


def test_odd_slot_values_still_draw(model):
    odd = [{"id": "ukendt", "score": 3}, {"id": "fornyelse", "score": "x"}, "ikke en dict", {"id": "stabilitet", "score": 7}]
    picture = render(odd, None, model, {"vaegte": {"fornyelse": 300, "kaos": 5}, "orden": "x"})
    words = [t for t, _, _ in texts(picture.svg)]
    assert f"{TEKST['vaegt']} 100 %" in words and TEKST["hoert"] in words
    assert "overset" not in words
    assert render(None, None, model, "ikke en dict").png[:4] == b"\x89PNG"


def test_drawing_is_deterministic(model, picture):
    again = render(PICTURE["kvadranter"], PICTURE["negligeret"], model, PICTURE["vaegtning"])
    assert again.svg == picture.svg and again.png == picture.png


def test_labels_follow_an_hr_edit_of_the_knowledge_file(tmp_path):
    """Quadrant and axis names in the picture and its alt text come from bot/knowledge.yml, never from code."""
    import yaml

    from bot.knowledge import DEFAULT_PATH, load_model

    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["kvadranter"]["fornyelse"]["navn"] = "Innovation"
    raw["akser"]["drift"]["navn"] = "Hverdagen"
    path = tmp_path / "knowledge.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    edited = render(PICTURE["kvadranter"], PICTURE["negligeret"], load_model(path), PICTURE["vaegtning"])
    words = [t for t, _, _ in texts(edited.svg)]
    assert "Innovation" in words and "Hverdagen" in words
    assert "Fornyelse" not in words and "Drift" not in words
    assert "Innovation: overset." in edited.description
