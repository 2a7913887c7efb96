"""Markdown for article content: CommonMark, inline citations, and sanitising.

Authors write Markdown and cite references inline as ``[@key]`` (or
``[@first; @second]``), the Pandoc citation syntax. Rendering turns each
marker into numbered links to the reference list; ``nh3`` then removes
anything outside a small allow-list, so a ``<script>``, an ``onerror=``
attribute or a ``javascript:`` link in content never reaches a reader.

Cost is linear in the length of the text, whatever its shape (the bodies
that used to be slow are in ``tests/articles/test_bounded_cost.py``, their
times in ``make bench``):

- A ``[`` looks for its ``]`` through at most ``MAX_LABEL_NESTING`` levels of
  further ``[``, and a ``[`` with no ``]`` anywhere after it is text at once:
  each unmatched ``[`` costs a small constant, not a search that grows with
  markdown-it's general nesting limit (20 levels, which stays for block
  quotes and lists, since deeper content would be dropped, not shown as text).
- Citation markers that touch (``[@a][@a][@b]``) are one group, and a group
  names each reference once: a repeated key costs nothing more to render.

Rendering is memoised per process by what it depends on, the text and the
citation numbers (``CitationNumbers``): a page or payload rendered again (a
new day, a review, a vocabulary change, an evicted cache entry) finds the
HTML of its unchanged bodies instead of parsing and sanitising them again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import pairwise

import nh3
from django.utils.html import escape
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

CITATION_RE = re.compile(r"\[@([\w-]+(?:\s*;\s*@[\w-]+)*)\]")
_KEY_SPLIT_RE = re.compile(r"\s*;\s*@")
# How far a "[" looks into further "[" for its "]": each level costs a pass of every
# inline rule at every unmatched "[". CommonMark's preset allows 20 levels of nesting
# (its maxNesting) for this as for everything else; real link text nests one or two.
MAX_LABEL_NESTING = 4

ALLOWED_TAGS = {
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "s", "sub", "sup", "small",
    "ul", "ol", "li", "blockquote", "code", "pre", "a", "span", "abbr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "abbr": {"title"},
    "ol": {"start"},
    "span": {"class"},
    "sup": {"class"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Rendered texts kept per process: enough for the bodies of the pages and payloads being
# served. Texts longer than MEMO_MAX_CHARS (rare: bodies are a few hundred characters to a
# few kilobytes) are rendered each time, so the memo stays within a few tens of megabytes.
RENDERED_CACHE_SIZE = 2048
MEMO_MAX_CHARS = 4_000


class CitationNumbers(dict[str, int]):
    """Reference key → number, hashable so rendered Markdown can be memoised by its inputs.

    Built once per revision (``presentation.citation_numbers``) and never
    changed after, so its hash is computed once for all the texts it numbers.
    """

    _hash: int | None = None

    def __hash__(self) -> int:  # type: ignore[override]
        if self._hash is None:
            self._hash = hash(frozenset(self.items()))
        return self._hash


NO_CITATIONS = CitationNumbers()


def _bracket_rule(state: StateInline, silent: bool) -> bool:
    """Settle at once a ``[`` (or the ``!`` of ``![``) that cannot start a link worth finding.

    A ``[`` with no ``]`` anywhere after it is text: neither a link, an image
    nor a citation can close, but the link and image rules would each look
    ahead for one. And a ``[`` met ``MAX_LABEL_NESTING`` levels deep while
    looking ahead for the end of link text ends that look-ahead, as
    markdown-it's own nesting limit does, only sooner.
    """
    marker = state.src[state.pos]
    if marker == "!":
        if not state.src.startswith("![", state.pos):
            return False
    elif marker != "[":
        return False
    if silent and state.level > MAX_LABEL_NESTING:
        state.pos = state.posMax
        return True
    if state.html_terminator_last("]") > state.pos:
        return False
    if not silent:
        state.append_pending(marker)
    state.pos += 1
    return True


def _citation_rule(state: StateInline, silent: bool) -> bool:
    """``[@a]``, ``[@a; @b]``, and touching markers (``[@a][@b]``) as one group of distinct keys.

    Each marker is matched once from its own ``[``, and a failed match cannot
    run past the next ``[``, so the rule is linear in the text.
    """
    if not state.src.startswith("[@", state.pos):
        return False
    keys: dict[str, None] = {}
    end = state.pos
    while (match := CITATION_RE.match(state.src, end, state.posMax)) is not None:
        keys.update(dict.fromkeys(_KEY_SPLIT_RE.split(match.group(1))))
        end = match.end()
    if end == state.pos:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"keys": list(keys)}
        token.markup = state.src[state.pos : end]
    state.pos = end
    return True


def _render_citation(renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    numbers: Mapping[str, int] = env.get("citation_numbers", {})
    links = []
    for key in tokens[idx].meta["keys"]:
        number = numbers.get(key)
        if number is None:
            links.append(f'<span class="citation-missing">unresolved citation {escape(key)}</span>')
        else:
            links.append(
                f'<a href="#ref-{escape(key)}" class="citation">'
                f'<span class="visually-hidden">reference </span>{number}</a>'
            )
    return f'<sup class="citations">[{", ".join(links)}]</sup>'


def _render_heading_open(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Section headings are <h2> on the page, so a "#" inside a section body
    # becomes <h3>: the page keeps one outline without skipped levels.
    return f"<h{_demoted(tokens[idx].tag)}>"


def _render_heading_close(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f"</h{_demoted(tokens[idx].tag)}>\n"


def _demoted(tag: str) -> int:
    return min(6, int(tag[1]) + 2)


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.inline.ruler.before("citation", "bracket", _bracket_rule)
    md.add_render_rule("citation", _render_citation)
    md.add_render_rule("heading_open", _render_heading_open)
    md.add_render_rule("heading_close", _render_heading_close)
    return md


def sanitise(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _numbers(citation_numbers: Mapping[str, int] | None) -> CitationNumbers:
    if isinstance(citation_numbers, CitationNumbers):
        return citation_numbers
    return CitationNumbers(citation_numbers) if citation_numbers else NO_CITATIONS


@lru_cache(maxsize=RENDERED_CACHE_SIZE)
def _rendered(text: str, citation_numbers: CitationNumbers, inline: bool) -> str:
    # The output depends on nothing else: the parser is fixed and the env holds only the numbers.
    env = {"citation_numbers": citation_numbers}
    md = _markdown()
    return sanitise(md.renderInline(text, env) if inline else md.render(text, env))


def _render(text: str, citation_numbers: Mapping[str, int] | None, inline: bool) -> str:
    numbers = _numbers(citation_numbers)
    if len(text) > MEMO_MAX_CHARS:
        return _rendered.__wrapped__(text, numbers, inline)
    return _rendered(text, numbers, inline)


def render_markdown(text: str, citation_numbers: Mapping[str, int] | None = None) -> str:
    """Render block Markdown (a section body) to sanitised HTML."""
    return _render(text, citation_numbers, False)


def render_markdown_inline(text: str, citation_numbers: Mapping[str, int] | None = None) -> str:
    """Render one paragraph of Markdown without the surrounding ``<p>``."""
    return _render(text, citation_numbers, True)


@dataclass(frozen=True)
class MarkdownFacts:
    """What the content checks need to know of a block Markdown text, from one parse (``markdown_facts``)."""

    cited_keys: list[str]
    # Lines that continue a list item without a blank line before them or an indent.
    lazy_lines: list[str]
    # The first line of each table written in Markdown's pipe syntax, which CommonMark shows as a paragraph.
    table_lines: list[str] = field(default_factory=list)


# A cell of a pipe table's delimiter row (GitHub's syntax: ``| --- | :-: |``).
_DELIMITER_CELL = re.compile(r":?-+:?")


def markdown_facts(text: str) -> MarkdownFacts:
    """The keys ``text`` cites (each once, in order, ignoring code spans), its lines that run on from a list item, and
    the tables written in it in pipe syntax (``_table_header``).

    A line straight after a list item, with no blank line between and no indent, continues that
    item (CommonMark's "lazy continuation"), so text an author meant to follow a list is shown
    inside its last item. A paragraph inside an item starts indented or on the marker's line, so
    any later line of it that starts at the margin ran on. Lines in block quotes start with
    ``>`` and are not looked at. One parse, and each line looked at once: linear in the text.
    """
    keys: dict[str, None] = {}
    lazy: list[str] = []
    tables: list[str] = []
    lines: list[str] | None = None
    items = quotes = 0
    for block in _markdown().parse(text):
        if block.type in ("list_item_open", "list_item_close"):
            items += 1 if block.nesting == 1 else -1
        elif block.type in ("blockquote_open", "blockquote_close"):
            quotes += 1 if block.nesting == 1 else -1
        elif block.type == "paragraph_open" and block.map:
            lines = text.split("\n") if lines is None else lines
            start, end = block.map
            if items and not quotes:
                lazy.extend(line.strip() for line in lines[start + 1 : end] if line[:1] not in ("", " ", "\t"))
            tables.extend(_table_header(lines[start:end]))
        for token in block.children or ():
            if token.type == "citation":
                keys.update(dict.fromkeys(token.meta["keys"]))
    return MarkdownFacts(cited_keys=list(keys), lazy_lines=lazy, table_lines=tables)


def _table_header(lines: list[str]) -> list[str]:
    """The header line of a pipe table among a paragraph's ``lines`` (the line above its delimiter row), if any."""
    for above, line in pairwise(lines):
        if "|" in line and "|" in above and _is_delimiter_row(line):
            return [above.strip()]
    return []


def _is_delimiter_row(line: str) -> bool:
    """Whether ``line`` is a pipe table's delimiter row: cells of dashes (colons at either end) between bars.
    Split, not one pattern, so that a long line is looked at once (a pattern's runs of optional spaces backtrack)."""
    cells = line.strip().removeprefix("|").removesuffix("|").split("|")
    return all(_DELIMITER_CELL.fullmatch(cell.strip()) for cell in cells)


def cited_keys(text: str) -> list[str]:
    """The reference keys a Markdown text cites, each once, in order of first citation, ignoring code spans."""
    return markdown_facts(text).cited_keys


def cited_keys_in(texts: Iterable[str]) -> list[str]:
    """The keys cited across several texts, each once, in order of first citation."""
    return list(dict.fromkeys(key for text in texts for key in cited_keys(text)))
