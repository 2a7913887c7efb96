"""JSON that someone sent us (an import file, an API request body), parsed at bounded depth.

Python's parser recurses once per level of nesting, so a small document of a
few thousand ``[`` ends in a ``RecursionError`` (and later code that walks the
result recurses too). ``loads`` measures the nesting first, without recursing
and without building anything, and refuses a document nested deeper than
``MAX_JSON_DEPTH`` with a ``JSONTooDeep`` (a ``ValueError``) that says where.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from .limits import MAX_JSON_DEPTH

# A whole string, whose brackets are text, not structure. A string left open runs to
# the end, so json.loads, not the depth check, reports it.
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"?'
_STRINGS = re.compile(_STRING, re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A surrogate written as an escape, paired or not (a pair is text; ``loads`` tells them apart).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_STRUCTURE = re.compile(rf"(?P<open>[\[{{])|(?P<close>[\]}}])|{_STRING}", re.DOTALL)


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than the limit."""

    def __init__(self, limit: int, line: int, column: int) -> None:
        self.limit, self.line, self.column = limit, line, column
        super().__init__(
            f"nested more than {limit} levels deep (at line {line}, column {column}); the limit is {limit} levels"
        )


def check_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise ``JSONTooDeep`` if brackets outside strings in ``text`` nest deeper than ``limit``.

    Linear passes over the text and no recursion: it cannot fail on the input it guards
    against. Malformed JSON is left for the parser to report.
    """
    if text.count("[") + text.count("{") <= limit:  # not enough brackets to nest that deep, in strings or out
        return
    # The brackets outside strings, then their running depth: all of it in C, so a
    # 2 MB file costs milliseconds.
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if max(accumulate(map(_STEP.__getitem__, brackets)), default=0) <= limit:
        return
    # Too deep: the same scan again, slower but keeping positions, to say where.
    depth = 0
    for match in _STRUCTURE.finditer(text):
        kind = match.lastgroup
        if kind == "open":
            depth += 1
            if depth > limit:
                position = match.start()
                line = text.count("\n", 0, position) + 1
                raise JSONTooDeep(limit, line, position - text.rfind("\n", 0, position))
        elif kind == "close":
            depth -= 1


class DuplicateMember(ValueError):
    """An object naming one member twice (``{"a": 1, "a": 2}``). JSON leaves its meaning open and Python keeps the
    last, silently: two layers of a sender's program each adding an answer would be read as one of them."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"the field {name!r} appears twice in one object")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise DuplicateMember(name)
            seen.add(name)
    return found


class LoneSurrogate(ValueError):
    """A JSON string escaping half of a UTF-16 surrogate pair on its own (``"\\ud800"``): not text. Python would
    carry it as a string that nothing can write out as UTF-8 (a response repeating it, a log line, the database)."""

    def __init__(self) -> None:
        super().__init__("a string holds an unpaired surrogate (\\ud800 to \\udfff on its own), which is not text")


def loads(text: str, *, limit: int = MAX_JSON_DEPTH, **options: Any) -> Any:
    """``json.loads(text, **options)`` for a document nested at most ``limit`` levels deep, all of its strings text,
    no object naming a member twice.

    Raises ``JSONTooDeep``, ``DuplicateMember``, ``LoneSurrogate`` or ``json.JSONDecodeError``, all ``ValueError``.
    """
    check_depth(text, limit)
    value = json.loads(text, object_pairs_hook=_object, **options)
    # Only an escape can make a lone surrogate (decoding the bytes refuses one); written out again, it fails.
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise LoneSurrogate() from None
    return value
