"""The served OpenAPI schema is one a generated client in any language can trust.

- It is valid OpenAPI (openapi-spec-validator).
- Every pattern in it is ECMA-262, as OpenAPI requires: each compiles in an ECMA-262
  engine (``regress``, the Rust ``regress`` crate) with the ``u`` flag, and accepts and
  refuses exactly what the server's own validators accept and refuse.
- JSON-LD has its own operation; the article's JSON operation declares JSON only.
- Errors are problem details; keyed responses carry the RateLimit fields.

(``tests/api/strict.py``, run on every response by ``tests/conftest.py``, holds each
response to the schema; this file checks the schema itself and the headers' values.)
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
import regress
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.urls.converters import SlugConverter
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from articles.api.views import CODE, CODE_SYSTEM, CODE_SYSTEMS
from articles.models import atc_validator, rxcui_validator, snomed_validator
from articles.models.content import Reference, doi_validator, key_validator, pmid_validator
from contentsite.api.schema import ecma_pattern
from tests.api.problems import problem, problem_fields
from tests.api.strict import served_schema

RXNORM = "2.16.840.1.113883.6.88"


def patterns(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every ``pattern`` in the document, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield where, value
            else:
                yield from patterns(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from patterns(value, f"{where}/{index}")


def ecma(pattern: str) -> regress.Regex:
    return regress.Regex(pattern, "u")


def ecma_accepts(pattern: str, value: str) -> bool:
    return ecma(pattern).find(value) is not None


def server_accepts(validator: Any, value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def slug_converter(value: str) -> None:
    if not re.fullmatch(SlugConverter.regex, value):
        raise ValidationError("not a slug")


def lookup_code(value: str) -> None:
    """What the lookup's code pattern stands for: a valid code in one of the systems."""
    if not any(server_accepts(system.validator, value) for system in CODE_SYSTEMS.values()):
        raise ValidationError("no system's code")


# Each served pattern, the server rule it stands for, and values either side of it. A new pattern in
# the schema fails ``test_every_pattern_has_its_server_rule`` until it is added here.
SPACES_AND_NEWLINES = ["", " ", "\n"]
RULES: dict[str, tuple[Any, list[str], list[str]]] = {
    "rxcui": (rxcui_validator, ["17767", "1", "9999999999"], ["17767\n", "17767Z", "017767", "12345678901", "x"]),
    "atc": (atc_validator, ["C08CA01"], ["C08CA01\n", "c08ca01", "C08CA1", "C08CA01Z"]),
    "snomed": (snomed_validator, ["123456", "404684003"], ["12345", "123456\n", "0123456"]),
    "key": (key_validator, ["reported-symptoms", "a1"], ["Reported", "a--b", "-a", "a-", "a\n"]),
    "doi": (doi_validator, ["10.1234/abcd"], ["https://doi.org/10.1234/abcd", "10.1/x", "10.1234/a b", "10.1234/\n"]),
    "pmid": (pmid_validator, ["12345678"], ["0123", "1234567890", "1\n"]),
    "slug": (slug_converter, ["amlodipine", "a_b-9"], ["a b", "a/b", "é", "a\n"]),
    "lookup code": (lookup_code, ["17767", "C08CA01", "404684003"], ["17767\n", "17767Z", " 17767", "c08ca01"]),
}
PATTERN_RULES = {
    ecma_pattern(rxcui_validator): "rxcui",
    ecma_pattern(atc_validator): "atc",
    ecma_pattern(snomed_validator): "snomed",
    ecma_pattern(key_validator): "key",
    ecma_pattern(doi_validator): "doi",
    ecma_pattern(pmid_validator): "pmid",
    f"^{SlugConverter.regex}$": "slug",
}


def lookup_pattern(schema: dict[str, Any]) -> str:
    parameters = schema["paths"]["/api/v1/lookup/"]["get"]["parameters"]
    return next(p["schema"]["pattern"] for p in parameters if p["name"] == CODE)


@pytest.fixture
def schema(db: Any) -> dict[str, Any]:
    return served_schema()


def test_the_served_schema_is_valid_openapi_3_1(schema):
    assert schema["openapi"].startswith("3.1.")
    validate(schema)


