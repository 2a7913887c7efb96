from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sites.requests import RequestSite
from django.urls import reverse

from .models import Revision


class _PublicAddressSitemap(Sitemap):
    """Absolute URLs on ``PUBLIC_BASE_URL``, whichever host served the request."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.PUBLIC_BASE_URL).scheme

    def get_domain(self, site: RequestSite | None = None) -> str:
        return urlsplit(settings.PUBLIC_BASE_URL).netloc


class ArticleSitemap(_PublicAddressSitemap):
    changefreq = "monthly"

    def items(self):  # noqa: ANN201 - Django's API
        return Revision.objects.published().articles().select_related("article").order_by("article__slug")

    def location(self, item: Revision) -> str:
        return item.article.get_absolute_url()

    def lastmod(self, item: Revision):  # noqa: ANN201
        return item.published_at


class PathwaySitemap(_PublicAddressSitemap):
    changefreq = "monthly"

    def items(self):  # noqa: ANN201 - Django's API
        return Revision.objects.published().pathways().select_related("article").order_by("article__slug")

    def location(self, item: Revision) -> str:
        return item.article.get_absolute_url()

    def lastmod(self, item: Revision):  # noqa: ANN201
        return item.live_from


class PageSitemap(_PublicAddressSitemap):
    changefreq = "weekly"

    def items(self) -> list[str]:
        return ["articles:home", "triage:list"]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS = {"pages": PageSitemap, "articles": ArticleSitemap, "triage": PathwaySitemap}
