"""The site's URLs plus the bench's minimal view, ``/__bench__/bytes/<name>/``."""

from django.urls import path

from contentsite.urls import urlpatterns as site_urlpatterns

from .views import captured_bytes

urlpatterns = [
    path("__bench__/bytes/<slug:name>/", captured_bytes, name="bench-bytes"),
    *site_urlpatterns,
]
