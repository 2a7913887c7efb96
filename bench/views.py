"""The baseline: a minimal Django view answering with bytes captured from a real response."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from contentsite.cache import count_hit
from partners.admission import admit
from partners.throttling import count_request


@functools.cache
def captured(name: str) -> tuple[bytes, str]:
    """The body and content type the bench saved as ``<name>.body`` / ``<name>.type`` in ``BENCH_BYTES_DIR``."""
    directory = Path(os.environ.get("BENCH_BYTES_DIR", "/nonexistent"))
    try:
        return (directory / f"{name}.body").read_bytes(), (directory / f"{name}.type").read_text()
    except OSError as missing:
        raise Http404(f"No captured bytes named {name!r}.") from missing


@csrf_exempt  # the evaluate API's baseline is a POST, like the API call it stands for
def captured_bytes(request: HttpRequest, name: str) -> HttpResponse:
    """As little as Django can do for a response of the same size and type, on the same server and middleware."""
    body, content_type = captured(name)
    return HttpResponse(body, content_type=content_type)


# The outcome counter the reference view counts on: the same kind of counter as triage's, never read.
REFERENCE_COUNTER = "bench:reference-outcome"


@csrf_exempt
def admitted_bytes(request: HttpRequest, name: str, trips: int) -> HttpResponse:
    """The minimal view, after the shared-cache work the partner API's rules require: a reference, not a goal.

    ``trips=1``: the partner key checked and its request counted on the shared rate limit,
    by the API's own ``partners.admission.admit`` (one Redis round trip; a 304 needs it).
    ``trips=2``: and one outcome counted, as an evaluation counts its result (a second
    round trip). The bench compares the 304 and evaluate with these, so that what is left
    of their cost beyond the shared cache's is measured, not guessed.
    """
    body, content_type = captured(name)
    admission = admit(request.headers.get("Authorization", ""))
    if admission.api_key is None or admission.counter is None:
        return HttpResponse(status=401)
    count_request(admission, admission.counter)  # as the API's throttle counts it (already, as a rule)
    if trips > 1:
        count_hit(REFERENCE_COUNTER, 86_400)
    return HttpResponse(body, content_type=content_type)


@method_decorator(csrf_exempt, name="dispatch")
class AdmittedBytesOnAPIMiddleware(View):
    """``admitted_bytes`` on the partner API's own middleware (``PARTNER_API_MIDDLEWARE``), as the API's views are.

    ``contentsite.early`` hands a view class with ``not_modified_early`` to the API's handler;
    this one never answers early (no 304: every request reaches the view). Evaluate runs on
    that middleware, so this is its floor: the same two round trips, on the same stack.
    """

    @classmethod
    def not_modified_early(cls, view: Any, request: HttpRequest, args: Any, kwargs: Any) -> None:
        return None

    def get(self, request: HttpRequest, name: str, trips: int) -> HttpResponse:
        return admitted_bytes(request, name=name, trips=trips)

    def post(self, request: HttpRequest, name: str, trips: int) -> HttpResponse:
        return admitted_bytes(request, name=name, trips=trips)
