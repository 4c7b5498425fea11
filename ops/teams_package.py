"""Build the Teams app package: build/balancecoach-teams.zip with manifest.json and the two icons.

`make teams-package` runs this. The bot's Microsoft App ID comes from BALANCECOACH_TEAMS_APP_ID (the variable the
Teams channel reads); without it a placeholder id is used, which is enough to check the
package but not to sideload it. The icons are drawn here with Pillow (the balance model's four quadrants),
so no binary file needs to live in the repository. When `npm ci` has installed Microsoft's manifest schema
into node_modules/, the manifest is validated against it before the zip is written.

    python ops/teams_package.py [--out build/balancecoach-teams.zip] [--version 1.0.0]
                                    [--website URL] [--privacy URL] [--terms URL]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Dict, Optional

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "teams" / "manifest.template.json"
OUT = ROOT / "build" / "balancecoach-teams.zip"
SCHEMAS = ROOT / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_URL = "https://www.herning.dk"
ACCENT = (11, 79, 138)  # #0B4F8A, the widget's colour
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)  # zip entries get a fixed date, so the same input gives the same zip


def manifest(app_id: str, version: str, website: str, privacy: str, terms: str) -> Dict:
    if not _GUID.match(app_id):
        raise SystemExit(f"BALANCECOACH_TEAMS_APP_ID={app_id!r}: skal være botens Microsoft App ID (et GUID)")
    if not _VERSION.match(version):
        raise SystemExit(f"--version {version!r}: skal være tre tal, fx 1.0.0")
    for url in (website, privacy, terms):
        if not url.startswith("https://"):
            raise SystemExit(f"{url!r}: Teams kræver https://-adresser")
    if str(ROOT) not in sys.path:  # run as `python ops/teams_package.py`, not only from make
        sys.path.insert(0, str(ROOT))
    from bot.domain_parts import knowledge_values

    text = TEMPLATE.read_text(encoding="utf-8")
    # The quadrants' names come from bot/knowledge.yml, so the store description follows an HR edit too.
    for key, value in {"APP_ID": app_id.lower(), "VERSION": version, "WEBSITE_URL": website,
                       "PRIVACY_URL": privacy, "TERMS_URL": terms,
                       "HENSYN": knowledge_values()["kvadranter_navne"]}.items():
        text = text.replace("{{" + key + "}}", json.dumps(value)[1:-1])
    return json.loads(text)


def schema_path(data: Dict) -> Path:
    return SCHEMAS / f"v{data['manifestVersion']}" / "MicrosoftTeams.schema.json"


def validate(data: Dict) -> Optional[str]:
    """Errors against Microsoft's schema for the manifest's version, or None; raises if it is not installed."""
    import jsonschema

    schema = json.loads(schema_path(data).read_text(encoding="utf-8-sig"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        return "\n".join(f"  {'/'.join(map(str, e.path)) or '(manifest)'}: {e.message}" for e in errors)
    return None


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def colour_icon() -> bytes:
    """192×192, full colour: four quadrants on the accent colour."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (192, 192), ACCENT)
    draw = ImageDraw.Draw(image)
    light = (160, 190, 216)  # white at 60 % over the accent, opaque
    for i, (x, y) in enumerate([(40, 40), (100, 40), (40, 100), (100, 100)]):
        draw.rounded_rectangle((x, y, x + 52, y + 52), radius=8, fill=(255, 255, 255) if i in (0, 3) else light)
    return _png(image)


def outline_icon() -> bytes:
    """32×32, white on transparent (Teams' rule for outline icons): four quadrant outlines."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for x, y in [(4, 4), (17, 4), (4, 17), (17, 17)]:
        draw.rectangle((x, y, x + 10, y + 10), outline=(255, 255, 255, 255), width=2)
    return _png(image)


def build(out: Path, app_id: str, version: str = "1.0.0", website: str = DEFAULT_URL, privacy: str = DEFAULT_URL,
          terms: str = DEFAULT_URL) -> Path:
    data = manifest(app_id, version, website, privacy, terms)
    if schema_path(data).exists():
        errors = validate(data)
        if errors:
            raise SystemExit(f"manifest.json følger ikke Microsofts skema v{data['manifestVersion']}:\n{errors}")
    else:
        print(f"advarsel: {schema_path(data)} mangler (kør 'npm ci'); manifestet er ikke valideret", file=sys.stderr)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {"manifest.json": json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
             "color.png": colour_icon(), "outline.png": outline_icon()}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), content)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Byg Teams-app-pakken til Balancecoach.")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--version", default="1.0.0", help="appens version (hæv den ved hver ny upload)")
    parser.add_argument("--website", default=DEFAULT_URL, help="udviklerens hjemmeside (https)")
    parser.add_argument("--privacy", default=DEFAULT_URL, help="side om persondata (https)")
    parser.add_argument("--terms", default=DEFAULT_URL, help="brugsvilkår (https)")
    args = parser.parse_args(argv)
    # Read directly, not through bot.settings: packaging needs the id, not the secret the server needs.
    app_id = os.environ.get("BALANCECOACH_TEAMS_APP_ID", "").strip()
    if not app_id:
        print(f"BALANCECOACH_TEAMS_APP_ID er ikke sat: bruger pladsholderen {PLACEHOLDER_ID} "
              "(fin til at tjekke pakken, ikke til at uploade den)", file=sys.stderr)
    out = build(args.out, app_id or PLACEHOLDER_ID, args.version, args.website, args.privacy, args.terms)
    print(f"Teams-pakke skrevet: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
