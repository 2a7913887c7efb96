"""Property-based contract test: schemathesis against the OpenAPI schema the partner API serves.

The schema is loaded from ``/api/v1/schema/`` and every request goes to the Django
WSGI application in-process, on the test's own thread and database connection, so
the cases see the fixture data inside the test's transaction. Each response is
checked for server errors and for anything the schema does not describe: status
code, content type, headers and body.

- ``test_every_operation_conforms_to_the_schema``: every operation, generated
  cases (schemathesis' coverage phase, then 30 Hypothesis examples per operation,
  valid and invalid), derandomised and seeded so CI runs the same cases each time.
- ``test_real_content_conforms_to_the_schema``: every operation once more with the
  real published content (generated slugs almost never exist), so the 200 bodies
  of the detail endpoints are validated too.
- ``test_cases_were_run``: the count, so CI output shows the fuzzing really ran.
"""

from __future__ import annotations

from base64 import b64encode
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from articles import services
from articles.models import Revision
from partners.models import Partner
from partners.services import partner_key_create
from tests.factories import article_document

SCHEMA_URL = "/api/v1/schema/"
EXAMPLES_PER_OPERATION = 30
MINIMUM_CASES = 200
SEED = 20_240_611
FUZZ_TEST = "test_every_operation_conforms_to_the_schema"

# The real content: the demo article ``published_article`` publishes, and one withdrawn.
ARTICLE, MEDICATION, RXCUI, ATC = "amlodipine-peripheral-neuropathy", "amlodipine", "17767", "C08CA01"
RXNORM, WHO_ATC, SNOMED = "2.16.840.1.113883.6.88", "2.16.840.1.113883.6.73", "2.16.840.1.113883.6.96"
WITHDRAWN = "withdrawn-fuzz-article"
PATHWAY = "numbness-tingling-weakness-amlodipine"

# Every operation in the served schema, and the requests sent per operation label ("GET /api/v1/articles/").
OPERATIONS: set[str] = set()
FUZZ_CASES: Counter[str] = Counter()
REAL_CASES: Counter[str] = Counter()


@pytest.fixture
def fuzz_key(db: Any) -> str:
    _, plain = partner_key_create(partner=Partner.objects.create(name="Schema fuzzing"), name="fuzz")
    return plain


@pytest.fixture
def content(published_article: Revision, published_pathway: Revision, workflow: Any, publisher: Any) -> Revision:
    """The live demo article and pathway, plus a withdrawn article (410s, and a ``withdrawn`` event in the feed)."""
    gone = workflow.live(article_document(slug=WITHDRAWN, medication="withdrawnol"))
    services.revision_withdraw(revision=gone, actor=publisher, reason="Superseded by new guidance.")
    return published_article


@pytest.fixture
def api_schema(wsgi_app: Any, fuzz_key: str, content: Revision, settings: Any) -> Any:
    settings.PARTNER_API_RATE = "1000000/minute"  # hundreds of calls with one key: no 429s
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # The key goes on every case through the schema's own security scheme, so
            # schemathesis also knows which requests it deliberately sends without it.
            "auth": {"openapi": {"PartnerApiKey": {"api_key": f"Api-Key {fuzz_key}"}}},
            # Otherwise invalid cases may drop the key header, as a "missing required
            # header", and get 401 before their real mutation is looked at; the
            # ignored_auth check still sends its own requests without the key.
            "generation": {"with-security-parameters": False},
        }
    )
    loaded = schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app, config=config)
    OPERATIONS.update(result.ok().label for result in loaded.get_all_operations())
    return loaded


