"""The README's sample conversation, produced from the running coach so it stays true.

`python -m bot sample` starts the coach, plays one leader's turns through the REST channel and writes the
transcript into README.md between the markers. The test replays the turns and checks the conversation's arc
and the facts that matter (what was heard, what the correction changed, the leader's own words and weights
coming back), not the transcript word for word: wording turns with the conversation and training.
"""
from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from bot.settings import ROOT

README = ROOT / "README.md"
PICTURE_NOTE = "*(balancebilledet: de fire hensyn på de to akser med din vægtning, og det oversete markeret)*"
START, END = "<!-- samtale:start -->", "<!-- samtale:end -->"

LEADER = [
    "Byrådet har besluttet, at vi skal spare 2 mio. på hjemmeplejen. Jeg er bekymret for trivslen i mine "
    "grupper, som allerede løber stærkt.",
    "nej, pengene er ikke det vigtigste. Det er reglerne for, hvornår borgerne har krav på hjælp, der fylder.",
    "Vi kunne måske lave et lille forsøg med frivillige, der tager sig af besøg og gåture.",
    "Lige nu nok 60/40 til trivslen.",
    "Jeg skal forklare baggrunden ordentligt på personalemødet og fortælle min chef, hvad det koster i trivsel.",
    "De ældre er ikke kun sårbare; de og deres pårørende kan også være med til at finde løsningerne.",
    "Jeg tager en snak med MED-udvalget på mandag og beder om deres idéer.",
]

Turn = Tuple[str, List[Dict]]


def conversation(ask: Callable[[str], List[Dict]]) -> List[Turn]:
    """Play the leader's turns through `ask(message) -> replies`; each turn with the coach's replies."""
    return [(message, ask(message)) for message in LEADER]


def transcript(turns: List[Turn]) -> str:
    """The conversation as Markdown for the README."""
    lines: List[str] = []
    for message, replies in turns:
        lines.append(f"> **Leder:** {message}")
        lines.append(">")
        for reply in replies:
            if reply.get("custom"):
                text = (reply.get("text") or "").replace("\n", "\n> ")
                if text:
                    lines.append(f"> **Coach:** {text}")
                    lines.append(">")
                lines.append(f"> **Coach:** {PICTURE_NOTE}")
                lines.append(">")
                continue
            text = (reply.get("text") or "").replace("\n", "\n> ")
            buttons = " ".join(f"[{b['title']}]" for b in reply.get("buttons") or [])
            lines.append(f"> **Coach:** {text}" + (f" {buttons}" if buttons else ""))
            lines.append(">")
    return "\n".join(lines[:-1])


def write(text: str, readme: Path = README) -> None:
    content = readme.read_text(encoding="utf-8")
    block = f"{START}\n{text}\n{END}"
    content = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, content, flags=re.S)
    readme.write_text(content, encoding="utf-8")


def current(readme: Path = README) -> str:
    content = readme.read_text(encoding="utf-8")
    return content.split(START, 1)[1].split(END, 1)[0].strip("\n")


def main() -> int:
    from .evaluation import isolated_settings
    from .stack import Stack

    with tempfile.TemporaryDirectory() as tmp:
        with Stack(isolated_settings(5505, 5555, Path(tmp))) as stack:
            sender = uuid.uuid4().hex
            text = transcript(conversation(lambda message: stack.ask(message, sender)))
    write(text)
    print(text)
    return 0
