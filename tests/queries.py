"""The SQL a request runs, for the tests that judge its plans (``EXPLAIN``) rather than count its statements."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def selects_of(client: Any, url: str) -> list[str]:
    """The ``SELECT`` statements ``client.get(url)`` ran; the request must be answered 200."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return [query["sql"] for query in captured if query["sql"].lstrip().upper().startswith("SELECT")]