@pytest.fixture(autouse=True)
def _pytest9_nodeid(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's fixture-backed schemas relabel the test node through
    # ``node._nodeid``, which pytest 9 no longer has; give it the attribute back.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def excluded_checks(case: Any) -> list[Any]:
    """Every schemathesis check runs (the default), except where no schema can say what is acceptable.

    ``positive_data_acceptance`` expects every schema-valid request to succeed. Two
    inputs are valid only in ways OpenAPI 3.0 cannot express, and 400 is the
    documented, correct answer to a bad one:

    - ``cursor`` is an opaque token the API issued in a ``next``/``previous`` link;
      a made-up string is rejected. (A real cursor is followed in the real-content test.)
    - a lookup code must be valid *in the chosen code system* (an ATC code under
      the RxNorm OID is rejected); the schema can only give the union of the formats.

    The stateful checks (use_after_free, ensure_resource_availability,
    object_level_authorization) stay on but have nothing to judge: they need
    operations that create or delete resources, or several users, and this
    read-only API with one partner key has neither.
    """
    if case.operation.path == "/api/v1/lookup/" or "cursor" in (case.query or {}):
        return [positive_data_acceptance]
    return []


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None)
def test_every_operation_conforms_to_the_schema(case: Any) -> None:
    FUZZ_CASES[case.operation.label] += 1
    case.call_and_validate(excluded_checks=excluded_checks(case))


