"""Every API response a test receives, validated strictly against the schema the API serves.

``check(response)`` finds the operation (path template and method) in ``/api/v1/schema/``
and fails the test unless the response is one the schema describes:

- the status code is declared for the operation;
- the content type is one declared for that status (a 304 has no body);
- every header the schema marks required is sent, and every declared header that is
  sent matches its schema (ECMA-262 patterns run through ``regress``);
- the body validates against the declared schema (OpenAPI 3.1: JSON Schema 2020-12,
  with formats checked: ``openapi_schema_validator.OAS31Validator``), with references
  resolved within the served document.

Responses of URLs the schema does not list (``/api/v1/``, ``/schema/``, ``/docs/``)
are not checked, except errors, which must still be problem details. The one
documented compatibility path: a JSON-LD answer at an article's URL, to a request whose
``Accept`` header chose it, is checked against the JSON-LD operation
(``/articles/{slug}/jsonld/``), whose body it is.

``tests/conftest.py`` runs it on every response of Django's test client.
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from typing import Any

import regress
from django.test import Client
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_URL = "/api/v1/schema/"
PREFIX = "/api/v1/"
UNCHECKED = ("/api/v1/schema/", "/api/v1/docs/")
DOCUMENT_URI = "urn:partner-api:openapi"
PROBLEM = "#/components/schemas/Problem"
PROBLEM_MEDIA_TYPE = "application/problem+json"
JSON_LD_COMPATIBILITY = ("/api/v1/articles/{slug}/", "application/ld+json", "/api/v1/articles/{slug}/jsonld/")


class SchemaMismatch(AssertionError):
    pass


@cache
def served_schema() -> dict[str, Any]:
    # Read for the check, not by the test: kept out of the request log, where a test of the log would find it
    # beside its own requests when it is the first in its process to receive an API response.
    requests_log = logging.getLogger("contentsite.requests")
    disabled, requests_log.disabled = requests_log.disabled, True
    try:
        response = Client().get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    finally:
        requests_log.disabled = disabled
    assert response.status_code == 200, response.status_code
    return json.loads(response.content)


@cache
def _registry() -> Registry:
    return Registry().with_resource(DOCUMENT_URI, Resource.from_contents(served_schema(), DRAFT202012))


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    templates = []
    for template in served_schema()["paths"]:
        regex = re.escape(template)
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", regex)
        templates.append((re.compile(f"^{regex}$"), template))
    return templates


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def validate_body(body: Any, pointer: str) -> None:
    """``body`` against the schema at ``pointer`` in the served document (``#/components/schemas/Problem``)."""
    validator = OAS31Validator(
        {"$ref": DOCUMENT_URI + pointer}, registry=_registry(), format_checker=oas31_format_checker
    )
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if errors:
        described = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in errors[:5])
        raise SchemaMismatch(f"Response body does not match {pointer}: {described}")


def _template_for(path: str) -> str | None:
    for regex, template in _templates():
        if regex.match(path):
            return template
    return None


def _media_type(response: Any) -> str:
    return response.get("Content-Type", "").split(";")[0].strip().lower()


def check(response: Any, *, method: str, path: str, accept: str = "") -> None:
    """Fail unless the schema describes ``response`` to ``method path`` (see the module docstring)."""
    if not path.startswith(PREFIX) or path.startswith(UNCHECKED):
        return
    template = _template_for(path)
    operation = served_schema()["paths"].get(template, {}).get(method.lower()) if template else None
    if method.upper() == "HEAD" and template:
        operation = served_schema()["paths"][template].get("get")
    status = str(response.status_code)
    if operation is None:
        if response.status_code >= 400:
            _check_problem(response)
        return
    # Which media type an Accept header chooses is ``tests/api/test_negotiation.py``'s to check; here, that a
    # JSON-LD answer came to a request that sent one, and is the JSON-LD operation's body.
    json_ld = _media_type(response) == JSON_LD_COMPATIBILITY[1] and accept.strip() != ""
    if template == JSON_LD_COMPATIBILITY[0] and json_ld and status == "200":
        template = JSON_LD_COMPATIBILITY[2]
        operation = served_schema()["paths"][template]["get"]
    where = f"{method} {template} -> {status}"
    declared = operation["responses"].get(status) or operation["responses"].get("default")
    if declared is None:
        raise SchemaMismatch(f"{where}: status not declared (declared: {sorted(operation['responses'])})")
    _check_headers(response, declared, where)
    content = declared.get("content")
    if not content:
        if response.content:
            raise SchemaMismatch(f"{where}: a body where the schema declares none")
        return
    media_type = _media_type(response)
    if media_type not in content:
        raise SchemaMismatch(f"{where}: content type {media_type!r} not declared (declared: {sorted(content)})")
    if method.upper() == "HEAD":
        return
    pointer = _pointer("paths", template, method.lower(), "responses", status, "content", media_type, "schema")
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise SchemaMismatch(f"{where}: the body is not JSON ({error})") from None
    validate_body(body, pointer)


def _check_problem(response: Any) -> None:
    if _media_type(response) != PROBLEM_MEDIA_TYPE:
        raise SchemaMismatch(f"An error ({response.status_code}) as {_media_type(response)!r}, not a problem detail")
    validate_body(json.loads(response.content), PROBLEM)


def _check_headers(response: Any, declared: dict[str, Any], where: str) -> None:
    for name, header in declared.get("headers", {}).items():
        value = response.get(name)
        if value is None:
            if header.get("required"):
                raise SchemaMismatch(f"{where}: required header {name} missing")
            continue
        pattern = header.get("schema", {}).get("pattern")
        if pattern is not None and regress.Regex(pattern, "u").find(value) is None:
            raise SchemaMismatch(f"{where}: header {name}: {value!r} does not match {pattern!r}")
