"""The app servers' request handlers: Django's, reading a request in the charset it names only when that is text.

Django reads a request's query string and body in the charset its ``Content-Type`` names, when
Python has a codec of that name. Some codecs turn bytes into bytes, not bytes into text (``base64``,
``hex``, ``zlib``, ``rot13``...): with one named, reading the query string or the body raised
``LookupError``, so any address with a query (Django decodes it as it builds the request) and any
body answered 500. Django ignores a charset it does not know; one that names no text is ignored
the same way here, so the request is read in the default charset (``DEFAULT_CHARSET``).
"""

from __future__ import annotations

from typing import Any

import django
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.asgi import ASGIRequest as DjangoASGIRequest
from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler
from django.core.handlers.wsgi import WSGIRequest as DjangoWSGIRequest
from django.http import HttpRequest


def is_text_encoding(charset: str) -> bool:
    """Whether ``charset`` is a codec that decodes bytes to text (``utf-8``, ``latin-1``): not an unknown name,
    not a bytes-to-bytes codec (``base64``, ``zlib``)."""
    try:
        b"a".decode(charset)  # not b"": Python decodes nothing to "" without looking the codec up
    except LookupError:  # no such codec, or not a text encoding
        return False
    except UnicodeError:  # a text encoding, which does not take this byte on its own (UTF-16)
        return True
    return True


class TextCharsetOnly(HttpRequest):
    """A request whose ``encoding`` is a text encoding or None (the default charset), however it is set."""

    @HttpRequest.encoding.setter  # type: ignore[attr-defined]
    def encoding(self, value: str | None) -> None:
        HttpRequest.encoding.fset(self, value if value is None or is_text_encoding(value) else None)  # type: ignore[attr-defined]


class WSGIRequest(TextCharsetOnly, DjangoWSGIRequest):
    pass


class ASGIRequest(TextCharsetOnly, DjangoASGIRequest):
    pass


class WSGIHandler(DjangoWSGIHandler):
    request_class = WSGIRequest


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
