"""The site's URLs plus a public page that refuses everyone, for tests/test_error_pages.py.

It stands for any public view that raises ``PermissionDenied``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from contentsite.urls import handler403, handler500
from contentsite.urls import urlpatterns as site_urlpatterns

__all__ = ["handler403", "handler500", "urlpatterns"]  # Django looks the handlers up in ROOT_URLCONF


def refuse(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("No one may open this page.")


urlpatterns = [path("forbidden-for-tests/", refuse), *site_urlpatterns]
