"""Bounded cost: rendering, citations, content checks and diffs stay linear in their input.

Issue 8, finding 6: a ~1.9 MB body of "[" took 140 s to show in the admin, "*a" 43 s and
778 MiB to import, "[@r1]" made a 60 MB preview, and a word diff of two long bodies could
take minutes. Bodies are now at most ``MAX_BODY_CHARS``; these tests render the hostile
shapes at that length and check that the output stays linear and the work stays bounded.

Times are in ``make bench``, not here. Work is counted as Python calls (through
cProfile): unlike time, the same input costs the same count on any machine, so the
tests can compare a body with one twice its length and stay deterministic.
"""

from __future__ import annotations

import cProfile
import pstats
import random
from collections.abc import Callable
from typing import Any

import pytest
import textstat

from articles.content_checks import check_revision
from articles.diff import DIFF_STEP_BUDGET, diff_contents, word_diff
from articles.limits import MAX_BODY_CHARS
from articles.models import Revision, Section
from articles.rendering import cited_keys, render_markdown
from tests.conftest import make_user
from tests.factories import article_document, changed


def calls(function: Callable[[], object]) -> int:
    """How many Python calls ``function()`` makes: a deterministic measure of its work."""
    profiler = cProfile.Profile()
    profiler.runcall(function)
    return pstats.Stats(profiler).total_calls


