"""The revision diff: word pieces, row matching by key, moves, tables, HTML."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from articles.diff import ListSpec, diff_contents, render_word_diff, tokenize, word_diff


def _section(key: str, heading: str, body: str = "Body text.") -> dict[str, Any]:
    return {"key": key, "position": 0, "heading": heading, "body": body}


def _numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Positions follow list order, as revision_content gives them.
    for position, row in enumerate(rows, start=1):
        row["position"] = position
    return rows


def _content(**overrides: Any) -> dict[str, Any]:
    content: dict[str, Any] = {
        "title": "Sertraline and nausea",
        "summary": "What to expect in the first weeks.",
        "change_summary": "",
        "sections": _numbered(
            [
                _section("overview", "Overview", "Nausea is common in the first two weeks."),
                _section("dosing", "Dosing", "Take it with food."),
                _section("when-to-call", "When to call", "Call if you cannot keep fluids down."),
            ]
        ),
        "symptom_entries": [
            {
                "key": "nausea",
                "position": 1,
                "symptom": "nausea",
                "section": "overview",
                "text": "Feeling sick, usually mild and short-lived.",
                "frequency_band": "very_common",
                "frequency_source": "SmPC 4.8",
            }
        ],
        "comparison_tables": [
            {
                "key": "ssri-table",
                "position": 1,
                "caption": "Nausea by SSRI",
                "feature_heading": "Feature",
                "section": "overview",
                "columns": [
                    {"key": "sertraline", "position": 1, "heading": "Sertraline"},
                    {"key": "fluoxetine", "position": 2, "heading": "Fluoxetine"},
                ],
                "rows": [
                    {
                        "key": "rate",
                        "position": 1,
                        "feature": "Rate",
                        "cells": {"sertraline": "1 in 4", "fluoxetine": "1 in 5"},
                    },
                    {
                        "key": "onset",
                        "position": 2,
                        "feature": "Onset",
                        "cells": {"sertraline": "Days", "fluoxetine": "Days"},
                    },
                ],
            }
        ],
        "action_steps": [
            {"key": "eat", "position": 1, "title": "Eat first", "body": "Take with a meal.", "section": "dosing"}
        ],
        "callouts": [{"key": "red-flag", "position": 1, "kind": "warning", "title": "Red flags", "body": "Vomiting."}],
        "references": [
            {
                "key": "smpc",
                "position": 1,
                "publication_type": "label",
                "authors": "",
                "title": "Summary of product characteristics",
                "year": 2020,
                "doi": None,
                "needs_verification": False,
            }
        ],
    }
    content.update(overrides)
    return content


def _joined(pieces: list[tuple[str, str]], side: str) -> str:
    return "".join(text for op, text in pieces if op in ("equal", side))


def _row(diff: Any, list_name: str, key: str) -> Any:
    return next(row for row in diff.get_list(list_name).rows if row.key == key)


def test_identical_contents_have_no_changes() -> None:
    diff = diff_contents(_content(), _content())
    assert not diff.has_changes
    assert diff.fields == []
    assert [item.label for item in diff.lists] == [
        "Sections",
        "Symptom entries",
        "Comparison tables",
        "Action steps",
        "Safety callouts",
        "References",
    ]
    assert all(row.marks == ("unchanged",) for item in diff.lists for row in item.rows)
    assert diff.changed_lists == []


def test_another_kind_adds_its_own_lists() -> None:
    """An article's diff knows only an article's lists; another kind registers its own (``ContentKind.diff_lists``)."""
    extra = ListSpec("steps", "Steps", ("text",))
    old = {**_content(), "steps": [{"key": "a", "position": 1, "text": "Rest"}]}
    new = {**_content(), "steps": [{"key": "a", "position": 1, "text": "Rest well"}]}
    assert not diff_contents(old, new).has_changes
    diff = diff_contents(old, new, extra_lists=[extra])
    assert [item.label for item in diff.changed_lists] == ["Steps"]
    assert _row(diff, "steps", "a").marks == ("changed",)


def test_empty_and_missing_lists_are_empty() -> None:
    diff = diff_contents({}, {"sections": [], "title": ""})
    assert not diff.has_changes
    assert all(item.rows == [] for item in diff.lists)


def test_a_word_changed_in_a_section_body() -> None:
    old = _content()
    new = copy.deepcopy(old)
    new["sections"][0]["body"] = "Nausea is common in the first three weeks."
    diff = diff_contents(old, new)

    assert diff.has_changes
    row = _row(diff, "sections", "overview")
    assert row.marks == ("changed",)
    assert row.label == "Overview"
    [body] = row.fields
    assert body.name == "body"
    assert body.label == "Body"
    assert ("delete", "two") in body.pieces
    assert ("insert", "three") in body.pieces
    assert _joined(body.pieces, "insert") == new["sections"][0]["body"]
    assert _joined(body.pieces, "delete") == old["sections"][0]["body"]
    assert body.old_text == old["sections"][0]["body"]
    assert body.new_text == new["sections"][0]["body"]
    assert [r.marks for r in diff.get_list("sections").rows[1:]] == [("unchanged",), ("unchanged",)]


def test_adjacent_replaced_words_read_as_one_replacement() -> None:
    pieces = word_diff("the cat sat", "a dog sat")
    assert pieces == [("delete", "the cat"), ("insert", "a dog"), ("equal", " sat")]


def test_top_level_field_change() -> None:
    diff = diff_contents(_content(), _content(title="Sertraline and feeling sick"))
    [title] = diff.fields
    assert title.name == "title"
    assert title.label == "Title"
    assert _joined(title.pieces, "insert") == "Sertraline and feeling sick"
    assert _joined(title.pieces, "delete") == "Sertraline and nausea"


def test_row_added_removed_and_changed() -> None:
    old = _content()
    new = copy.deepcopy(old)
    new["sections"] = _numbered(
        [
            new["sections"][0],
            _section("missed-dose", "Missed dose", "Take it when you remember."),
            # "dosing" removed
            {**new["sections"][2], "heading": "When to get help"},
        ]
    )
    diff = diff_contents(old, new)
    sections = diff.get_list("sections")

    # Removed rows sit after their old predecessor.
    assert [row.key for row in sections.rows] == ["overview", "dosing", "missed-dose", "when-to-call"]
    assert [row.marks for row in sections.rows] == [("unchanged",), ("removed",), ("added",), ("changed",)]

    added = _row(diff, "sections", "missed-dose")
    assert added.label == "Missed dose"
    assert added.old_position is None
    assert added.new_position == 2
    assert {f.name: f.pieces for f in added.fields} == {
        "heading": [("insert", "Missed dose")],
        "body": [("insert", "Take it when you remember.")],
    }

    removed = _row(diff, "sections", "dosing")
    assert removed.label == "Dosing"
    assert {f.name for f in removed.fields} == {"heading", "body"}
    assert all(op == "delete" for f in removed.fields for op, _ in f.pieces)

    changed = _row(diff, "sections", "when-to-call")
    assert changed.label == "When to get help"
    assert [f.name for f in changed.fields] == ["heading"]
    assert not changed.moved
    assert sections.count("added") == sections.count("removed") == sections.count("changed") == 1


def test_removed_first_row_is_shown_first() -> None:
    old = _content()
    new = copy.deepcopy(old)
    new["sections"] = _numbered(new["sections"][1:])
    keys = [row.key for row in diff_contents(old, new).get_list("sections").rows]
    assert keys == ["overview", "dosing", "when-to-call"]


def test_swapping_two_sections_marks_a_move() -> None:
    old = _content()
    new = copy.deepcopy(old)
    first, second, third = new["sections"]
    new["sections"] = _numbered([second, first, third])
    sections = diff_contents(old, new).get_list("sections")

    assert [row.key for row in sections.rows] == ["dosing", "overview", "when-to-call"]
    moved = [row.key for row in sections.rows if row.moved]
    assert len(moved) == 1
    assert moved[0] in {"overview", "dosing"}
    assert not any(row.changed for row in sections.rows)
    assert _row(diff_contents(old, new), "sections", "when-to-call").unchanged


def test_moving_a_row_to_the_end() -> None:
    old = _content()
    new = copy.deepcopy(old)
    first, second, third = new["sections"]
    new["sections"] = _numbered([second, third, first])
    sections = diff_contents(old, new).get_list("sections")
    assert [row.key for row in sections.rows if row.moved] == ["overview"]


def test_changed_and_moved() -> None:
    old = _content()
    new = copy.deepcopy(old)
    first, second, third = new["sections"]
    new["sections"] = _numbered([second, third, {**first, "body": "Nausea is rare."}])
    row = _row(diff_contents(old, new), "sections", "overview")
    assert row.changed
    assert row.moved
    assert row.marks == ("changed", "moved")
    assert row.status == "changed moved"


def test_inserting_a_first_row_moves_nothing() -> None:
    old = _content()
    new = copy.deepcopy(old)
    new["sections"] = _numbered([_section("intro", "Introduction"), *new["sections"]])
    diff = diff_contents(old, new)
    sections = diff.get_list("sections")

    assert [row.marks for row in sections.rows] == [("added",), ("unchanged",), ("unchanged",), ("unchanged",)]
    # Positions shifted, which is not a change in itself.
    overview = _row(diff, "sections", "overview")
    assert (overview.old_position, overview.new_position) == (1, 2)
    assert overview.fields == []


def test_table_cell_changed_and_column_added() -> None:
    old = _content()
    new = copy.deepcopy(old)
    table = new["comparison_tables"][0]
    table["columns"].append({"key": "citalopram", "position": 3, "heading": "Citalopram"})
    table["rows"][0]["cells"]["sertraline"] = "1 in 3"
    table["rows"][0]["cells"]["citalopram"] = "1 in 5"
    table["rows"][1]["cells"]["citalopram"] = ""
    diff = diff_contents(old, new)

    table_diff = _row(diff, "comparison_tables", "ssri-table")
    assert table_diff.label == "Nausea by SSRI"
    assert table_diff.marks == ("changed",)
    assert table_diff.fields == []
    columns, rows = table_diff.children
    assert (columns.label, rows.label) == ("Columns", "Rows")

    assert [(c.key, c.marks) for c in columns.rows] == [
        ("sertraline", ("unchanged",)),
        ("fluoxetine", ("unchanged",)),
        ("citalopram", ("added",)),
    ]
    rate, onset = rows.rows
    assert rate.label == "Rate"
    assert rate.marks == ("changed",)
    cells = {f.name: f for f in rate.fields}
    assert set(cells) == {"cells.sertraline", "cells.citalopram"}
    assert cells["cells.sertraline"].label == "Sertraline"
    assert _joined(cells["cells.sertraline"].pieces, "delete") == "1 in 4"
    assert _joined(cells["cells.sertraline"].pieces, "insert") == "1 in 3"
    assert cells["cells.citalopram"].pieces == [("insert", "1 in 5")]
    # An empty cell in a new column is no change.
    assert onset.unchanged


def test_table_removed_column_and_caption() -> None:
    old = _content()
    new = copy.deepcopy(old)
    table = new["comparison_tables"][0]
    table["caption"] = "Nausea with SSRIs"
    del table["columns"][1]
    for row in table["rows"]:
        del row["cells"]["fluoxetine"]
    table_diff = _row(diff_contents(old, new), "comparison_tables", "ssri-table")

    assert [f.name for f in table_diff.fields] == ["caption"]
    columns, rows = table_diff.children
    assert _row_marks(columns) == {"sertraline": ("unchanged",), "fluoxetine": ("removed",)}
    rate = rows.rows[0]
    assert [(f.label, f.pieces) for f in rate.fields] == [("Fluoxetine", [("delete", "1 in 5")])]


def _row_marks(list_diff: Any) -> dict[str, tuple[str, ...]]:
    return {row.key: row.marks for row in list_diff.rows}


def test_added_table_lists_all_its_columns_and_rows() -> None:
    old = _content(comparison_tables=[])
    diff = diff_contents(old, _content())
    table_diff = _row(diff, "comparison_tables", "ssri-table")
    assert table_diff.added
    assert not table_diff.changed
    columns, rows = table_diff.children
    assert all(row.added for row in columns.rows + rows.rows)
    assert {f.label for f in rows.rows[0].fields} == {"Feature", "Sertraline", "Fluoxetine"}


def test_lists_missing_on_one_side() -> None:
    old = _content()
    del old["callouts"]
    diff = diff_contents(old, _content())
    callouts = diff.get_list("callouts")
    assert callouts.label == "Safety callouts"
    assert [(row.label, row.marks) for row in callouts.rows] == [("Red flags", ("added",))]


def test_non_string_values_replace_whole() -> None:
    old = _content()
    new = copy.deepcopy(old)
    new["references"][0].update(year=2021, doi="10.1000/xyz", needs_verification=True)
    reference = _row(diff_contents(old, new), "references", "smpc")
    assert reference.label == "smpc"
    fields = {f.name: f for f in reference.fields}
    assert fields["year"].pieces == [("delete", "2020"), ("insert", "2021")]
    assert (fields["year"].old, fields["year"].new) == (2020, 2021)
    assert fields["doi"].label == "DOI"
    assert fields["doi"].pieces == [("insert", "10.1000/xyz")]
    assert fields["needs_verification"].pieces == [("delete", "no"), ("insert", "yes")]


def test_none_and_empty_string_are_the_same() -> None:
    old = _content()
    new = copy.deepcopy(old)
    new["references"][0]["doi"] = ""
    assert not diff_contents(old, new).has_changes


def test_section_reference_shows_headings() -> None:
    old = _content()
    new = copy.deepcopy(old)
    new["action_steps"][0]["section"] = "when-to-call"
    step = _row(diff_contents(old, new), "action_steps", "eat")
    assert step.label == "Eat first"
    [section] = step.fields
    assert (section.old, section.new) == ("dosing", "when-to-call")
    assert section.pieces == [("delete", "Dosing"), ("insert", "When to call")]


def test_symptom_entry_label_is_truncated_text() -> None:
    old = _content()
    new = copy.deepcopy(old)
    new["symptom_entries"][0]["text"] = "Feeling sick " * 20
    entry = _row(diff_contents(old, new), "symptom_entries", "nausea")
    assert entry.label.startswith("Feeling sick")
    assert entry.label.endswith("…")
    assert len(entry.label) <= 60


def test_duplicate_keys_are_refused() -> None:
    content = _content()
    content["sections"].append(_section("overview", "Again"))
    with pytest.raises(ValueError, match="share the key 'overview'"):
        diff_contents(_content(), content)


def test_render_word_diff_escapes_and_marks_changes() -> None:
    pieces = word_diff("Take one tablet & rest", "Take <script>alert(1)</script> two tablets & rest")
    html = render_word_diff(pieces)
    assert "<script>" not in html
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<del>one tablet</del>" in html
    assert html.startswith("Take ")
    assert html.endswith(" &amp; rest")


def test_render_word_diff_exact_markup() -> None:
    html = render_word_diff([("equal", "a & "), ("delete", "<i>"), ("insert", '"b"')])
    assert html == "a &amp; <del>&lt;i&gt;</del><ins>&quot;b&quot;</ins>"
    assert hasattr(html, "__html__")


def test_render_word_diff_rejects_unknown_operations() -> None:
    with pytest.raises(ValueError, match="Unknown diff operation"):
        render_word_diff([("replace", "x")])  # type: ignore[list-item]


def test_field_diff_html() -> None:
    old = _content()
    diff = diff_contents(old, _content(summary="What to expect <soon>."))
    assert "&lt;soon&gt;" in diff.fields[0].html


def test_tokens_keep_every_character() -> None:
    text = "Take 50\u00a0mg — twice\tdaily.\n\n* e.g. 1,000"
    assert "".join(tokenize(text)) == text


words = st.lists(st.sampled_from(["take", "one", "two", "tablet", "daily", "not", ",", "."]), max_size=30)
separators = st.sampled_from([" ", "  ", "\n", "\t", ""])


@given(old=words, new=words, sep=separators)
def test_pieces_reproduce_both_word_lists(old: list[str], new: list[str], sep: str) -> None:
    old_text, new_text = sep.join(old), " ".join(new)
    pieces = word_diff(old_text, new_text)
    assert _joined(pieces, "insert") == new_text
    assert _joined(pieces, "delete") == old_text
    assert all(text for _, text in pieces)
    assert all(op in {"equal", "insert", "delete"} for op, _ in pieces)
    # Neighbouring pieces never share an operation.
    assert all(a[0] != b[0] for a, b in itertools.pairwise(pieces))


@given(old=st.text(), new=st.text())
def test_pieces_reproduce_any_text(old: str, new: str) -> None:
    pieces = word_diff(old, new)
    assert _joined(pieces, "insert") == new
    assert _joined(pieces, "delete") == old
    if old == new:
        assert all(op == "equal" for op, _ in pieces)


def test_deleted_words_keep_their_space() -> None:
    pieces = word_diff("take one two three", "take three")
    assert _joined(pieces, "delete") == "take one two three"
    assert _joined(pieces, "insert") == "take three"
    assert all(op != "insert" for op, _ in pieces)


def test_edits_at_both_ends_of_a_long_text() -> None:
    body = " ".join(f"word{n}" for n in range(500))
    changed = "Start " + body.replace("word250", "middle") + " end."
    pieces = word_diff(body, changed)
    assert _joined(pieces, "delete") == body
    assert _joined(pieces, "insert") == changed
    assert [text for op, text in pieces if op == "insert"] == ["Start ", "middle", " end."]
    assert [text for op, text in pieces if op == "delete"] == ["word250"]
