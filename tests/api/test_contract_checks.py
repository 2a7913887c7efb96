"""Contract checks, one test per operation and check, on the content a partner really gets.

The site holds what ``load_demo`` publishes (the demo article, both demo pathways) and a
withdrawn article; the demo partner's key is sent as ``Authorization: Api-Key <key>``. Every
operation in the served schema is called with the requests a partner makes (found, not
found, gone, no key, a bad parameter), in-process through schemathesis' WSGI integration,
and each response is judged by each check separately:

- schemathesis' response checks: ``not_a_server_error``, ``status_code_conformance``,
  ``content_type_conformance``, ``response_headers_conformance`` (headers the schema
  declares, once it declares them), ``response_schema_conformance``;
- ``strict_schema_conformance``: the body against the declared schema read as a strict
  generator reads OpenAPI 3.0 (``tests.api.contract.strict_json_schema``).

Generated cases, invalid data included (``negative_data_rejection``), are
``test_schema_fuzz``'s business; this module is deterministic and sends about a hundred
requests. The responses are gathered once per run (``exercised``) and each
``test_check[operation-check]`` reports its own verdict, so a fix shows up as exactly
the ``xfail(strict=True)`` entries of ``KNOWN_DEFECTS`` turning into XPASS failures: delete
those entries then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.contract import (
    ARTICLE,
    ATC,
    MEDICATION,
    PATHWAYS,
    RXCUI,
    RXNORM,
    SCHEMA_URL,
    SNOMED,
    WHO_ATC,
    WITHDRAWN,
    StrictValidator,
    load_partner_world,
)

SCHEMATHESIS_CHECKS: dict[str, Callable[..., Any]] = {
    "not_a_server_error": not_a_server_error,
    "status_code_conformance": status_code_conformance,
    "content_type_conformance": content_type_conformance,
    "response_headers_conformance": response_headers_conformance,
    "response_schema_conformance": response_schema_conformance,
}
STRICT = "strict_schema_conformance"
CHECKS = [*SCHEMATHESIS_CHECKS, STRICT]

JSON, JSON_LD = "application/json", "application/ld+json"
LOOKUP = "mainSearchCriteria.v.cs", "mainSearchCriteria.v.c"
# Issue 14, item 2: JSON-LD gets an operation of its own, so a generated client can parse every body.
JSONLD_OPERATION = "GET /api/v1/articles/{slug}/jsonld/"


@dataclass(frozen=True)
class Call:
    """One request a partner makes: what to send and the status it must get."""

    status: int
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    accept: str = JSON
    key: bool = True
    body: Any = None


ANSWER_ALL_NO = object()  # replaced by the pathway's own question keys, each answered "no"

# Every operation of the schema, with the calls that exercise it on the demo content.
CALLS: dict[str, list[Call]] = {
    "GET /api/v1/articles/": [
        Call(200),
        Call(200, query={"limit": 1}),
        Call(200, query={"medication": MEDICATION, "rxcui": RXCUI, "updated_since": "2000-01-01T00:00:00Z"}),
        Call(400, query={"rxcui": "not-a-code"}),
        Call(401, key=False),
    ],
    "GET /api/v1/articles/{slug}/": [
        Call(200, path={"slug": ARTICLE}),
        # JSON-LD on ``Accept`` here is kept for older clients and documented in prose; the schema
        # gives it its own operation (below), so that each operation has one response a client can parse.
        Call(404, path={"slug": "no-such-article"}),
        Call(410, path={"slug": WITHDRAWN}),
        Call(401, path={"slug": ARTICLE}, key=False),
    ],
    JSONLD_OPERATION: [
        Call(200, path={"slug": ARTICLE}, accept=JSON_LD),
        Call(404, path={"slug": "no-such-article"}, accept=JSON_LD),
    ],
    "GET /api/v1/articles/{slug}/revisions/": [
        Call(200, path={"slug": ARTICLE}),
        Call(410, path={"slug": WITHDRAWN}),
        Call(404, path={"slug": "no-such-article"}),
    ],
    "GET /api/v1/articles/{slug}/revisions/{number}/": [
        Call(200, path={"slug": ARTICLE, "number": 1}),
        Call(404, path={"slug": ARTICLE, "number": 99}),
        Call(410, path={"slug": WITHDRAWN, "number": 1}),
    ],
    "GET /api/v1/changes/": [
        Call(200),
        Call(200, query={"after": 0, "limit": 2}),
        Call(400, query={"limit": "many"}),
        Call(401, key=False),
    ],
    "GET /api/v1/lookup/": [
        Call(200, query=dict(zip(LOOKUP, (RXNORM, RXCUI), strict=True))),
        Call(200, query=dict(zip(LOOKUP, (WHO_ATC, ATC), strict=True))),
        Call(200, query=dict(zip(LOOKUP, (SNOMED, "123456"), strict=True))),
        Call(400, query=dict(zip(LOOKUP, (RXNORM, ATC), strict=True))),
        Call(400),
    ],
    "GET /api/v1/medications/": [Call(200), Call(400, query={"limit": "many"})],
    "GET /api/v1/medications/{slug}/": [Call(200, path={"slug": MEDICATION}), Call(404, path={"slug": "withdrawnol"})],
    "GET /api/v1/symptoms/": [Call(200), Call(200, query={"limit": 1})],
    "GET /api/v1/symptoms/{slug}/": [Call(404, path={"slug": "no-such-symptom"})],
    "GET /api/v1/pathways/": [Call(200)],
    "GET /api/v1/pathways/{slug}/": [
        *(Call(200, path={"slug": slug}) for slug in PATHWAYS),
        Call(404, path={"slug": "no-such-pathway"}),
    ],
    "POST /api/v1/pathways/{slug}/evaluate/": [
        *(Call(200, path={"slug": slug}, body={"answers": ANSWER_ALL_NO}) for slug in PATHWAYS),
        Call(200, path={"slug": PATHWAYS[0]}, body={"answers": {}}),
        Call(400, path={"slug": PATHWAYS[0]}, body={"answers": {"no-such-question": "maybe"}}),
        Call(404, path={"slug": "no-such-pathway"}, body={"answers": {}}),
    ],
}

# (operation, check) -> why it is expected to fail, as ``xfail(strict=True)``: a known defect,
# named, that turns the run red the moment it is fixed. Issue 14's four (a reference's empty
# ``url`` under an ambiguous ``oneOf``; ``Question.symptom`` and ``Evaluation.disposition`` as
# ``allOf`` + ``nullable``) are fixed in the schema (OpenAPI 3.1 nullable references, ``anyOf``).
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


@dataclass
class Verdicts:
    """What each check said about each operation's responses: failures by (operation, check)."""

    operations: set[str] = field(default_factory=set)
    failures: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    calls: int = 0


