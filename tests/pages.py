"""Reading pages as text, the way a reader (or a screen reader) gets them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, settings

from articles.models import Revision

INLINE = {
    "a",
    "abbr",
    "b",
    "cite",
    "code",
    "del",
    "em",
    "i",
    "ins",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"script", "style", "head"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "head"}:
            self._skip -= 1
        if tag not in INLINE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    """Visible text with whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def json_ld(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S)
    return [json.loads(block) for block in blocks]


def sitemap_pages(client: object) -> list[str]:
    """The paths of the sitemap pages that ``/sitemap.xml`` (an index) lists."""
    index = client.get("/sitemap.xml")  # type: ignore[attr-defined]
    assert index.status_code == 200
    assert "<sitemapindex" in index.content.decode()
    return [
        location.removeprefix("https://medsafety.example")
        for location in re.findall(r"<loc>(.*?)</loc>", index.content.decode())
    ]


def sitemap_locations(client: object) -> list[str]:
    """Every ``<loc>`` of every page of the sitemap, in order, repeats kept."""
    locations = []
    for path in sitemap_pages(client):
        page = client.get(path)  # type: ignore[attr-defined]
        assert page.status_code == 200, path
        locations += re.findall(r"<loc>(.*?)</loc>", page.content.decode())
    return locations


def browsers_revalidate(cache_control: str) -> bool:
    """A browser must check with the server (a cheap 304) before showing its copy again; the proxy,
    which is purged on every change, may keep it (``s-maxage``)."""
    directives = {part.strip().split("=")[0]: part.strip() for part in cache_control.split(",")}
    return "no-cache" in directives or directives.get("max-age") == "max-age=0"


# Outside the public site: the admin (staff only) and the partner API (fuzzed from its schema).
NOT_PUBLIC = ("admin", "v1")


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
    """Every public page (``public_url_names``) by URL name, at a real address."""
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


def fuzz_every_page(examples: int) -> settings:
    """Hypothesis settings for a fuzz that asks every public page once per example: the same examples each run
    (CI and a developer see the same failure), none kept between runs, no deadline on a whole walk of the site."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def rendered_again_queries(client: Any, url: str, *, parts_memoised: bool = False) -> list[str]:
    """The statements an article page at ``url`` runs to render itself once more, what is live there being known:
    the page (cached under its ETag) and the per-process memos forgotten, the pointer to what is live kept
    (``articles.live``), so these are the render's own queries (``articles.views._render_article``).

    ``parts_memoised``: forget only the memos of whole responses, keeping the revision's rendered content parts
    (``articles.presentation``), as a page re-rendered for a new day, a review or a vocabulary change finds them.
    """
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from articles import views
    from articles.memo import forget_all
    from contentsite import early

    response = client.get(url)
    assert response.status_code == 200
    cache.delete(f"page:article:{response['ETag']}")
    if parts_memoised:
        views._pages.clear()
        early._answers.clear()
    else:
        forget_all()
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url)
    assert again.status_code == 200 and again.content == response.content
    return [query["sql"] for query in captured]
