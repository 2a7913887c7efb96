"""What changed between two revisions, for the clinical reviewer.

Works on the plain dictionaries built by
``articles.interchange.export.revision_content`` and never touches the
database, so it can diff a stored revision against an uploaded document as
easily as against another stored revision.

Rows are matched by their stable ``key``: copying a revision into a draft keeps
the keys, so an edited row is told apart from a removed row plus a new one.
Text is diffed word by word, keeping every whitespace character, so the pieces
of a diff always join back to exactly the old and the new text; nothing a
reviewer must see can be lost to normalisation.

The cost of a text diff is bounded, whatever the texts: difflib's matcher
looks at every pair of equal words in the span it searches, which is cheap for
prose but quadratic or worse for long texts made of a few repeated words. Each
search is charged before it starts, against ``DIFF_STEP_BUDGET`` steps per
level, and a level that would overrun falls back to the next, coarser one:

1. words, exactly as described above (every ordinary edit stays here);
2. sentences and lines; then words again inside each changed sentence or line,
   while the budget lasts, the rest shown as whole sentences or lines;
3. the whole old text struck out and the whole new text inserted.

Every level's pieces join back to both texts, so only the detail of the marks
is lost, never a change.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any, Literal

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

Op = Literal["equal", "insert", "delete"]
Piece = tuple[Op, str]

TEXT_FIELDS: tuple[str, ...] = ("title", "topic", "summary", "change_summary")

# Every character falls into exactly one alternative, so the tokens of a text
# always join back to the text itself.
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")

# Splits after a sentence end or a line break.
_CHUNK_END = re.compile(r"(?<=[.!?\n])")

# Matcher steps (pairs of equal tokens looked at) allowed per level of a text diff:
# some tenths of a second in the worst case; ordinary edits take a tiny fraction.
DIFF_STEP_BUDGET = 500_000

# Neither content nor a change of content: position is shown through "moved".
_ROW_IDENTITY = frozenset({"key", "position"})

_FIELD_LABELS = {
    "doi": "DOI",
    "pmid": "PMID",
    "url": "URL",
    "container_title": "Journal or book",
}

_LABEL_LENGTH = 80


# --------------------------------------------------------------------------
# Word diffs


def tokenize(text: str) -> list[str]:
    """Split text into words, runs of whitespace and single punctuation marks."""
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> list[Piece]:
    """Word-level diff of two texts as ``(op, text)`` pieces, at bounded cost.

    Joining the "equal" and "delete" pieces gives ``old`` exactly; joining the
    "equal" and "insert" pieces gives ``new`` exactly. Texts too costly to
    match word by word get a coarser diff (see the module docstring).
    """
    try:
        return _tidy(_matched(tokenize(old), tokenize(new), _Budget(DIFF_STEP_BUDGET)))
    except _OverBudget:
        pass
    try:
        chunks = _matched(_chunks(old), _chunks(new), _Budget(DIFF_STEP_BUDGET))
    except _OverBudget:
        return _whole_value(old, new)
    return _tidy(_refined(chunks, _Budget(DIFF_STEP_BUDGET)))


def _chunks(text: str) -> list[str]:
    """The text cut after each sentence end and line break: the units of the coarser level."""
    return [chunk for chunk in _CHUNK_END.split(text) if chunk]


class _OverBudget(Exception):
    """The exact diff would take more matcher steps than are left."""


class _Budget:
    def __init__(self, steps: int) -> None:
        self.steps = steps

    def spend(self, steps: int) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise _OverBudget


class _BudgetedMatcher(SequenceMatcher):
    """difflib's matcher, charging each search for a longest match before it starts.

    A search over ``a[alo:ahi]`` looks at most at every occurrence in ``b`` of
    each token it reads, so its cost is known in advance from prefix sums, and
    a search that would overrun the budget is never begun.
    """

    def __init__(self, a: Sequence[str], b: Sequence[str], budget: _Budget) -> None:
        # autojunk would discard frequent tokens (spaces, "the") in long texts and
        # produce a much noisier diff; the budget bounds the cost instead.
        super().__init__(None, a, b, autojunk=False)
        self._budget = budget
        self._pairs = [0]
        for token in a:
            self._pairs.append(self._pairs[-1] + len(self.b2j.get(token, ())))

    def find_longest_match(self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None) -> Any:
        ahi = len(self.a) if ahi is None else ahi
        self._budget.spend(self._pairs[ahi] - self._pairs[alo] + (ahi - alo) + 1)
        return super().find_longest_match(alo, ahi, blo, bhi)


def _matched(a: Sequence[str], b: Sequence[str], budget: _Budget) -> list[Piece]:
    """Raw pieces for two token lists; raises ``_OverBudget`` rather than overrun ``budget``."""
    # A typical edit touches one spot of a long body; matching only the middle
    # keeps the matcher's work small.
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a_middle, b_middle = a[start : len(a) - end], b[start : len(b) - end]

    raw: list[Piece] = [("equal", "".join(a[:start]))]
    matcher = _BudgetedMatcher(a_middle, b_middle, budget)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            raw.append(("equal", "".join(a_middle[i1:i2])))
            continue
        if i2 > i1:
            raw.append(("delete", "".join(a_middle[i1:i2])))
        if j2 > j1:
            raw.append(("insert", "".join(b_middle[j1:j2])))
    raw.append(("equal", "".join(a[len(a) - end :])))
    return raw


def _refined(raw: list[Piece], budget: _Budget) -> list[Piece]:
    """Word diffs inside each changed run of ``raw`` while ``budget`` lasts; whole runs after that."""
    refined: list[Piece] = []
    run: dict[str, list[str]] = {"delete": [], "insert": []}

    def flush() -> None:
        old, new = "".join(run["delete"]), "".join(run["insert"])
        run["delete"].clear()
        run["insert"].clear()
        if not old and not new:
            return
        try:
            refined.extend(_matched(tokenize(old), tokenize(new), budget))
        except _OverBudget:
            refined.extend(_whole_value(old, new))

    for op, text in raw:
        if op == "equal":
            flush()
            refined.append((op, text))
        else:
            run[op].append(text)
    flush()
    return refined


def _tidy(raw: list[Piece]) -> list[Piece]:
    """Merge fragmented changes so "the cat" -> "a dog" reads as one replacement.

    Without this, the shared space between two replaced words is an "equal"
    piece and the reviewer sees del/ins/space/del/ins. A space is only folded
    in where the changes around it replace text; two deleted words keep their
    space. Within a run of changes all deletions come before all insertions;
    each side keeps its own order, so both texts are still reproduced exactly.
    """
    pieces = [piece for piece in raw if piece[1]]
    result: list[Piece] = []
    run: list[Piece] = []

    def flush() -> None:
        for side in ("delete", "insert"):
            text = "".join(text for op, text in run if op == side)
            if text:
                result.append((side, text))
        run.clear()

    for index, (op, text) in enumerate(pieces):
        if op != "equal":
            run.append((op, text))
            continue
        if text.isspace() and run:
            following = set()
            after = index + 1
            while after < len(pieces) and pieces[after][0] != "equal":
                following.add(pieces[after][0])
                after += 1
            if following and {op for op, _ in run} | following == {"delete", "insert"}:
                run.extend([("delete", text), ("insert", text)])
                continue
        flush()
        if result and result[-1][0] == "equal":
            result[-1] = ("equal", result[-1][1] + text)
        else:
            result.append(("equal", text))
    flush()
    return result


def _whole_value(old: str, new: str) -> list[Piece]:
    """Old value struck out and new value inserted, without splitting either."""
    pieces: list[Piece] = []
    if old:
        pieces.append(("delete", old))
    if new:
        pieces.append(("insert", new))
    return pieces


def render_word_diff(pieces: Iterable[Piece]) -> SafeString:
    """HTML for a word diff: insertions in ``<ins>``, deletions in ``<del>``.

    All text is escaped, including text that arrives already marked safe:
    revision content is user input and must never reach the page as markup.
    Whitespace is kept as is; style the container with ``white-space:
    pre-wrap`` to show line breaks.
    """
    parts: list[SafeString] = []
    for op, text in pieces:
        if op == "equal":
            parts.append(escape(text))
        elif op == "insert":
            parts.append(format_html("<ins>{}</ins>", escape(text)))
        elif op == "delete":
            parts.append(format_html("<del>{}</del>", escape(text)))
        else:
            raise ValueError(f"Unknown diff operation {op!r}.")
    return format_html_join("", "{}", ((part,) for part in parts))


# --------------------------------------------------------------------------
# Results


@dataclass
class FieldDiff:
    """One field whose value differs.

    ``old`` and ``new`` are the raw values (``None`` where the field or the
    row is absent); ``pieces`` is the word diff of their display text.
    """

    name: str
    label: str
    old: Any
    new: Any
    pieces: list[Piece]

    @property
    def html(self) -> SafeString:
        """The word diff rendered with ``<ins>``/``<del>``, safe to print."""
        return render_word_diff(self.pieces)

    @property
    def old_text(self) -> str:
        """The old value as displayed."""
        return "".join(text for op, text in self.pieces if op != "insert")

    @property
    def new_text(self) -> str:
        """The new value as displayed."""
        return "".join(text for op, text in self.pieces if op != "delete")


@dataclass
class RowDiff:
    """One row of a list, matched across the two revisions by key.

    ``fields`` lists only fields that differ (position excluded). For an added
    or removed row it lists every non-empty field, as a pure insertion or
    deletion, so the reviewer sees the whole row. ``children`` holds nested
    lists, e.g. a comparison table's columns and rows.
    """

    key: str
    label: str
    added: bool = False
    removed: bool = False
    changed: bool = False
    moved: bool = False
    old_position: int | None = None
    new_position: int | None = None
    fields: list[FieldDiff] = field(default_factory=list)
    children: list[ListDiff] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        """Present in both revisions, same content, same relative order."""
        return not self.has_changes

    @property
    def has_changes(self) -> bool:
        """Whether the reviewer has anything to look at in this row."""
        return self.added or self.removed or self.changed or self.moved

    @property
    def marks(self) -> tuple[str, ...]:
        """Status words, e.g. ``("changed", "moved")``; handy as CSS classes."""
        if self.added:
            return ("added",)
        if self.removed:
            return ("removed",)
        marks = tuple(mark for mark in ("changed", "moved") if getattr(self, mark))
        return marks or ("unchanged",)

    @property
    def status(self) -> str:
        """The marks joined by a space: "added", "changed moved", "unchanged"..."""
        return " ".join(self.marks)


@dataclass
class ListDiff:
    """One list of rows (sections, references...), in display order.

    Display order is the new revision's order, with each removed row placed
    after the row that preceded it in the old revision.
    """

    name: str
    label: str
    rows: list[RowDiff] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        """Whether any row was added, removed, changed or moved."""
        return any(row.has_changes for row in self.rows)

    @property
    def changed_rows(self) -> list[RowDiff]:
        """Only the rows with something to review."""
        return [row for row in self.rows if row.has_changes]

    def count(self, mark: str) -> int:
        """How many rows carry ``mark`` ("added", "removed", "changed", "moved", "unchanged")."""
        return sum(1 for row in self.rows if mark in row.marks)


@dataclass
class RevisionDiff:
    """Everything that differs between two revisions' contents.

    ``fields`` holds the changed top-level text fields; ``lists`` holds one
    ``ListDiff`` per content list, always all of them, in reading order.
    """

    fields: list[FieldDiff] = field(default_factory=list)
    lists: list[ListDiff] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        """Whether the two contents differ in anything but row position numbers."""
        return bool(self.fields) or any(item.has_changes for item in self.lists)

    @property
    def changed_lists(self) -> list[ListDiff]:
        """Only the lists with something to review."""
        return [item for item in self.lists if item.has_changes]

    def get_list(self, name: str) -> ListDiff:
        """The list diff named ``name``, e.g. ``"sections"``."""
        for item in self.lists:
            if item.name == name:
                return item
        raise KeyError(name)


# --------------------------------------------------------------------------
# The shape of the content


@dataclass(frozen=True)
class ListSpec:
    """A list of keyed rows in a revision's content; other kinds add theirs (``ContentKind.diff_lists``)."""

    name: str
    label: str
    # First non-empty field gives the row's label; the key is the fallback.
    label_fields: tuple[str, ...]
    label_length: int = _LABEL_LENGTH
    children: tuple[ListSpec, ...] = ()


