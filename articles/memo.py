"""A per-process memo of values that never go stale, bounded by the characters it holds.

For things named by what they are (a submitted revision's rendered parts, a page
under its ETag): a key's value can never change, so a process may keep it without
asking anyone, and several app servers each keeping their own copy never disagree.
Least recently used out first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

_ALL: list[BoundedMemo] = []


def forget_all() -> None:
    """Empty every memo (tests, where a rolled-back database gives new content old ids)."""
    for memo in _ALL:
        memo.clear()


class BoundedMemo:
    def __init__(self, max_chars: int) -> None:
        _ALL.append(self)
        self.max_chars = max_chars
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        """Keep ``value`` (of about ``size`` characters) unless it alone would not fit."""
        if size > self.max_chars:
            return
        with self._lock:
            if key not in self._entries:
                self._keep(key, value, size)

    def replace(self, key: Hashable, value: Any, size: int) -> None:
        """Keep ``value`` for ``key`` in place of what was kept: for a memo of the latest of something (a guess),
        whose value for a key does change. What was kept goes even when ``value`` alone would not fit."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._chars -= old[1]
            if size <= self.max_chars:
                self._keep(key, value, size)

    def _keep(self, key: Hashable, value: Any, size: int) -> None:
        # Under ``_lock``: keep the entry, then forget the least recently used until the bound holds.
        self._entries[key] = (value, size)
        self._chars += size
        while self._chars > self.max_chars:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._chars -= evicted

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0