def test_every_pattern_compiles_in_an_ecma262_engine(schema):
    found = list(patterns(schema))
    assert len(found) > 10, found
    for where, pattern in found:
        assert pattern.startswith("^") and pattern.endswith("$"), (where, pattern)
        assert r"\Z" not in pattern and r"\A" not in pattern, (where, pattern)
        try:
            ecma(pattern)
        except regress.RegressError as error:
            pytest.fail(f"{where}: {pattern!r} is not ECMA-262 ({error})")


def test_every_pattern_has_its_server_rule(schema):
    rules = {**PATTERN_RULES, lookup_pattern(schema): "lookup code"}
    unknown = {pattern for _, pattern in patterns(schema) if pattern not in rules}
    # The response headers' patterns describe what the server writes, not what it accepts.
    unknown -= {p for where, p in patterns(schema) if "/headers/" in where}
    assert not unknown, f"add the server rule and examples for {unknown} to RULES"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_ecma262_and_the_server_agree_on_the_examples(schema, rule):
    validator, valid, invalid = RULES[rule]
    pattern = (
        lookup_pattern(schema) if rule == "lookup code" else next(p for p, r in PATTERN_RULES.items() if r == rule)
    )
    for value in valid:
        assert ecma_accepts(pattern, value), (rule, value)
        assert server_accepts(validator, value), (rule, value)
    for value in [*invalid, *SPACES_AND_NEWLINES]:
        assert not ecma_accepts(pattern, value), (rule, value)
        assert not server_accepts(validator, value), (rule, value)


@given(st.text(alphabet="0123456789CAZ \n-", max_size=12))
def test_ecma262_and_the_server_agree_on_any_code(value):
    """Where the rules combine (anchors, a final newline, lengths): the same answer in both engines."""
    for validator in (rxcui_validator, atc_validator, snomed_validator, key_validator, pmid_validator):
        assert ecma_accepts(ecma_pattern(validator), value) == server_accepts(validator, value), (validator, value)


def test_the_doi_pattern_accepts_every_doi_the_server_stores():
    """``\\S`` is not the same set in both engines: Python's ``\\s`` has U+001C-U+001F and U+0085, ECMA-262's
    has U+FEFF. A DOI is stored through its field (``validate_text_characters`` too), which refuses all of them,
    so the served pattern accepts every DOI a response can carry."""
    field = Reference._meta.get_field("doi")
    pattern = ecma(ecma_pattern(doi_validator))
    spaces_and_formats = [
        chr(point)
        for point in range(0x110000)
        if not 0xD800 <= point <= 0xDFFF
        and (unicodedata.category(chr(point)) in {"Zs", "Zl", "Zp", "Cc", "Cf"} or re.fullmatch(r"\s", chr(point)))
    ]
    assert {"\ufeff", "\x1c", "\x85", "\u3000"} <= set(spaces_and_formats)
    stored_but_refused = []
    for character in spaces_and_formats:
        doi = f"10.1234/a{character}b"
        if server_accepts(lambda value: field.clean(value, None), doi) and pattern.find(doi) is None:
            stored_but_refused.append(f"U+{ord(character):04X}")
    assert not stored_but_refused


@pytest.mark.parametrize("code", ["17767\n", "17767Z", " 17767", "17767 "])
def test_the_server_refuses_what_the_patterns_refuse(api, published_article, code):
    lookup = api.get("/api/v1/lookup/", {CODE_SYSTEM: RXNORM, CODE: code})
    assert (lookup.status_code, problem_fields(lookup)) == (400, {CODE})
    articles = api.get("/api/v1/articles/", {"rxcui": code})
    assert (articles.status_code, problem_fields(articles)) == (400, {"rxcui"})


def test_the_lookup_code_systems_have_readable_names(schema):
    parameters = schema["paths"]["/api/v1/lookup/"]["get"]["parameters"]
    system = next(p["schema"] for p in parameters if p["name"] == CODE_SYSTEM)
    names = dict(zip(system["enum"], system["x-enum-varnames"], strict=True))
    assert names == {RXNORM: "RXNORM", "2.16.840.1.113883.6.73": "WHO_ATC", "2.16.840.1.113883.6.96": "SNOMED_CT"}


# --- One response schema per operation and media type -------------------------------------------