_TABLE_COLUMNS = ListSpec("columns", "Columns", ("heading",))
_TABLE_ROWS = ListSpec("rows", "Rows", ("feature",))

LISTS: tuple[ListSpec, ...] = (
    ListSpec("sections", "Sections", ("heading",)),
    ListSpec("symptom_entries", "Symptom entries", ("text", "symptom"), label_length=60),
    ListSpec("comparison_tables", "Comparison tables", ("caption",), children=(_TABLE_COLUMNS, _TABLE_ROWS)),
    ListSpec("action_steps", "Action steps", ("title",)),
    ListSpec("callouts", "Safety callouts", ("title", "kind")),
    ListSpec("references", "References", ("key",)),
)


@dataclass(frozen=True)
class _Context:
    """Lookups for showing keys as the names a reviewer knows them by."""

    old_sections: Mapping[str, str]
    new_sections: Mapping[str, str]
    old_columns: Mapping[str, str] = field(default_factory=dict)
    new_columns: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Diffing


def diff_contents(
    old: Mapping[str, Any], new: Mapping[str, Any], *, extra_lists: Sequence[ListSpec] = ()
) -> RevisionDiff:
    """Compare two revision contents as built by ``revision_content``.

    The lists compared are an article's own (``LISTS``) and ``extra_lists``, the
    sections another kind of content registers (``ContentKind.diff_lists``).

    Lists missing from either side count as empty. Rows are matched by key
    and taken in list order (``revision_content`` gives position order).
    Raises ``ValueError`` if a list holds a row without a key or two rows with
    the same key, since matching such rows would silently hide changes.
    """
    ctx = _Context(
        old_sections=_headings(old.get("sections") or []),
        new_sections=_headings(new.get("sections") or []),
    )
    fields = [
        diff
        for name in TEXT_FIELDS
        if (diff := _field_diff(name, _field_label(name), old.get(name), new.get(name), ctx)) is not None
    ]
    lists = [
        _diff_list(spec, old.get(spec.name) or [], new.get(spec.name) or [], ctx) for spec in (*LISTS, *extra_lists)
    ]
    return RevisionDiff(fields=fields, lists=lists)


