"""Request bodies: JSON of a bounded size and nesting, sent uncompressed, or a clear 413/415/400 before any parsing."""

from __future__ import annotations

import io
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.request import RawPostDataException
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json as drf_json

from articles import json_input
from articles.limits import MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH
from contentsite.numbers import whole_number


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The request body is larger than {MAX_DOCUMENT_BYTES:,} bytes."
    default_code = "request_too_large"


class UnsupportedContentEncoding(APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = "unsupported_content_encoding"


# How much of a ``Content-Encoding`` the 415 repeats back.
_SHOWN_CODING = 40


def refuse_encoded(meta: dict[str, Any]) -> None:
    """A body is read as sent: any ``Content-Encoding`` but ``identity`` (gzip, say) is a 415 that says so, not bytes
    misread as malformed JSON."""
    coding = meta.get("HTTP_CONTENT_ENCODING", "").strip()
    if coding and coding.lower() != "identity":
        shown = coding if len(coding) <= _SHOWN_CODING else coding[:_SHOWN_CODING] + "…"
        raise UnsupportedContentEncoding(
            f"Content-Encoding {shown!r} is not accepted: "
            "send the body uncompressed (no Content-Encoding, or identity)."
        )


# The attribute of a Django request holding the body ``peek_json`` parsed: (its bytes, their encoding, the value).
_PEEKED = "_contentsite_peeked_json"


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies over ``MAX_DOCUMENT_BYTES`` (413) or nested deeper
    than ``MAX_JSON_DEPTH`` (400), so neither the parser nor the view can run out of memory
    or recursion on a small hostile body.

    A body ``peek_json`` parsed already for this request is not parsed again: the same bytes in
    the same encoding give the value it found (the same object: a view reads it, never changes it).
    """

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        request = parser_context.get("request")
        if request is not None:
            refuse_encoded(request.META)
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and (whole_number(declared) or 0) > MAX_DOCUMENT_BYTES:
            raise RequestBodyTooLarge()
        raw = stream.read(MAX_DOCUMENT_BYTES + 1)
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise RequestBodyTooLarge()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        peeked = getattr(getattr(request, "_request", request), _PEEKED, None)
        if peeked is not None and peeked[0] == raw and peeked[1] == encoding:
            return peeked[2]
        parse_constant = drf_json.strict_constant if self.strict else None
        try:
            return json_input.loads(raw.decode(encoding), limit=MAX_JSON_DEPTH, parse_constant=parse_constant)
        except ValueError as error:  # not the charset, not JSON, or too deep
            raise ParseError(f"JSON parse error - {error}") from None


def peek_json(request: HttpRequest, max_bytes: int) -> Any:
    """``request``'s JSON body as ``BoundedJSONParser`` reads it, or None (not JSON, over ``max_bytes``, malformed),
    without answering anything: for a guess made before the request is admitted
    (``triage.api.views.PathwayEvaluate``), so ``max_bytes`` keeps what anyone can make the server read before
    then small. The body stays readable (Django keeps it), and the value is kept on ``request`` for DRF's parse
    when the view asks, in the encoding DRF decodes it with (the request's charset, else the default)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    size = whole_number(declared)
    if request.content_type != "application/json" or size is None or size > max_bytes:
        return None
    encoding = request.encoding or settings.DEFAULT_CHARSET
    try:
        body = request.body
        value = BoundedJSONParser().parse(io.BytesIO(body), parser_context={"request": request, "encoding": encoding})
    except (APIException, RequestDataTooBig, RawPostDataException):
        return None
    setattr(request, _PEEKED, (body, encoding, value))
    return value