_VERDICTS: list[Verdicts] = []  # filled once per run, by the first test that needs it


def _exercise(wsgi_app: Any, authorization: str) -> Verdicts:
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app)
    strict = StrictValidator(schema.raw_schema)
    verdicts = Verdicts(operations={result.ok().label for result in schema.get_all_operations()})
    for label, calls in CALLS.items():
        if label not in verdicts.operations:
            continue
        method, path = label.split(" ", 1)
        operation = schema[path][method]
        for call in calls:
            headers = {"Accept": call.accept} | ({"Authorization": authorization} if call.key else {})
            body = call.body
            if body is not None and body.get("answers") is ANSWER_ALL_NO:
                body = {"answers": _all_no(wsgi_app, authorization, call.path["slug"], schema)}
            kwargs: dict[str, Any] = {"body": body, "media_type": JSON} if body is not None else {}
            case = operation.Case(path_parameters=call.path, query=call.query, headers=headers, **kwargs)
            response = case.call()
            verdicts.calls += 1
            where = f"{case.formatted_path} {call.query or ''} Accept: {call.accept} -> {response.status_code}"
            record = verdicts.failures.setdefault
            if response.status_code != call.status:
                record((label, "expected_status"), []).append(f"{where}, expected {call.status}")
            for name, check in SCHEMATHESIS_CHECKS.items():
                try:
                    case.validate_response(response, checks=[check])
                except AssertionError as error:  # schemathesis' Failure and FailureGroup are AssertionErrors
                    record((label, name), []).append(f"{where}: {str(error)[:1500]}")
            content_type = response.headers.get("content-type", [""])[0]  # schemathesis lowercases header names
            for message in strict.errors(path, method, response.status_code, content_type, response.content):
                record((label, STRICT), []).append(f"{where}: {message}")
    return verdicts


