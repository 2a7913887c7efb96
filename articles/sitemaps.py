from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sites.requests import RequestSite
from django.urls import reverse

from .kinds import registered
from .models import Revision


class PublicAddressSitemap(Sitemap):
    """Absolute URLs on ``PUBLIC_BASE_URL``, whichever host served the request."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.PUBLIC_BASE_URL).scheme

    def get_domain(self, site: RequestSite | None = None) -> str:
        return urlsplit(settings.PUBLIC_BASE_URL).netloc


class ArticleSitemap(PublicAddressSitemap):
    changefreq = "monthly"

    def items(self):  # noqa: ANN201 - Django's API
        return Revision.objects.published().articles().select_related("article").order_by("article__slug")

    def location(self, item: Revision) -> str:
        return item.article.get_absolute_url()

    def lastmod(self, item: Revision):  # noqa: ANN201
        return item.published_at


class PageSitemap(PublicAddressSitemap):
    """The list pages of every kind of content (``ContentKind.list_url_names``)."""

    changefreq = "weekly"

    def items(self) -> list[str]:
        return [name for kind in registered() for name in kind.list_url_names]

    def location(self, item: str) -> str:
        return reverse(item)


def sitemaps() -> dict[str, type[Sitemap]]:
    """Every sitemap section: the pages, then each kind's (call once the apps are ready)."""
    return {"pages": PageSitemap, **{name: cls for kind in registered() for name, cls in kind.sitemaps.items()}}
