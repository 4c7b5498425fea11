"""`make teams-package`: the zip Teams accepts for sideloading, validated against Microsoft's own schema.

The schema comes from the npm package @microsoft/app-manifest (package.json / package-lock.json), installed
into node_modules/ by the setup (`npm ci`); nothing is downloaded here.
"""
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "ops" / "teams_package.py"
SCHEMAS = ROOT / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
APP_ID = "5f1c7a3e-2b4d-4e8f-9a10-6c2d8e4b7f01"


def build(out: Path, app_id=None, *args):
    env = {k: v for k, v in os.environ.items() if k != "BALANCECOACH_TEAMS_APP_ID"}
    if app_id is not None:
        env["BALANCECOACH_TEAMS_APP_ID"] = app_id
    return subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("teams") / "balancecoach-teams.zip"
    result = build(out, APP_ID)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def schema_for(manifest):
    path = SCHEMAS / f"v{manifest['manifestVersion']}" / "MicrosoftTeams.schema.json"
    assert path.exists(), f"{path} mangler: kør 'npm ci --no-audit --no-fund --ignore-scripts' (make install)"
    return json.loads(path.read_text(encoding="utf-8-sig"))


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_zip_holds_exactly_the_manifest_and_two_icons_at_its_root(package):
    assert sorted(package) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_validates_against_microsofts_schema(package):
    manifest = json.loads(package["manifest.json"])
    schema = schema_for(manifest)
    # (no check_schema: Microsoft's patterns use ECMAScript's \p{L}, which Python's re does not know; none of
    # those patterns applies to this manifest's fields)
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(manifest)
    assert manifest["$schema"].endswith(f"/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json")
    # the current schema: the newest numbered version the pinned package carries
    versions = [p.name[1:] for p in SCHEMAS.iterdir() if p.name[1:].replace(".", "").isdigit()]
    newest = max(versions, key=lambda v: tuple(int(n) for n in v.split(".")))
    assert manifest["manifestVersion"] == newest


def test_the_manifest_is_the_coach_as_a_personal_bot(package):
    manifest = json.loads(package["manifest.json"])
    assert manifest["id"] == APP_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal"]
    assert manifest["name"]["short"] == "Balancecoach"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_icons_have_the_sizes_and_colours_teams_requires(package):
    from io import BytesIO

    from PIL import Image

    assert png_size(package["color.png"]) == (192, 192)
    assert png_size(package["outline.png"]) == (32, 32)
    outline = Image.open(BytesIO(package["outline.png"])).convert("RGBA")
    pixels = set(outline.getdata()) if not hasattr(outline, "get_flattened_data") else set(outline.get_flattened_data())
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels), "outline: white on transparent"
    assert any(a == 0 for *_, a in pixels) and any(a == 255 for *_, a in pixels)


def test_without_an_app_id_a_placeholder_is_used_and_said(tmp_path):
    result = build(tmp_path / "p.zip", None)
    assert result.returncode == 0 and "pladsholderen" in result.stderr
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert json.loads(archive.read("manifest.json"))["id"] == "00000000-0000-0000-0000-000000000000"


def test_a_bad_app_id_or_url_stops_the_build(tmp_path):
    assert build(tmp_path / "x.zip", "ikke-et-guid").returncode != 0
    assert build(tmp_path / "y.zip", APP_ID, "--privacy", "http://usikker.example").returncode != 0
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "y.zip").exists()


def test_the_schema_check_catches_a_broken_manifest(package):
    manifest = json.loads(package["manifest.json"])
    broken = {**manifest, "accentColor": "blå", "bots": [{"botId": APP_ID, "scopes": ["everywhere"]}]}
    errors = list(jsonschema.Draft4Validator(schema_for(manifest)).iter_errors(broken))
    assert errors


def test_the_same_input_builds_the_same_zip(tmp_path):
    build(tmp_path / "a.zip", APP_ID)
    build(tmp_path / "b.zip", APP_ID)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
