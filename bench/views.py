"""The baseline: a minimal Django view answering with bytes captured from a real response."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


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
