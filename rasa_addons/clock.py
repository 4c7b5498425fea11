"""The service's clock, which the retention tests can move forward.

Retention is tested by driving real conversations and then letting weeks pass. With
`BALANCECOACH_CLOCK_FILE` set (tests only), the Rasa server adds the number of seconds in that file to
`time.time()` — the clock Rasa stamps events with and the retention job measures by — and reads the file
again on SIGUSR1. Without it, nothing is installed and `now` is `time.time`.
"""
from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

logger = logging.getLogger(__name__)

_real_time = time.time
_offset = 0.0


def now() -> float:
    return _real_time() + _offset


def install(path: str) -> None:
    def read(*_):
        global _offset
        try:
            _offset = float(Path(path).read_text().strip() or 0)
        except (OSError, ValueError) as error:
            logger.error("Clock file %s unreadable: %s", path, error)
        logger.warning("Test clock: %+.0f s", _offset)

    read()
    time.time = now
    signal.signal(signal.SIGUSR1, read)
