"""The site's URLs plus the bench's minimal view, ``/__bench__/bytes/<name>/``, and its reference,
``/__bench__/admitted/<round trips>/<name>/`` (the minimal view after the API's shared-cache work), and the same on
the partner API's own middleware, ``/__bench__/api-admitted/<round trips>/<name>/``."""

from django.urls import path

from contentsite.urls import urlpatterns as site_urlpatterns

from .views import AdmittedBytesOnAPIMiddleware, admitted_bytes, captured_bytes

urlpatterns = [
    path("__bench__/bytes/<slug:name>/", captured_bytes, name="bench-bytes"),
    path("__bench__/admitted/<int:trips>/<slug:name>/", admitted_bytes, name="bench-admitted-bytes"),
    path(
        "__bench__/api-admitted/<int:trips>/<slug:name>/",
        AdmittedBytesOnAPIMiddleware.as_view(),
        name="bench-api-admitted-bytes",
    ),
    *site_urlpatterns,
]
