"""Reading the API's errors: RFC 9457 problem details (``contentsite.api.problems``)."""

from __future__ import annotations

from typing import Any


def problem(response: Any) -> dict[str, Any]:
    """The problem document of an error response, checked for the parts every problem has."""
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    body = response.json()
    assert body["status"] == response.status_code
    assert {"type", "title", "status", "detail", "instance", "code"} <= set(body)
    return body


def problem_fields(response: Any) -> set[str]:
    """The query parameters or body fields a 400 names in ``errors``."""
    body = problem(response)
    assert body["code"] == "invalid"
    return {error["field"] for error in body["errors"]}