def test_json_ld_has_its_own_operation_and_the_detail_declares_json_only(schema):
    detail = schema["paths"]["/api/v1/articles/{slug}/"]["get"]["responses"]["200"]["content"]
    assert list(detail) == ["application/json"]
    json_ld = schema["paths"]["/api/v1/articles/{slug}/jsonld/"]["get"]["responses"]["200"]["content"]
    assert json_ld == {"application/ld+json": {"schema": {"$ref": "#/components/schemas/ArticleJsonLd"}}}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                assert len(response.get("content", {})) <= 1, (path, method, status)


def test_json_ld_is_served_by_its_operation_and_still_on_accept(api, published_article):
    slug = published_article.article.slug
    own = api.get(f"/api/v1/articles/{slug}/jsonld/")
    assert (own.status_code, own["Content-Type"]) == (200, "application/ld+json")
    assert own.json()["@type"] == "MedicalWebPage"
    negotiated = api.get(f"/api/v1/articles/{slug}/", HTTP_ACCEPT="application/ld+json")
    assert (negotiated["Content-Type"], negotiated.json()) == ("application/ld+json", own.json())
    assert negotiated["ETag"] == own["ETag"]  # one body, one validator
    refused = api.get(f"/api/v1/articles/{slug}/jsonld/", HTTP_ACCEPT="application/json")
    assert (refused.status_code, problem(refused)["code"]) == (406, "not_acceptable")


# --- Types -----------------------------------------------------------------------------------------


def test_types_say_what_is_sent(schema):
    components = schema["components"]["schemas"]
    assert components["Medication"]["properties"]["brand_names"]["type"] == "array"
    assert components["Medication"]["properties"]["brand_names"]["items"] == {"type": "string"}
    assert components["ChangeEventTypeEnum"]["enum"] == ["published", "superseded", "withdrawn"]
    assert components["ReviewKindEnum"]["enum"] == ["approval", "confirmation"]
    assert "occurred_at" in components["ChangeEvent"]["required"]
    answers = components["EvaluateRequestRequest"]["properties"]["answers"]["additionalProperties"]
    assert [option["type"] for option in answers["oneOf"]] == ["string", "array"]
    # Nullable references as OpenAPI 3.1 says them (3.0's nullable beside allOf was not nullable).
    assert {"type": "null"} in components["Question"]["properties"]["symptom"]["oneOf"]
    assert {"type": "null"} in components["Evaluation"]["properties"]["disposition"]["oneOf"]
    # "A URL or empty" is not an ambiguous oneOf.
    assert "oneOf" not in components["Reference"]["properties"]["url"]
    page = components["PaginatedArticleSummaryList"]
    assert set(page["required"]) == {"next", "previous", "results"}
    assert page["properties"]["next"]["type"] == ["string", "null"]


def unions(node: Any, where: str = "") -> Iterator[tuple[str, list[Any]]]:
    """Every ``oneOf`` and ``anyOf`` in the document, with its JSON Pointer."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("oneOf", "anyOf"):
                yield f"{where}/{key}", value
            yield from unions(value, f"{where}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from unions(value, f"{where}/{index}")


# Values a response sends where the schema offers a choice: each must fit one branch only.
UNION_SAMPLES = ["", None, "https://example.org/page", "10.1234/abcd", "12345678", "17767", "C08CA01", "404684003"]
UNION_SAMPLES += ["common", "routine", "yes", ["a", "b"], {"slug": "a", "name": "A", "snomed_ct_code": ""}]


def test_no_value_matches_two_branches_of_a_union(schema):
    """A ``oneOf`` or ``anyOf`` a generator can decide: no value fits two branches, even where ``format`` is
    not checked (JSON Schema's default, and most clients'), e.g. a reference's ``url`` of ``""``."""
    registry = Registry().with_resource("urn:served", Resource.from_contents(schema, DRAFT202012))
    ambiguous = []
    for where, branches in unions(schema):
        for value in UNION_SAMPLES:
            fitting = [
                index
                for index, branch in enumerate(branches)
                if Draft202012Validator({"$ref": "urn:served#" + where + f"/{index}"}, registry=registry).is_valid(
                    value
                )
            ]
            if len(fitting) > 1:
                ambiguous.append((where, value, fitting))
    assert not ambiguous, ambiguous


def test_no_schema_uses_openapi_3_0_nullable(schema):
    assert '"nullable"' not in str(schema).replace("'", '"')