def _all_no(wsgi_app: Any, authorization: str, slug: str, schema: Any) -> dict[str, str]:
    operation = schema["/api/v1/pathways/{slug}/"]["GET"]
    headers = {"Accept": JSON, "Authorization": authorization}
    pathway = operation.Case(path_parameters={"slug": slug}, headers=headers).call().json()
    return {question["key"]: "no" for question in pathway["questions"]}


@pytest.fixture
def verdicts(request: pytest.FixtureRequest, db: Any) -> Verdicts:
    """The verdicts of this run; the first test to ask sets up the content and makes the calls.

    The content's fixtures are requested only then, so the other tests cost an empty transaction.
    """
    if not _VERDICTS:
        request.getfixturevalue("settings").PARTNER_API_RATE = "1000000/minute"  # ~100 calls, one key: no 429
        request.getfixturevalue("roles")
        world = load_partner_world(
            workflow=request.getfixturevalue("workflow"), publisher=request.getfixturevalue("publisher")
        )
        _VERDICTS.append(_exercise(request.getfixturevalue("wsgi_app"), world.authorization))
    return _VERDICTS[0]


def _cases() -> Iterator[Any]:
    for label in CALLS:
        for check in CHECKS:
            reason = KNOWN_DEFECTS.get((label, check))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(label, check, id=f"{label}-{check}", marks=marks)


@pytest.mark.parametrize(("label", "check"), list(_cases()))
def test_check(verdicts: Verdicts, label: str, check: str) -> None:
    assert label in verdicts.operations, f"{label} is not in the served schema: remove it from CALLS"
    assert not verdicts.failures.get((label, check)), "\n".join(verdicts.failures[(label, check)])


def test_the_strict_reader_is_strict() -> None:
    """What schemathesis forgives and a strict generator does not: the two readings ``strict_json_schema`` makes."""
    schema = {
        "paths": {
            "/x/": {
                "get": {
                    "responses": {
                        "200": {"content": {JSON: {"schema": {"$ref": "#/components/schemas/X"}}}},
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "Ref": {"type": "object", "properties": {"slug": {"type": "string"}}},
                "X": {
                    "type": "object",
                    "properties": {
                        "ref": {"allOf": [{"$ref": "#/components/schemas/Ref"}], "nullable": True},
                        "count": {"type": "integer", "nullable": True, "readOnly": True},
                        "url": {"oneOf": [{"type": "string", "format": "uri"}, {"type": "string", "maxLength": 0}]},
                    },
                },
            }
        },
    }
    strict = StrictValidator(schema)

    def errors(body: str) -> list[str]:
        return strict.errors("/x/", "GET", 200, "application/json; charset=utf-8", body.encode())

    assert errors('{"ref": {"slug": "a"}, "count": null, "url": "https://example.org/"}') == []
    assert errors('{"ref": null}') == ["/ref: None is not of type 'object'"]
    assert "is valid under each of" in errors('{"url": ""}')[0]
    assert errors('{"count": "1"}') == ["/count: '1' is not of type 'integer', 'null'"]
    assert strict.errors("/x/", "GET", 404, JSON, b"{}") == []  # undeclared: status_code_conformance's business


def test_every_operation_is_exercised_with_its_expected_statuses(verdicts: Verdicts) -> None:
    """A new operation must get its calls in ``CALLS``; every call got the status it expects."""
    assert verdicts.operations - set(CALLS) == set(), "operations with no calls in CALLS"
    wrong = {label: messages for (label, check), messages in verdicts.failures.items() if check == "expected_status"}
    assert not wrong, wrong
    assert verdicts.calls >= len(CALLS) * 2
