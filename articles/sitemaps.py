"""The sitemap: an index of sections, each served in pages that cost the same at any depth.

A section's pages are ranges of ids (``SITEMAP_PAGE_SIZE`` ids each), not
offsets: page 40 reads one indexed range, as page 1 does, and the number of
pages follows from the highest id (one index lookup), not from a count of the
library. A range may hold fewer URLs than ids (drafts, other kinds, gaps), never
more, so no page exceeds the protocol's 50,000 URLs and every live address is
in exactly one page.

Each kind of content registers its section in ``articles.kinds`` as
``LiveContentSitemap.of(kind)``; the pages of lists are a section of their own.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sites.requests import RequestSite
from django.urls import reverse

from .kinds import kind_for, registered
from .models import Article, Medication, Revision

# URLs per sitemap page at most (the protocol allows 50,000): ids per page.
SITEMAP_PAGE_SIZE = 10_000
_SLUG = "slug-placeholder"

SitemapUrl = tuple[str, datetime.datetime | None]


class PublicAddressSitemap(Sitemap):
    """Absolute URLs on ``PUBLIC_BASE_URL``, whichever host served the request."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.PUBLIC_BASE_URL).scheme

    def get_domain(self, site: RequestSite | None = None) -> str:
        return urlsplit(settings.PUBLIC_BASE_URL).netloc


class PagedSitemap(PublicAddressSitemap):
    """A section whose page ``n`` holds the addresses of ids ``(n - 1) * SITEMAP_PAGE_SIZE + 1`` to ``n * ...``."""

    def last_id(self) -> int:
        """The highest id the section may list (0: empty); one index lookup."""
        raise NotImplementedError

    def urls_between(self, first: int, last: int) -> Iterable[SitemapUrl]:
        """(path, lastmod) of the addresses of ids ``first`` to ``last``, in id order."""
        raise NotImplementedError

    def num_pages(self) -> int:
        return max(1, -(-self.last_id() // SITEMAP_PAGE_SIZE))

    def page(self, number: int) -> list[SitemapUrl]:
        first = (number - 1) * SITEMAP_PAGE_SIZE + 1
        return list(self.urls_between(first, first + SITEMAP_PAGE_SIZE - 1))


class LiveContentSitemap(PagedSitemap):
    """The live addresses of one kind of content, dated by their last public change."""

    kind: ClassVar[str]
    changefreq = "monthly"

    @classmethod
    def of(cls, kind: str) -> type[LiveContentSitemap]:
        """The section of ``kind``: what a kind registers in ``ContentKind.sitemaps``."""
        return type(f"LiveContentSitemap[{kind}]", (cls,), {"kind": kind})

    def last_id(self) -> int:
        return Article.objects.last_id(kind=self.kind)

    def urls_between(self, first: int, last: int) -> Iterable[SitemapUrl]:
        # Reverse once: thousands of addresses differ only by their slug.
        pattern = reverse(kind_for(self.kind).url_name, kwargs={"slug": _SLUG})
        rows = (
            Revision.objects.published()
            .of_kind(self.kind)
            .in_article_range(first, last)
            .values_list("article__slug", "article__public_updated_at", "published_at", "publish_at")
        )
        for slug, updated_at, published_at, publish_at in rows:
            moments = [moment for moment in (updated_at, published_at or publish_at) if moment]
            yield pattern.replace(_SLUG, slug), max(moments) if moments else None


class MedicineSitemap(PagedSitemap):
    """The page of each medicine that live articles are about."""

    changefreq = "weekly"

    def last_id(self) -> int:
        return Medication.objects.last_id()

    def urls_between(self, first: int, last: int) -> Iterable[SitemapUrl]:
        pattern = reverse("articles:medicine", kwargs={"slug": _SLUG})
        slugs = Medication.objects.with_live_articles().in_id_range(first, last).values_list("slug", flat=True)
        return [(pattern.replace(_SLUG, slug), None) for slug in slugs]


class PageSitemap(PagedSitemap):
    """The list pages of every kind of content (``ContentKind.list_url_names``): one page."""

    changefreq = "weekly"

    def last_id(self) -> int:
        return 1

    def urls_between(self, first: int, last: int) -> Iterable[SitemapUrl]:
        if first > 1:
            return []
        return [(reverse(name), None) for kind in registered() for name in kind.list_url_names]


def sitemaps() -> dict[str, type[PagedSitemap]]:
    """Every sitemap section: the pages, the medicines, then each kind's (call once the apps are ready)."""
    sections: dict[str, type[PagedSitemap]] = {"pages": PageSitemap, "medicines": MedicineSitemap}
    for kind in registered():
        sections.update(kind.sitemaps)  # type: ignore[arg-type]
    return sections
