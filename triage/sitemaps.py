from articles.models import Revision
from articles.sitemaps import PublicAddressSitemap

from .models import PATHWAY


class PathwaySitemap(PublicAddressSitemap):
    changefreq = "monthly"

    def items(self):  # noqa: ANN201 - Django's API
        return Revision.objects.published().of_kind(PATHWAY).select_related("article").order_by("article__slug")

    def location(self, item: Revision) -> str:
        return item.article.get_absolute_url()

    def lastmod(self, item: Revision):  # noqa: ANN201
        return item.live_from
