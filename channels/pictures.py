"""The balance picture, drawn in the Rasa server when a channel needs it, once per version.

The conversation stores only what is needed to draw the picture (slot `balancebillede`, bot/picture.py
`drawing`); drawing takes 80–400 ms, so each version is drawn once, in one worker thread beside the event
loop, and kept in a small cache by its id. The widget fetches it by id through the REST channel, with the
conversation's token; Teams gets the PNG as an attachment.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

from bot.knowledge import default_model
from bot.picture import BalancePicture, render_drawing

TYPES = {"svg": "image/svg+xml", "png": "image/png"}
CACHE_SIZE = 64

_cache: "OrderedDict[str, BalancePicture]" = OrderedDict()
_executor: Optional[ThreadPoolExecutor] = None


async def draw(picture: Dict[str, Any]) -> BalancePicture:
    global _executor
    key = str(picture.get("id"))
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="billede")
    drawn = await asyncio.get_running_loop().run_in_executor(_executor, render_drawing, picture, default_model())
    _cache[key] = drawn
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return drawn


async def for_conversation(agent, sender: str, picture_id: str) -> Optional[BalancePicture]:
    """The picture `picture_id` if it is the conversation's current one; None otherwise."""
    if agent is None or not picture_id.isalnum():
        return None
    tracker = await agent.tracker_store.retrieve(sender)
    current = tracker.get_slot("balancebillede") if tracker else None
    if not isinstance(current, dict) or current.get("id") != picture_id:
        return None
    return await draw(current)
