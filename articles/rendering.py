"""Markdown for article content: CommonMark, inline citations, and sanitising.

Authors write Markdown and cite references inline as ``[@key]`` (or
``[@first; @second]``), the Pandoc citation syntax. Rendering turns each
marker into numbered links to the reference list; ``nh3`` then removes
anything outside a small allow-list, so a ``<script>``, an ``onerror=``
attribute or a ``javascript:`` link in content never reaches a reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache

import nh3
from django.utils.html import escape
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

CITATION_RE = re.compile(r"\[@([\w-]+(?:\s*;\s*@[\w-]+)*)\]")
_KEY_SPLIT_RE = re.compile(r"\s*;\s*@")

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


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("[@", state.pos):
        return False
    match = CITATION_RE.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"keys": _KEY_SPLIT_RE.split(match.group(1))}
        token.markup = match.group(0)
    state.pos = match.end()
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


def render_markdown(text: str, citation_numbers: Mapping[str, int] | None = None) -> str:
    """Render block Markdown (a section body) to sanitised HTML."""
    env = {"citation_numbers": citation_numbers or {}}
    return sanitise(_markdown().render(text, env))


def render_markdown_inline(text: str, citation_numbers: Mapping[str, int] | None = None) -> str:
    """Render one paragraph of Markdown without the surrounding ``<p>``."""
    env = {"citation_numbers": citation_numbers or {}}
    return sanitise(_markdown().renderInline(text, env))


def cited_keys(text: str) -> list[str]:
    """The reference keys a Markdown text cites, in order, ignoring code spans."""
    keys: list[str] = []
    for block in _markdown().parse(text):
        for token in block.children or ():
            if token.type == "citation":
                keys.extend(token.meta["keys"])
    return keys


def cited_keys_in(texts: Iterable[str]) -> list[str]:
    """The keys cited across several texts, each once, in order of first citation."""
    return list(dict.fromkeys(key for text in texts for key in cited_keys(text)))