def fill(pattern: str) -> Callable[[int], str]:
    """Bodies of ``pattern`` repeated, cut to exactly the length asked for."""
    return lambda length: (pattern * (length // len(pattern) + 1))[:length]


def halves(opening: str, closing: str) -> Callable[[int], str]:
    """Half openers, half closers: the deepest nesting a body of that length can hold."""
    return lambda length: fill(opening)(length // 2) + fill(closing)(length - length // 2)


def backtick_runs(length: int) -> str:
    runs, size = [], 1
    while sum(map(len, runs)) < length:
        runs.append("e" + "`" * size)
        size += 1
    return "".join(runs)[:length]


REFERENCES = {f"r{n}": n for n in range(1, 201)}
CITATION_SHAPES = {"separate citations", "many citations of many references", "unresolved citations"}
BODIES: dict[str, Callable[[int], str]] = {
    # The three bodies of finding 6.
    "open brackets": fill("["),
    "emphasis": fill("*a"),
    "repeated citation": fill("[@r1]"),
    # Other shapes that make Markdown parsers slow or their output large.
    "image openers": fill("!["),
    "nested brackets": halves("[", "]"),
    "nested images": halves("![", "]"),
    "nested links": halves("[a](", ")"),
    "link openers then closers": halves("[a ", "]"),
    "unclosed links": fill("[a](b"),
    "nested emphasis": halves("*a **a ", " a** a*"),
    "mismatched emphasis": fill("*a_ "),
    "emphasis in links": halves("[*a ", "]"),
    "unclosed backticks": fill("`a"),
    "backtick runs": backtick_runs,
    "deep block quotes": fill("> "),
    "deep lists": fill("- "),
    "deep quoted lists": fill("> - "),
    "deep ordered lists": fill("1. "),
    # Paragraphs and lists in any order (issue 13): each block ends where the next begins.
    "paragraphs between lists": fill("Text [a](b) *c*.\n\n- a\n- b\n\n1. c\n\n"),
    "lists without blank lines": fill("Lead-in:\n- a\n1. b\nText\n"),
    "long line": fill("word "),
    "one long word": fill("a"),
    "many short lines": fill("a\n"),
    "markup to escape": fill('<&"'),
    "entities": fill("&#"),
    "unclosed comments": fill("<!--"),
    "separate citations": fill("[@r1] "),
    "many citations of many references": fill("[" + "; ".join(f"@r{n}" for n in REFERENCES) + "] "),
    "unresolved citations": lambda length: "".join(f"[@x{n}] " for n in range(length))[:length],
}

# Characters of HTML per character of Markdown. Escaping alone gives 6 ('"' is "&quot;");
# a citation is a link with text for screen readers, some 120 characters for "[@r1] ".
MAX_EXPANSION = 6
MAX_CITATION_EXPANSION = 25
# Python calls per character of Markdown. Before the fix "![" cost 195 and "[" 119.
MAX_CALLS_PER_CHAR = 100


@pytest.mark.parametrize("shape", BODIES)
def test_each_hostile_body_renders_at_the_maximum_length_to_linear_output(shape: str) -> None:
    body = BODIES[shape](MAX_BODY_CHARS)
    assert len(body) == MAX_BODY_CHARS
    html = render_markdown(body, REFERENCES)
    expansion = MAX_CITATION_EXPANSION if shape in CITATION_SHAPES else MAX_EXPANSION
    assert len(html) <= expansion * len(body)
    assert len(cited_keys(body)) <= len(body)


@pytest.mark.parametrize("shape", BODIES)
def test_rendering_work_grows_linearly_with_length(shape: str) -> None:
    length = MAX_BODY_CHARS // 8
    render_markdown(BODIES[shape](100), REFERENCES)  # warm the parser's caches
    single = calls(lambda: render_markdown(BODIES[shape](length), REFERENCES))
    double = calls(lambda: render_markdown(BODIES[shape](2 * length), REFERENCES))
    assert double <= 2.2 * single + 1_000, (single, double)
    assert double <= MAX_CALLS_PER_CHAR * 2 * length, double / (2 * length)


def test_a_repeated_citation_renders_once_per_group() -> None:
    html = render_markdown(BODIES["repeated citation"](MAX_BODY_CHARS), REFERENCES)
    assert html.count('class="citation"') == 1
    assert len(html) < 500
    assert cited_keys(BODIES["repeated citation"](MAX_BODY_CHARS)) == ["r1"]


def test_touching_citations_are_one_group_of_distinct_references() -> None:
    html = render_markdown("Seen in trials [@r1][@r2; @r1][@r2].", REFERENCES)
    assert html.count("<sup") == 1
    assert [html.count(f'href="#ref-r{n}"') for n in (1, 2)] == [1, 1]
    # Separate citations stay separate: each sentence keeps its own number.
    html = render_markdown("First [@r1]. Second [@r1].", REFERENCES)
    assert html.count('href="#ref-r1"') == 2


def test_brackets_without_a_closing_bracket_are_text_and_links_still_work() -> None:
    assert render_markdown("[ not a link ![ nor an image") == "<p>[ not a link ![ nor an image</p>\n"
    html = render_markdown("[ then [a link](https://example.org) [@r1]", REFERENCES)
    assert '<a href="https://example.org"' in html
    assert 'href="#ref-r1"' in html
    assert html.startswith("<p>[ then ")


def test_link_text_with_brackets_and_deep_block_quotes_still_render() -> None:
    html = render_markdown("[see [table 1]](https://example.org)")
    assert '<a href="https://example.org" rel="noopener noreferrer">see [table 1]</a>' in html
    html = render_markdown("> " * 15 + "deep")
    assert html.count("<blockquote>") == 15
    assert "deep" in html


# --- Content checks ---------------------------------------------------------------------------


@pytest.fixture
def hostile_draft(db: Any, roles: Any) -> Callable[[str], Revision]:
    from articles.services import article_import

    author = make_user("hostile-author", "Authors")

    def draft(body: str) -> Revision:
        document = changed(article_document(), **{"revision.sections.1.body": body})
        revision = article_import(document=document, actor=author)
        return Revision.objects.with_content().get(pk=revision.pk)

    return draft


def test_an_unresolved_citation_repeated_is_one_error(hostile_draft: Callable[[str], Revision]) -> None:
    revision = hostile_draft("Plain text.")
    Section.objects.filter(revision=revision, key="section-2").update(body=fill("[@nobody] ")(MAX_BODY_CHARS))
    report = check_revision(Revision.objects.with_content().get(pk=revision.pk))
    assert [error.code for error in report.errors] == ["unresolved_citation:nobody"]


@pytest.mark.parametrize(
    "shape", ["one long word", "open brackets", "emphasis", "nested brackets", "lists without blank lines"]
)
def test_content_checks_of_a_hostile_body_cost_linear_work(
    hostile_draft: Callable[[str], Revision], shape: str
) -> None:
    revision = hostile_draft(BODIES[shape](MAX_BODY_CHARS))
    # Load the readability dictionaries; not this text, whose grade textstat would cache.
    textstat.flesch_kincaid_grade("Warm the dictionaries up.")
    # Two parses of each body (its citations, its words) and a reading grade of the words.
    assert calls(lambda: check_revision(revision)) <= 2 * MAX_CALLS_PER_CHAR * MAX_BODY_CHARS


def test_the_reading_grade_of_an_overlong_word_costs_little(hostile_draft: Callable[[str], Revision]) -> None:
    revision = hostile_draft(BODIES["one long word"](MAX_BODY_CHARS))
    textstat.flesch_kincaid_grade("Warm the dictionaries up.")
    # The syllable counter used to hyphenate all 20,000 letters: 600,000 calls.
    assert calls(lambda: check_revision(revision)) <= MAX_BODY_CHARS


# --- Diffs ------------------------------------------------------------------------------------


def prose(length: int, seed: int = 1) -> str:
    """Varied sentences in paragraphs, as a long section reads."""
    rng = random.Random(seed)
    words = [
        "amlodipine",
        "nerve",
        "tingling",
        "feet",
        "hands",
        "doctor",
        "dose",
        "weeks",
        "numbness",
        "blood",
        "pressure",
        "swelling",
    ]
    sentences, number = [], 0
    while sum(map(len, sentences)) < length:
        number += 1
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(6, 16)))
        sentences.append(f"Point {number}: {sentence}." + ("\n\n" if number % 5 == 0 else " "))
    return "".join(sentences)[:length]


def joined(pieces: list[tuple[str, str]], side: str) -> str:
    return "".join(text for op, text in pieces if op in {"equal", side})


# Pairs of texts at the maximum length whose exact word diff is quadratic or worse.
HOSTILE_PAIRS: dict[str, tuple[str, str]] = {
    "alternating words swapped": (fill("a b ")(MAX_BODY_CHARS), fill("b a ")(MAX_BODY_CHARS)),
    "one word repeated, both ends changed": (
        fill("a ")(MAX_BODY_CHARS),
        "x " + fill("a ")(MAX_BODY_CHARS - 4) + " y",
    ),
    "punctuation swapped": (fill("a.")(MAX_BODY_CHARS), fill(".a")(MAX_BODY_CHARS)),
    "lines interleaved": (fill("a\n")(MAX_BODY_CHARS), fill("b\na\n")(MAX_BODY_CHARS)),
    "few words at random": (
        " ".join(random.Random(1).choice("abcdefgh") for _ in range(MAX_BODY_CHARS // 2)),
        " ".join(random.Random(2).choice("abcdefgh") for _ in range(MAX_BODY_CHARS // 2)),
    ),
    "prose rewritten": (prose(MAX_BODY_CHARS, seed=1), prose(MAX_BODY_CHARS, seed=2)),
}
# Three levels (words, sentences, words within sentences), each at most the budget, one
# call per step, plus linear tokenising and joining.
MAX_DIFF_CALLS = 3 * DIFF_STEP_BUDGET + 20 * 2 * MAX_BODY_CHARS


@pytest.mark.parametrize("pair", HOSTILE_PAIRS)
def test_the_diff_of_two_maximum_length_bodies_is_bounded_and_exact(pair: str) -> None:
    old, new = HOSTILE_PAIRS[pair]
    pieces: list[tuple[str, str]] = []
    assert calls(lambda: pieces.extend(word_diff(old, new))) <= MAX_DIFF_CALLS
    assert joined(pieces, "delete") == old
    assert joined(pieces, "insert") == new


def test_the_diff_of_short_hostile_bodies_is_already_bounded() -> None:
    # Small enough to fail fast on the old, unbounded matcher (4 million calls here).
    old, new = fill("a b ")(2_000), fill("b a ")(2_000)
    assert calls(lambda: word_diff(old, new)) <= 20 * (len(old) + len(new)) + DIFF_STEP_BUDGET


def test_an_ordinary_edit_of_a_long_body_is_still_shown_word_by_word() -> None:
    old = prose(MAX_BODY_CHARS)
    new = old.replace("Point 40:", "Point forty:")
    pieces = word_diff(old, new)
    assert [(op, text) for op, text in pieces if op != "equal"] == [("delete", "40"), ("insert", "forty")]


def test_scattered_edits_of_a_long_body_are_shown_word_by_word_within_their_sentences() -> None:
    old = prose(MAX_BODY_CHARS)
    new = old
    for number in (3, 40, 77, 120, 150):
        new = new.replace(f"Point {number}:", f"Point {number} (edited):")
    pieces = word_diff(old, new)
    assert joined(pieces, "delete") == old
    assert joined(pieces, "insert") == new
    assert [text for op, text in pieces if op == "insert"] == [" (edited)"] * 5
    assert [text for op, text in pieces if op == "delete"] == []


def test_a_revision_diff_of_hostile_bodies_completes_and_shows_both_texts() -> None:
    def content(body: str) -> dict[str, Any]:
        return {
            "title": "T",
            "summary": "S",
            "change_summary": "",
            "sections": [{"key": "s", "position": 1, "heading": "H", "body": body}],
        }

    old, new = HOSTILE_PAIRS["alternating words swapped"]
    result = diff_contents(content(old), content(new))
    [field] = result.get_list("sections").rows[0].fields
    assert field.old_text == old
    assert field.new_text == new


# --- The admin pages that showed these bodies ---------------------------------------------------


@pytest.mark.parametrize("shape", ["open brackets", "emphasis", "repeated citation"])
def test_the_admin_pages_of_a_hostile_draft_answer_with_linear_size(
    client: Any, admin_user_account: Any, workflow: Any, shape: str
) -> None:
    live = workflow.live()
    draft = workflow.next_draft(live)
    body = BODIES[shape](MAX_BODY_CHARS)
    Section.objects.filter(revision=draft, key="section-2").update(body=body)
    client.force_login(admin_user_account)
    for page in ("change", "diff", "preview"):
        response = client.get(f"/admin/articles/revision/{draft.pk}/{page}/")
        assert response.status_code == 200, page
        # The body appears a few times (form, diff, rendered); never multiplied.
        assert len(response.content) <= 10 * MAX_BODY_CHARS + 200_000, page
