"""Hypothesis fuzz of every public page's query string: whatever follows the ``?``, never a 500.

The pages are found by walking the URL patterns (everything outside the admin and the
partner API, which ``tests/api/test_schema_fuzz.py`` fuzzes from its schema), so a new
public page is fuzzed, or this test says it does not know where to find one. Keys and
values are raw bytes, percent-encoded: NUL, lone UTF-16 surrogates and invalid UTF-8,
huge values, repeated keys, and the parameters the pages really read. CI runs it on
SQLite and on PostgreSQL (which refuses NUL in a string).
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from articles.models import Revision
from tests.pages import addresses, fuzz_every_page

EXAMPLES = 60
# Parameters the public pages read, so values reach the code behind them, not only the parser.
KNOWN_KEYS = [b"q", b"page", b"after", b"before", b"cursor", b"section", b"p", b"format", b"helpful"]


raw = st.binary(max_size=40) | st.sampled_from(
    [
        b"\x00",
        b"a\x00b",
        "\ud800".encode("utf-8", "surrogatepass"),  # a lone surrogate, as no valid UTF-8 has it
        b"\xff\xfe",
        "\u00b2".encode(),  # "²": isdigit() but not int()
        b"-1",
        b"99999999999999999999999999",
        b"1e309",
        "amlodipine \u202e\u0301".encode(),
        b"x" * 20_000,
    ]
)
pair = st.tuples(st.sampled_from(KNOWN_KEYS) | raw, raw)
query_strings = st.lists(pair, max_size=6).map(
    lambda pairs: "&".join(f"{quote_from_bytes(key)}={quote_from_bytes(value)}" for key, value in pairs)
)


@pytest.fixture
def pages(published_article: Revision, published_pathway: Revision) -> dict[str, str]:
    return addresses(published_article, published_pathway)


def test_every_public_page_is_fuzzed(pages: dict[str, str]) -> None:
    """The walk found the pages (and a page it cannot address fails ``addresses``, above)."""
    assert {"articles:home", "articles:search", "articles:detail", "triage:pathway", "robots"} <= set(pages)


@fuzz_every_page(EXAMPLES)
@given(query=query_strings)
def test_no_query_string_makes_a_public_page_fail(pages: dict[str, str], query: str) -> None:
    client = Client(raise_request_exception=False)
    for name, path in pages.items():
        response = client.get(path, QUERY_STRING=query)
        assert response.status_code < 500, (name, path, query[:300], response.status_code)
