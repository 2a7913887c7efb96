"""Every API error as an RFC 9457 problem detail (``application/problem+json``), in one shape.

``{"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "...",
"instance": "/api/v1/articles/", "code": "invalid", "errors": [{"field": "limit",
"code": "invalid", "detail": "A whole number from 1 to 200."}]}``

- ``type`` is ``about:blank`` (RFC 9457, 4.2.1): the status says what happened, so
  ``title`` is the status phrase; ``code`` is the machine-readable reason to act on
  (``not_authenticated``, ``authentication_failed``, ``throttled``, ``not_found``,
  ``gone``, ``invalid``, ``unavailable``...), stable within v1.
- ``errors`` (only for ``invalid``): one entry per malformed query parameter or body
  field, by name (nested body fields joined with ``.``), with its own code and message.

``exception_handler`` is DRF's ``EXCEPTION_HANDLER``; ``problem_response`` serves the
errors met outside DRF (the database unavailable, a server error) in the same form.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

MEDIA_TYPE = "application/problem+json"


def problem(
    *, status: int, detail: str, code: str, instance: str = "", errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The problem document for ``status``; ``errors`` only when there are field errors."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(request: HttpRequest, *, status: int, detail: str, code: str) -> JsonResponse:
    """A problem answered outside DRF (no renderer, no content negotiation, no query)."""
    return JsonResponse(
        problem(status=status, detail=detail, code=code, instance=request.path), status=status, content_type=MEDIA_TYPE
    )


def field_errors(detail: Any, path: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """A ValidationError's detail as flat entries, in the order raised.

    ``field`` is the query parameter or top-level body field; for a part of a body
    field (an answer to one question), ``pointer`` is its JSON Pointer (RFC 6901),
    e.g. ``/answers/stroke``.
    """
    if isinstance(detail, dict):
        return [entry for name, inner in detail.items() for entry in field_errors(inner, (*path, str(name)))]
    if isinstance(detail, list):
        return [entry for inner in detail for entry in field_errors(inner, path)]
    entry = {"field": path[0] if path else "", "code": str(getattr(detail, "code", "invalid")), "detail": str(detail)}
    if len(path) > 1:
        entry["pointer"] = "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
    return [entry]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (its headers: ``WWW-Authenticate``, ``Retry-After``, ``Allow``), with a problem body."""
    # As DRF's handler does: Django's Http404 and PermissionDenied are the API's 404 and 403.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    request = context.get("request")
    instance = request.path if request is not None else ""
    if request is not None:
        # A problem is JSON whatever the view renders otherwise (the schema's YAML, the docs' page), so that its body
        # is what its Content-Type says.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = MEDIA_TYPE
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        names = sorted({entry["field"] for entry in errors if entry["field"]})
        detail = "Malformed request: " + (", ".join(names) if names else "the body") + " (see errors)."
        body = problem(status=response.status_code, detail=detail, code="invalid", instance=instance, errors=errors)
    else:
        code = exc.get_codes()
        body = problem(
            status=response.status_code,
            detail=str(exc.detail),
            code=code if isinstance(code, str) else "error",
            instance=instance,
        )
    response.data = body
    response.content_type = MEDIA_TYPE
    return response