def _diff_list(
    spec: ListSpec,
    old_rows: Sequence[Mapping[str, Any]],
    new_rows: Sequence[Mapping[str, Any]],
    ctx: _Context,
) -> ListDiff:
    old_by_key = _by_key(spec, old_rows)
    new_by_key = _by_key(spec, new_rows)
    moved = _moved_keys(
        [key for key in old_by_key if key in new_by_key],
        [key for key in new_by_key if key in old_by_key],
    )
    diffs: dict[str, RowDiff] = {}
    for key, row in new_by_key.items():
        diffs[key] = _diff_row(spec, key, old_by_key.get(key), row, ctx, moved=key in moved)
    for key, row in old_by_key.items():
        if key not in new_by_key:
            diffs[key] = _diff_row(spec, key, row, None, ctx, moved=False)
    order = _display_order(list(old_by_key), list(new_by_key))
    return ListDiff(name=spec.name, label=spec.label, rows=[diffs[key] for key in order])


def _by_key(spec: ListSpec, rows: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    by_key: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        key = row.get("key")
        if key is None or key == "":
            raise ValueError(f"A row in {spec.name!r} has no key.")
        key = str(key)
        if key in by_key:
            raise ValueError(f"Two rows in {spec.name!r} share the key {key!r}.")
        by_key[key] = row
    return by_key


def _moved_keys(common_old: list[str], common_new: list[str]) -> set[str]:
    """Keys of common rows whose order relative to the other common rows changed.

    Only rows present on both sides take part, so inserting or removing a row
    (which renumbers every position after it) moves nothing. The matching
    blocks are a longest run of rows left in order; the rest are the few rows
    a reviewer would describe as moved: swapping two rows marks one of them.
    """
    matcher = SequenceMatcher(None, common_old, common_new, autojunk=False)
    in_order: set[str] = set()
    for block in matcher.get_matching_blocks():
        in_order.update(common_new[block.b : block.b + block.size])
    return set(common_new) - in_order


def _display_order(old_keys: list[str], new_keys: list[str]) -> list[str]:
    """New order, each removed row after its nearest surviving predecessor in the old order."""
    surviving = set(new_keys)
    removed_after: defaultdict[str | None, list[str]] = defaultdict(list)
    anchor: str | None = None
    for key in old_keys:
        if key in surviving:
            anchor = key
        else:
            removed_after[anchor].append(key)
    order = list(removed_after[None])
    for key in new_keys:
        order.append(key)
        order.extend(removed_after.get(key, ()))
    return order


def _diff_row(
    spec: ListSpec,
    key: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    ctx: _Context,
    *,
    moved: bool,
) -> RowDiff:
    old_row: Mapping[str, Any] = old or {}
    new_row: Mapping[str, Any] = new or {}
    nested = {child.name for child in spec.children} | {"cells"}

    fields: list[FieldDiff] = []
    for name in _ordered_union(new_row, old_row):
        if name in _ROW_IDENTITY or name in nested:
            continue
        diff = _field_diff(name, _field_label(name), old_row.get(name), new_row.get(name), ctx)
        if diff is not None:
            fields.append(diff)
    if "cells" in old_row or "cells" in new_row:
        fields.extend(_cell_diffs(old_row.get("cells") or {}, new_row.get("cells") or {}, ctx))

    child_ctx = replace(
        ctx,
        old_columns=_headings(old_row.get("columns") or []),
        new_columns=_headings(new_row.get("columns") or []),
    )
    children = [
        _diff_list(child, old_row.get(child.name) or [], new_row.get(child.name) or [], child_ctx)
        for child in spec.children
    ]

    both = old is not None and new is not None
    return RowDiff(
        key=key,
        label=_row_label(spec, new if new is not None else old_row, key),
        added=old is None,
        removed=new is None,
        changed=both and (bool(fields) or any(child.has_changes for child in children)),
        moved=both and moved,
        old_position=old_row.get("position"),
        new_position=new_row.get("position"),
        fields=fields,
        children=children,
    )


def _cell_diffs(old_cells: Mapping[str, Any], new_cells: Mapping[str, Any], ctx: _Context) -> list[FieldDiff]:
    """Cells compared column by column; a missing cell counts as empty."""
    column_keys = _ordered_union(ctx.new_columns, ctx.old_columns, new_cells, old_cells)
    diffs = []
    for column in column_keys:
        label = ctx.new_columns.get(column) or ctx.old_columns.get(column) or column
        diff = _field_diff(f"cells.{column}", label, old_cells.get(column), new_cells.get(column), ctx)
        if diff is not None:
            diffs.append(diff)
    return diffs


def _field_diff(name: str, label: str, old: Any, new: Any, ctx: _Context) -> FieldDiff | None:
    old_text, new_text = _as_text(old), _as_text(new)
    if old_text == new_text:
        return None
    if name == "section":
        # The value is a section key; the reviewer knows sections by heading,
        # and a different heading means a different section, not an edit.
        pieces = _whole_value(_section_name(old, ctx.old_sections), _section_name(new, ctx.new_sections))
    elif _is_text(old) and _is_text(new):
        pieces = word_diff(old_text, new_text)
    else:
        # 2019 -> 2020 or True -> False is one replaced value, not edited digits.
        pieces = _whole_value(old_text, new_text)
    return FieldDiff(name=name, label=label, old=old, new=new, pieces=pieces)


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _section_name(key: Any, headings: Mapping[str, str]) -> str:
    if key is None or key == "":
        return ""
    return headings.get(str(key)) or str(key)


def _headings(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {
        str(row["key"]): _as_text(row.get("heading")) or str(row["key"])
        for row in rows
        if row.get("key") not in (None, "")
    }


def _row_label(spec: ListSpec, row: Mapping[str, Any], key: str) -> str:
    for name in spec.label_fields:
        text = " ".join(_as_text(row.get(name)).split())
        if text:
            return _truncate(text, spec.label_length)
    return key


def _truncate(text: str, length: int) -> str:
    if len(text) <= length:
        return text
    return text[: length - 1].rstrip() + "…"


def _field_label(name: str) -> str:
    return _FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def _ordered_union(*keyed: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for keys in keyed:
        for key in keys:
            seen.setdefault(str(key), None)
    return list(seen)
