"""``/api/v1/``: the partner API, its OpenAPI schema and its documentation (served from here, no CDN)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from articles.api.views import NotFoundView

from .views import ApiDocs, ApiRoot

app_name = "v1"

urlpatterns = [
    path("", ApiRoot.as_view(), name="root"),
    path("", include("articles.api.urls")),
    path("", include("triage.api.urls")),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", ApiDocs.as_view(url_name="v1:schema"), name="docs"),
    # Last: URLs ending in a slash that nothing above matches (others still get APPEND_SLASH's redirect).
    re_path(r"^(?:[\s\S]*/)?$", NotFoundView.as_view(), name="not-found"),  # [\s\S]: newlines too
]
