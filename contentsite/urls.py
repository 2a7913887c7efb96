from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from articles.sitemaps import sitemaps
from articles.views import robots_txt

admin.site.site_header = "Clinical content administration"
admin.site.site_title = "Clinical content admin"

urlpatterns = [
    path("", include("articles.urls")),
    path("triage/", include("triage.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("contentsite.api.urls", namespace="v1")),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps()}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
]
