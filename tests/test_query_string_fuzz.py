"""Hypothesis fuzz of every public page's query string: whatever follows the ``?``, never a 500.

The pages are found by walking the URL patterns (everything outside the admin and the
partner API, which ``tests/api/test_schema_fuzz.py`` fuzzes from its schema), so a new
public page is fuzzed, or this test says it does not know where to find one. Keys and
values are raw bytes, percent-encoded: NUL, lone UTF-16 surrogates and invalid UTF-8,
huge values, repeated keys, and the parameters the pages really read. CI runs it on
SQLite and on PostgreSQL (which refuses NUL in a string).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Revision

EXAMPLES = 60
# Outside the public site: the admin (staff only) and the partner API (fuzzed from its schema).
NOT_PUBLIC = ("admin", "v1")
# Parameters the public pages read, so values reach the code behind them, not only the parser.
KNOWN_KEYS = [b"q", b"page", b"after", b"before", b"cursor", b"section", b"p", b"format", b"helpful"]


def public_url_names(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[str]:
    """The namespaced name of every URL pattern outside ``NOT_PUBLIC``."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            namespace = pattern.namespace or ""
            if namespace in NOT_PUBLIC or (not namespace and str(pattern.pattern).startswith("admin")):
                continue
            yield from public_url_names(pattern.url_patterns, f"{prefix}{namespace}:" if namespace else prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name


def addresses(article: Revision, pathway: Revision) -> dict[str, str]:
    slug, medication = article.article.slug, article.article.medication.slug
    arguments = {
        "articles:medicine": [medication],
        "articles:symptom": [article.symptom_entries.first().symptom.slug],
        "articles:detail": [slug],
        "articles:history": [slug],
        "triage:pathway": [pathway.article.slug],
        "sitemap-section": ["articles"],
        "feedback:ask": [article.pk],
        "feedback:thanks": [article.pk],
    }
    return {name: reverse(name, args=arguments.get(name, [])) for name in sorted(set(public_url_names()))}


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


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(query=query_strings)
def test_no_query_string_makes_a_public_page_fail(pages: dict[str, str], query: str) -> None:
    client = Client(raise_request_exception=False)
    for name, path in pages.items():
        response = client.get(path, QUERY_STRING=query)
        assert response.status_code < 500, (name, path, query[:300], response.status_code)