def test_real_content_conforms_to_the_schema(api_schema: Any, fuzz_key: str) -> None:
    def get(
        path: str, status: int = 200, accept: str = "application/json", key: str | None = fuzz_key, **parameters: Any
    ) -> Any:
        operation = api_schema[path]["GET"]
        path_parameters = {name: parameters.pop(name) for name in ("slug", "number") if name in parameters}
        headers = {"Accept": accept} | ({"Authorization": f"Api-Key {key}"} if key else {})
        case = operation.Case(path_parameters=path_parameters, query=parameters, headers=headers)
        REAL_CASES[operation.label] += 1
        response = case.call_and_validate()
        assert response.status_code == status, (case.formatted_path, response.status_code, response.text[:500])
        return response.json()

    def slugs(page: dict[str, Any]) -> list[str]:
        return [item["slug"] for item in page["results"]]

    # Only vocabulary that live content uses: not the withdrawn article's medication.
    assert slugs(get("/api/v1/medications/")) == [MEDICATION]
    assert get("/api/v1/medications/{slug}/", slug=MEDICATION)["rxnorm_rxcui"] == RXCUI
    get("/api/v1/medications/{slug}/", status=404, slug="withdrawnol")

    first = get("/api/v1/symptoms/", limit=1)
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    second = get("/api/v1/symptoms/", limit=1, cursor=cursor)
    assert slugs(second) and slugs(second) != slugs(first)
    assert get("/api/v1/symptoms/{slug}/", slug=slugs(first)[0])["slug"] == slugs(first)[0]

    filters = {"medication": MEDICATION, "rxcui": RXCUI, "updated_since": "2000-01-01T00:00:00Z"}
    assert slugs(get("/api/v1/articles/", **filters)) == [ARTICLE]
    article = get("/api/v1/articles/{slug}/", slug=ARTICLE)
    assert article["is_current"] and article["revision"]["number"] == 1
    json_ld = get("/api/v1/articles/{slug}/jsonld/", slug=ARTICLE, accept="application/ld+json")
    assert json_ld["@type"] == "MedicalWebPage"
    get("/api/v1/articles/{slug}/jsonld/", status=410, slug=WITHDRAWN, accept="application/ld+json")
    assert [revision["number"] for revision in get("/api/v1/articles/{slug}/revisions/", slug=ARTICLE)] == [1]
    assert get("/api/v1/articles/{slug}/revisions/{number}/", slug=ARTICLE, number=1)["content"]["sections"]
    get("/api/v1/articles/{slug}/", status=410, slug=WITHDRAWN)
    get("/api/v1/articles/{slug}/revisions/", status=410, slug=WITHDRAWN)
    get("/api/v1/articles/{slug}/revisions/{number}/", status=410, slug=WITHDRAWN, number=1)

    events = get("/api/v1/changes/", after=0, limit=10)["events"]
    assert {(event["article"], event["type"]) for event in events} >= {(ARTICLE, "published"), (WITHDRAWN, "withdrawn")}

    lookup = "/api/v1/lookup/"
    assert slugs(get(lookup, **{"mainSearchCriteria.v.cs": RXNORM, "mainSearchCriteria.v.c": RXCUI})) == [ARTICLE]
    assert slugs(get(lookup, **{"mainSearchCriteria.v.cs": WHO_ATC, "mainSearchCriteria.v.c": ATC})) == [ARTICLE]
    assert slugs(get(lookup, **{"mainSearchCriteria.v.cs": SNOMED, "mainSearchCriteria.v.c": "123456"})) == []

    def post(path: str, body: Any, status: int = 200, **path_parameters: Any) -> Any:
        operation = api_schema[path]["POST"]
        headers = {"Accept": "application/json", "Authorization": f"Api-Key {fuzz_key}"}
        case = operation.Case(
            path_parameters=path_parameters, body=body, headers=headers, media_type="application/json"
        )
        REAL_CASES[operation.label] += 1
        response = case.call_and_validate()
        assert response.status_code == status, (case.formatted_path, response.status_code, response.text[:500])
        return response.json()

    assert slugs(get("/api/v1/pathways/")) == [PATHWAY]
    pathway = get("/api/v1/pathways/{slug}/", slug=PATHWAY)
    answers = {question["key"]: "no" for question in pathway["questions"]}
    evaluation = "/api/v1/pathways/{slug}/evaluate/"
    assert post(evaluation, {"answers": answers}, slug=PATHWAY)["disposition"]["level"] == "routine"
    assert post(evaluation, {"answers": {**answers, "stroke": "yes"}}, slug=PATHWAY)["disposition"]["level"] == (
        "emergency"
    )
    problem = post(evaluation, {"answers": {"stroke": "maybe"}}, status=400, slug=PATHWAY)
    assert [error.get("pointer") for error in problem["errors"]] == ["/answers/stroke"]
    # Answers that are no object are the field's own error, with no pointer into it: "/answers/answers" named a
    # question nobody asked (found from outside).
    for not_an_object in (None, [], "yes"):
        problem = post(evaluation, {"answers": not_an_object}, status=400, slug=PATHWAY)
        assert [(error["field"], error.get("pointer")) for error in problem["errors"]] == [("answers", None)]
    post(evaluation, {"answer": answers}, status=400, slug=PATHWAY)
    post(evaluation, [1, 2], status=400, slug=PATHWAY)
    post(evaluation, {"answers": answers}, status=404, slug="no-such-pathway")

    # Malformed requests that once answered 500 or an HTML page: the documented JSON errors.
    get("/api/v1/changes/", status=400, limit="\u00b2")  # "²".isdigit(), but int("²") raises
    get("/api/v1/medications/", status=400, limit="\u00b2")
    get("/api/v1/medications/", status=400, cursor=b64encode(b"o=0&r=0&p=\x00").decode())  # PostgreSQL: NUL
    get("/api/v1/articles/{slug}/", status=404, slug="not a slug")  # no URL pattern matches it
    get("/api/v1/articles/{slug}/", status=404, slug="new\nline")
    get("/api/v1/changes/", status=401, key=None)
    get("/api/v1/changes/", status=401, key="not.a-key")

    assert set(REAL_CASES) == OPERATIONS


def test_cases_were_run(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    if not any(item.name == FUZZ_TEST for item in request.session.items):
        pytest.skip(f"{FUZZ_TEST} was not selected")
    total = sum(FUZZ_CASES.values())
    with capsys.disabled():
        print(f"\nschemathesis: {total} generated cases over {len(FUZZ_CASES)} operations", end="")
        print(f" (+{sum(REAL_CASES.values())} with real content)", end="")
        for label, count in sorted(FUZZ_CASES.items()):
            print(f"\n  {count:4d}  {label}", end="")
    assert OPERATIONS and set(FUZZ_CASES) == OPERATIONS, sorted(OPERATIONS - set(FUZZ_CASES))
    assert total >= MINIMUM_CASES
    assert all(count >= EXAMPLES_PER_OPERATION for count in FUZZ_CASES.values()), FUZZ_CASES