# The only response properties the server may leave out, by component and place within it; every other
# property is in ``required`` (a generator makes a left-out property ``T | Unset``), and ``strict.py``
# holds every response the suite receives to that.
SOMETIMES_ABSENT: dict[str, set[str]] = {
    "Problem": {"errors"},  # only with ``code`` ``invalid``
    "ProblemFieldError": {"pointer"},  # only within a request body
    # schema.org JSON-LD (``articles.structured_data``): a property is written only when there is a value.
    "ArticleJsonLd": {"datePublished", "dateModified", "lastReviewed", "reviewedBy"},
    "ArticleJsonLd.about[]": {"nonProprietaryName", "proprietaryName", "drugClass", "code"},  # Drug or condition
    "ArticleJsonLd.citation[]": {
        *("name", "author", "isPartOf", "datePublished", "identifier", "sameAs", "url", "description"),
    },
}


def objects(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema written inline in ``node`` (not through ``$ref``), with its place (``A.b[]``)."""
    if not isinstance(node, dict):
        return
    if "properties" in node:
        yield where, node
        for name, value in node["properties"].items():
            yield from objects(value, f"{where}.{name}")
    if isinstance(node.get("items"), dict):
        yield from objects(node["items"], f"{where}[]")
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(keyword, []):
            yield from objects(branch, where)


def test_required_lists_every_property_a_response_always_carries(schema):
    """``required`` matches what is always sent: ModelSerializer fields with ``blank=True`` are sent too."""
    left_out = {}
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):  # request bodies (COMPONENT_SPLIT_REQUEST): optional is the client's choice
            continue
        for where, node in objects(component, name):
            optional = set(node["properties"]) - set(node.get("required", []))
            if optional != SOMETIMES_ABSENT.get(where, set()):
                left_out[where] = sorted(optional)
    assert not left_out, left_out


# --- One error model ---------------------------------------------------------------------------


def test_every_error_response_is_the_shared_problem(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status >= "400":
                    assert response["content"] == {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }, (path, method, status)


def test_errors_are_problem_details_with_codes_per_field(client, api, published_article):
    unknown = api.get("/api/v1/nothing-here/")
    assert (unknown.status_code, problem(unknown)["code"], problem(unknown)["title"]) == (404, "not_found", "Not Found")
    assert problem(unknown)["instance"] == "/api/v1/nothing-here/"
    anonymous = client.get("/api/v1/articles/")
    assert (anonymous.status_code, problem(anonymous)["code"]) == (401, "not_authenticated")
    for parameter, value in (("limit", "0"), ("rxcui", "x"), ("after", "-1")):
        url = "/api/v1/changes/" if parameter == "after" else "/api/v1/articles/"
        body = problem(api.get(url, {parameter: value}))
        assert (body["status"], body["code"]) == (400, "invalid")
        assert [error["field"] for error in body["errors"]] == [parameter]
        assert all(error["code"] and error["detail"] for error in body["errors"])


def test_a_request_django_refuses_before_the_api_is_a_problem(client, api_key):
    """Refused before any view (a Host not in ``ALLOWED_HOSTS``: Django's ``handler400``): a problem, not HTML."""
    response = client.get("/api/v1/articles/", HTTP_HOST="evil.example", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    assert (response.status_code, problem(response)["code"]) == (400, "bad_request")
    assert problem(response)["instance"] == "/api/v1/articles/"


@pytest.mark.parametrize(
    ("method", "url", "view"),
    [
        ("get", "/api/v1/changes/", "articles.api.views.ChangeFeed.get"),
        ("get", "/api/v1/articles/{slug}/", "articles.api.views.ArticleDetail.get"),
        ("post", "/api/v1/pathways/{pathway}/evaluate/", "triage.api.views.PathwayEvaluate.post"),
    ],
)
def test_a_lost_lock_race_is_a_declared_problem(
    client, api_key, published_article, published_pathway, monkeypatch, method, url, view
):
    """A lock wait that timed out (``LockConflictMiddleware``) is a 409 problem the operation declares, like
    every other error (``strict.py`` holds the response to the schema), with ``Retry-After``."""

    def locked(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("database is locked")  # SQLite's busy timeout; PostgreSQL's lock_timeout alike

    served_schema()  # generated (and kept) before the view is replaced: its decorators describe the operation
    monkeypatch.setattr(view, locked)
    url = url.format(slug=published_article.article.slug, pathway=published_pathway.article.slug)
    key = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    if method == "post":
        response = client.post(url, {"answers": {}}, content_type="application/json", **key)
    else:
        response = client.get(url, **key)
    assert (response.status_code, problem(response)["code"]) == (409, "conflict")
    assert response["Retry-After"] == "1"
    assert "page" not in problem(response)["detail"]  # a partner's program has no page to reload


def test_an_answer_within_the_body_is_named_by_a_json_pointer(client, api_key, published_pathway):
    response = client.post(
        f"/api/v1/pathways/{published_pathway.article.slug}/evaluate/",
        {"answers": {"stroke": "maybe"}},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {api_key}",
    )
    errors = problem(response)["errors"]
    assert [(error["field"], error.get("pointer")) for error in errors] == [("answers", "/answers/stroke")]


# --- Headers -------------------------------------------------------------------------------------


RATE_LIMIT = re.compile(r'^"default";r=(?P<r>[0-9]+);t=(?P<t>[0-9]+)$')


def test_keyed_responses_carry_the_rate_limit_fields(api, published_article, settings):
    settings.PARTNER_API_RATE = "3/minute"
    first = api.get("/api/v1/articles/")
    assert first["RateLimit-Policy"] == '"default";q=3;w=60'
    assert RATE_LIMIT.match(first["RateLimit"])["r"] == "2"
    # Answered by the early path (``contentsite.early`` -> ``PartnerView.not_modified_early``): the same fields.
    not_modified = api.get("/api/v1/articles/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304
    assert RATE_LIMIT.match(not_modified["RateLimit"])["r"] == "1"
    malformed = api.get("/api/v1/articles/", {"limit": "0"})
    assert malformed.status_code == 400
    assert RATE_LIMIT.match(malformed["RateLimit"])["r"] == "0"
    throttled = api.get("/api/v1/articles/")
    assert (throttled.status_code, problem(throttled)["code"]) == (429, "throttled")
    assert int(throttled["Retry-After"]) >= 1
    limit = RATE_LIMIT.match(throttled["RateLimit"])
    assert limit["r"] == "0" and 1 <= int(limit["t"]) <= 60
    assert throttled["RateLimit-Policy"] == '"default";q=3;w=60'


def test_a_refused_key_gets_no_rate_limit_fields(client, published_article):
    response = client.get("/api/v1/articles/", HTTP_AUTHORIZATION="Api-Key nonsense.key")
    assert response.status_code == 401
    assert "RateLimit" not in response and "RateLimit-Policy" not in response


def test_every_get_declares_its_validators_and_conditional_parameters(schema):
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        names = {parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "header"}
        assert {"If-None-Match", "If-Modified-Since"} <= names, path
        assert operation["responses"]["200"]["headers"]["ETag"]["required"] is True, path
        assert set(operation["responses"]["304"]["headers"]) >= {"ETag", "Last-Modified", "RateLimit"}, path
        assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True, path


def test_the_key_scheme_says_how_to_send_the_key(schema):
    scheme = schema["components"]["securitySchemes"]["PartnerApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "Api-Key " in scheme["description"] and 'prefix="Api-Key"' in scheme["description"]
    assert all(
        operation["security"] == [{"PartnerApiKey": []}]
        for item in schema["paths"].values()
        for operation in item.values()
    )


@pytest.mark.parametrize(
    ("method", "url", "accept", "status"),
    [
        ("get", "/api/v1/schema/?format=xml", None, 404),
        ("get", "/api/v1/schema/", "text/html", 406),
        ("delete", "/api/v1/schema/", None, 405),
        ("options", "/api/v1/docs/", None, 405),
        ("post", "/api/v1/docs/", None, 405),
        ("get", "/api/v1/docs/", "application/json", 406),
    ],
)
def test_the_schema_and_docs_errors_are_problem_details_in_json(client, method, url, accept, status):
    """Found from outside: their errors said application/problem+json but were YAML (the schema's renderer) or plain
    text (the docs' template renderer), so a client trusting the header could not read them."""
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = getattr(client, method)(url, **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["status"] == status
