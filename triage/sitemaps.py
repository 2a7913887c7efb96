"""The pathways' sitemap section: the shared section of live content, for pathways."""

from articles.sitemaps import LiveContentSitemap

from .models import PATHWAY

PathwaySitemap = LiveContentSitemap.of(PATHWAY)
