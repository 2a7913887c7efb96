"""The site's URLs plus the bench's minimal view, ``/__bench__/bytes/<name>/``, and its reference,
``/__bench__/admitted/<round trips>/<name>/`` (the minimal view after the API's shared-cache work)."""

from django.urls import path

from contentsite.urls import urlpatterns as site_urlpatterns

from .views import admitted_bytes, captured_bytes

urlpatterns = [
    path("__bench__/bytes/<slug:name>/", captured_bytes, name="bench-bytes"),
    path("__bench__/admitted/<int:trips>/<slug:name>/", admitted_bytes, name="bench-admitted-bytes"),
    *site_urlpatterns,
]
