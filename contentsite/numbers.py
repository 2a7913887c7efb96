"""Whole numbers read from requests: addresses, query strings, headers. One rule for every one of them.

``str.isdigit`` is not that rule: it says yes to "²" (which ``int`` refuses: a 500) and to other scripts'
digits such as U+0661, Arabic-Indic one (which ``int`` reads as 1: the same page at a second address), and
``int`` refuses more than 4,300 digits. A number here is ASCII digits only, no sign, space or underscore, at
most ``MAX_DIGITS`` of them.
"""

from __future__ import annotations

# As many as a 64-bit integer has: any id, page, limit, change number or byte count the site takes.
MAX_DIGITS = 19


def whole_number(raw: object) -> int | None:
    """``raw`` as an int if it is a whole number written as above; else None (the caller says why it refuses)."""
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)
