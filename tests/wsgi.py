"""Calling a WSGI application in the test's process, as a WSGI server (gunicorn) calls it."""

from __future__ import annotations

import io
import sys
from typing import Any


def environ_for(method: str, url: str, *, content_type: str = "", body: bytes = b"", **environ: str) -> dict[str, Any]:
    """The WSGI environ of a request to ``url`` on ``testserver``; ``environ`` adds or replaces keys
    (``HTTP_ACCEPT``, ``CONTENT_TYPE``...), as a server would put the request's headers there."""
    path, _, query = url.partition("?")
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
        **({"CONTENT_TYPE": content_type} if content_type else {}),
        **environ,
    }


def call(app: Any, method: str, url: str, *, content_type: str = "", body: bytes = b"", **headers: str):
    """(status code, headers, body) of ``app``'s answer to the request, called as a WSGI server calls it;
    ``headers`` by name (``AUTHORIZATION``)."""
    environ = environ_for(
        method, url, content_type=content_type, body=body, **{f"HTTP_{name.upper()}": v for name, v in headers.items()}
    )
    return answer_of(app, environ)


def answer_of(app: Any, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """(status code, headers, body) of ``app``'s answer to ``environ``."""
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

    chunks = app(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answer["status"], answer["headers"], content
