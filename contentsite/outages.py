"""Telling the operator that a part of the site is down, without a line per request.

While Redis or PostgreSQL is down every request meets the same failure; one line a
minute per process says so as well as a thousand would, and keeps the logs readable.
The memory of when a line was last written is per process (an optimisation only: each
app server says it for itself).
"""

from __future__ import annotations

import logging
import threading
import time

# At most one line per (logger, outage) per process in this many seconds.
OUTAGE_LOG_INTERVAL_SECONDS = 60

_last_logged: dict[tuple[str, str], float] = {}
_lock = threading.Lock()


def log_outage(logger: logging.Logger, outage: str, message: str, *args: object, exc_info: bool = False) -> bool:
    """Log ``message`` at WARNING unless the same ``outage`` was logged by ``logger`` within the interval.

    Returns whether the line was written. ``outage`` names what is down (``"cache"``,
    ``"rate-limit-fallback"``, ``"database"``); the message may differ between calls.
    """
    now = time.monotonic()
    with _lock:
        last = _last_logged.get((logger.name, outage))
        if last is not None and now - last < OUTAGE_LOG_INTERVAL_SECONDS:
            return False
        _last_logged[(logger.name, outage)] = now
    logger.warning(message, *args, exc_info=exc_info)
    return True


def forget_outage_logs() -> None:
    """Let the next failure of every kind be logged again (tests start each case afresh)."""
    with _lock:
        _last_logged.clear()
