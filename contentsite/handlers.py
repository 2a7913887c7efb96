"""The app servers' request handlers: Django's, reading a request in the charset it names only when that is text.

Django reads a request's query string and body in the charset its ``Content-Type`` names, when
Python has a codec of that name. Some codecs turn bytes into bytes, not bytes into text (``base64``,
``hex``, ``zlib``, ``rot13``...): with one named, reading the query string or the body raised
``LookupError``, so any address with a query (Django decodes it as it builds the request) and any
body answered 500; so did a few of Python's own codecs that give text but are no character set
(``undefined``, ``punycode``: ``NOT_CHARSETS``). Django ignores a charset it does not know; one that
names no text, or is one of these, is ignored the same way here, so the request is read in the default
charset (``DEFAULT_CHARSET``).
"""

from __future__ import annotations

import codecs
import io
from typing import Any

import django
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.asgi import ASGIRequest as DjangoASGIRequest
from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler
from django.core.handlers.wsgi import WSGIRequest as DjangoWSGIRequest
from django.http import HttpRequest

from contentsite.cache import request_scope
from contentsite.early import read_ahead

# Python's own codecs that decode bytes to text but name no character set a request is sent in: a domain name's
# encodings, escape syntaxes, and a codec that refuses everything. Some fail with an error Django does not expect
# (``UnicodeError``, not ``UnicodeDecodeError``: IDNA on an empty label, ``undefined`` on anything).
NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})


def is_text_encoding(charset: str) -> bool:
    """Whether a request may be read in ``charset``: a codec that decodes bytes to text (``utf-8``, ``latin-1``);
    not an unknown name, a bytes-to-bytes codec (``base64``, ``zlib``), or one of ``NOT_CHARSETS``."""
    try:
        name = codecs.lookup(charset).name.replace("_", "-")
        b"a".decode(name)  # not b"": Python decodes nothing to "" without looking the codec up
    except UnicodeDecodeError:  # a text encoding, which does not take this byte on its own (UTF-16)
        pass
    except (LookupError, ValueError):  # no such codec, not a text encoding, or no name at all (a NUL in it)
        return False
    return name not in NOT_CHARSETS


def request_charset(charset: str | None) -> str | None:
    """The charset a request is read in: None (the default) for one that is not a text encoding
    (``is_text_encoding``); ``utf-8`` for UTF-8 under another of its names (``utf8``, ``UTF_8``, ``U8``), which
    Django refuses for a form's body as if it were another charset; else ``charset``."""
    if charset is None or not is_text_encoding(charset):
        return None
    return "utf-8" if codecs.lookup(charset).name == "utf-8" else charset


class TextCharsetOnly(HttpRequest):
    """A request whose ``encoding`` is a text encoding or None (the default charset), however it is set."""

    @HttpRequest.encoding.setter  # type: ignore[attr-defined]
    def encoding(self, value: str | None) -> None:
        HttpRequest.encoding.fset(self, request_charset(value))  # type: ignore[attr-defined]


# The methods whose body the app reads (a form, an evaluation); any other's is left unread.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def with_length_of_terminated_body(environ: dict[str, Any]) -> dict[str, Any]:
    """``environ`` with a ``CONTENT_LENGTH``, when the server ended the body itself and gave none: a body sent
    chunked, which gunicorn de-chunks and marks ended (``wsgi.input_terminated``). Django (and DRF) read a body by
    its ``CONTENT_LENGTH`` alone, so such a body was read as nothing. It is read here up to one byte over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, so that a larger one is refused as one with that length would be (413), having
    read no further. Only for a method whose body is read (``BODY_METHODS``): a GET's is never read, so a client that
    sends none after saying it would, or sends it slowly, holds nothing."""
    if environ.get("CONTENT_LENGTH") or not environ.get("wsgi.input_terminated"):
        return environ
    if environ.get("REQUEST_METHOD") not in BODY_METHODS:
        return environ
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return environ
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = environ["wsgi.input"].read() if limit is None else environ["wsgi.input"].read(limit + 1)
    return {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}


class WSGIRequest(TextCharsetOnly, DjangoWSGIRequest):
    def __init__(self, environ: dict[str, Any]) -> None:
        super().__init__(with_length_of_terminated_body(environ))


class ASGIRequest(TextCharsetOnly, DjangoASGIRequest):
    pass


class WSGIHandler(DjangoWSGIHandler):
    """Django's handler, with the request's first cache reads asked as it arrives (``contentsite.early.read_ahead``),
    kept for that request only (``request_scope``)."""

    request_class = WSGIRequest

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with request_scope():
            read_ahead(environ)
            return super().__call__(environ, start_response)


class ASGIHandler(DjangoASGIHandler):
    request_class = ASGIRequest


def get_wsgi_application() -> Any:
    """``django.core.wsgi.get_wsgi_application``, with this module's handler."""
    django.setup(set_prefix=False)
    return WSGIHandler()


def get_asgi_application() -> Any:
    """``django.core.asgi.get_asgi_application``, with this module's handler."""
    django.setup(set_prefix=False)
    return ASGIHandler()
