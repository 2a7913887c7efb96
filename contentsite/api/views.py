"""Behaviour every partner API view shares."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from django.utils.http import http_date
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from articles.models import Withdrawn


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This was withdrawn and is no longer published."
    default_code = "gone"


class PartnerView:
    """Shared behaviour: private caching, Last-Modified, and no unknown query parameters."""

    allowed_query_parameters: frozenset[str] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        unknown = sorted(set(request.query_params) - self.allowed_query_parameters)
        if unknown:
            known = ", ".join(sorted(self.allowed_query_parameters)) or "none"
            raise ValidationError(
                {name: [f"Unknown query parameter; this endpoint accepts: {known}."] for name in unknown}
            )

    def last_modified(self) -> Any:
        return None

    def handle_exception(self, exc: Exception) -> Response:
        # The one read of what is live (``RevisionQuerySet.get_live``) says "withdrawn"; the API says 410.
        if isinstance(exc, Withdrawn):
            exc = Gone()
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if request.method in {"GET", "HEAD"} and response.status_code == 200:
            moment = self.last_modified()
            if moment is not None:
                response["Last-Modified"] = http_date(moment.timestamp())
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Accept, Authorization"
        return response
