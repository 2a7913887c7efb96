"""The v1 versioning promise, held by tests (policy: README, "Versioning and deprecation").

- The served schema equals the committed snapshot ``docs/openapi-v1.json`` (``make api-snapshot``).
- Nothing that any committed version of the snapshot promised is missing from the served
  schema unless ``docs/api-changelog.md`` names it: the current file and every version in git
  history are compared, so regenerating the snapshot does not hide a removal.
- The changelog has an entry for the schema's ``info.version``.

What counts as a promise is ``contract_terms``: operations (and so paths), parameters and
their enum values, request and response media types, response headers, body properties
at any depth (through ``$ref``, ``allOf``/``oneOf``/``anyOf``, arrays), their enum values,
and which response properties are required. A rename is a removal plus an addition.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.api.contract import served_schema

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "docs" / "openapi-v1.json"
CHANGELOG = ROOT / "docs" / "api-changelog.md"
REGENERATE = "make api-snapshot"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@pytest.fixture(scope="module")
def served(django_db_setup: Any, django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():  # the schema view reads no table; the test database, should that change
        return served_schema(Client())


def contract_terms(schema: dict[str, Any]) -> set[str]:
    """Every promise the schema makes to a client, one string each (the changelog names them so)."""
    components = schema.get("components", {})
    terms: set[str] = set()
    for path, item in schema.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            label = f"{method.upper()} {path}"
            terms.add(label)
            for parameter in [*shared, *operation.get("parameters", [])]:
                parameter = _resolve(parameter, components)
                where = f"{label} parameter {parameter['in']}:{parameter['name']}"
                terms.add(where)
                for value in _enum_values(parameter.get("schema", {}), components):
                    terms.add(f"{where} enum {json.dumps(value)}")
            body = _resolve(operation.get("requestBody", {}), components)
            for media_type, content in body.get("content", {}).items():
                terms |= set(_schema_terms(content.get("schema", {}), f"{label} request {media_type}", components, ""))
            for status, response in operation.get("responses", {}).items():
                response = _resolve(response, components)
                for header in response.get("headers", {}):
                    terms.add(f"{label} {status} header {header}")
                for media_type, content in response.get("content", {}).items():
                    where = f"{label} {status} {media_type}"
                    terms |= set(_schema_terms(content.get("schema", {}), where, components, ""))
    return terms


def _resolve(node: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = components.get(section, {}).get(name, {})
    return node


def _enum_values(node: dict[str, Any], components: dict[str, Any]) -> list[Any]:
    node = _resolve(node, components)
    values = list(node.get("enum", []))
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(keyword, []):
            values += _enum_values(branch, components)
    return values


def _schema_terms(
    node: dict[str, Any], where: str, components: dict[str, Any], at: str, seen: frozenset[str] = frozenset()
) -> Iterator[str]:
    """``where: at`` for the value at ``at`` (``a.b[].c``) and everything inside it; a recursive $ref stops."""
    yield f"{where}: {at}" if at else where
    if "$ref" in node:
        if node["$ref"] in seen:
            return
        seen |= {node["$ref"]}
        node = _resolve(node, components)
    for value in node.get("enum", []):
        yield f"{where}: {at} enum {json.dumps(value)}"
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(keyword, []):
            yield from _schema_terms(branch, where, components, at, seen)
    for name in node.get("required", []) if " request " not in where else []:
        yield f"{where}: {at + '.' if at else ''}{name} required"
    for name, schema in node.get("properties", {}).items():
        yield from _schema_terms(schema, where, components, f"{at + '.' if at else ''}{name}", seen)
    if isinstance(node.get("items"), dict):
        yield from _schema_terms(node["items"], where, components, f"{at}[]", seen)
    if isinstance(node.get("additionalProperties"), dict) and node["additionalProperties"]:
        yield from _schema_terms(node["additionalProperties"], where, components, f"{at}.*", seen)


def removals(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What ``old`` promised that ``new`` does not, each at its outermost term only (an operation, not its parts)."""
    removed = contract_terms(old) - contract_terms(new)
    return sorted(
        term
        for term in removed
        if not any(term != other and term.startswith(other) and term[len(other)] in " .[:" for other in removed)
    )


def unnamed(terms: list[str], changelog: str) -> list[str]:
    return [term for term in terms if f"`{term}`" not in changelog]


def committed_snapshots() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every version of the snapshot in git history, newest first (none outside a git checkout)."""
    relative = SNAPSHOT.relative_to(ROOT).as_posix()
    try:
        log = subprocess.run(
            ["git", "log", "--format=%h", "--", relative], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return
    for commit in log.stdout.split():
        shown = subprocess.run(
            ["git", "show", f"{commit}:{relative}"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if shown.returncode == 0:  # absent in a commit that deleted it
            yield commit, json.loads(shown.stdout)


def _assert_same(snapshot: Any, served: Any) -> None:
    if served != snapshot:
        diff = difflib.unified_diff(
            json.dumps(snapshot, indent=1, sort_keys=True).splitlines(),
            json.dumps(served, indent=1, sort_keys=True).splitlines(),
            "docs/openapi-v1.json",
            "served /api/v1/schema/",
            lineterm="",
        )
        pytest.fail(
            f"The served schema is not docs/openapi-v1.json: run `{REGENERATE}` and commit it "
            "(naming any removal in docs/api-changelog.md).\n" + "\n".join(list(diff)[:80])
        )


# The integer ranges Django gives a model's IntegerField/PositiveIntegerField from the database
# backend (connection.ops.integer_field_range), which DRF copies into the schema.
_BACKEND_BOUNDS = {2**63 - 1, -(2**63), 2**31 - 1, -(2**31)}


def without_backend_integer_bounds(node: Any) -> Any:
    """The schema without the integer bounds and formats that come from the database backend, not from the API."""
    if isinstance(node, list):
        return [without_backend_integer_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept = {key: without_backend_integer_bounds(value) for key, value in node.items()}
    if node.get("type") == "integer":
        for bound in ("maximum", "minimum"):
            if kept.get(bound) in _BACKEND_BOUNDS:
                del kept[bound]
        if kept.get("format") in {"int32", "int64"}:
            del kept["format"]
    return kept


def test_the_served_schema_is_the_committed_snapshot(served: dict[str, Any]) -> None:
    _assert_same(json.loads(SNAPSHOT.read_text()), served)


def test_the_served_schema_is_the_snapshot_on_every_database(served: dict[str, Any]) -> None:
    """Also with the backend's integer ranges left out: what a backend's own range would show (every integer a
    person enters has its own maximum, ``articles.limits``, so none should)."""
    snapshot = json.loads(SNAPSHOT.read_text())
    _assert_same(without_backend_integer_bounds(snapshot), without_backend_integer_bounds(served))


def test_nothing_promised_is_dropped_without_a_changelog_entry(served: dict[str, Any]) -> None:
    changelog = CHANGELOG.read_text()
    baselines = [("docs/openapi-v1.json", json.loads(SNAPSHOT.read_text())), *committed_snapshots()]
    missing: dict[str, str] = {}
    for name, baseline in baselines:
        for term in unnamed(removals(baseline, served), changelog):
            missing.setdefault(term, name)
    assert not missing, (
        "The served schema drops what v1 promised (policy: README, 'Versioning and deprecation'). "
        "If that is really meant, name each in docs/api-changelog.md (### Removed or ### Changed):\n"
        + "\n".join(f"- `{term}` (in {name})" for term, name in sorted(missing.items()))
    )


def test_the_changelog_has_an_entry_for_the_served_version(served: dict[str, Any]) -> None:
    changelog = CHANGELOG.read_text()
    version = served["info"]["version"].split(" ")[0]  # drf-spectacular appends " (v1)"
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, flags=re.MULTILINE)
    assert "## [Unreleased]" in changelog
    assert version in {number for number, _ in releases}, f"docs/api-changelog.md has no '## [{version}] - date'"
    assert releases[-1] == ("1.0.0", "2026-11-30"), "the first entry is v1 as it stood when the changelog began"


def _schema(**changes: Any) -> dict[str, Any]:
    """A small schema for the rules' own tests; ``changes`` replace parts of it."""
    parameters = changes.get(
        "parameters",
        [
            {"in": "query", "name": "limit", "schema": {"type": "integer"}},
            {"in": "query", "name": "kind", "schema": {"type": "string", "enum": ["a", "b"]}},
        ],
    )
    item = {
        "type": "object",
        "properties": changes.get("item_properties", {"slug": {"type": "string"}, "url": {"type": "string"}}),
        "required": changes.get("item_required", ["slug", "url"]),
    }
    page = {
        "type": "object",
        "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}},
        "required": ["results"],
    }
    ok = {
        "description": "",
        "headers": changes.get("headers", {"ETag": {"schema": {"type": "string"}}}),
        "content": changes.get("content", {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}),
    }
    paths = {"/items/": {"get": {"parameters": parameters, "responses": {"200": ok}}}}
    paths |= changes.get("more_paths", {"/items/{slug}/": {"get": {"responses": {"200": {"description": ""}}}}})
    return {"openapi": "3.0.3", "paths": paths, "components": {"schemas": {"Item": item, "Page": page}}}


@pytest.mark.parametrize(
    ("changes", "removed"),
    [
        ({}, []),
        ({"more_paths": {}}, ["GET /items/{slug}/"]),
        ({"parameters": []}, ["GET /items/ parameter query:kind", "GET /items/ parameter query:limit"]),
        (
            {"parameters": [{"in": "query", "name": "kind", "schema": {"type": "string", "enum": ["a"]}}]},
            ['GET /items/ parameter query:kind enum "b"', "GET /items/ parameter query:limit"],
        ),
        ({"headers": {}}, ["GET /items/ 200 header ETag"]),
        ({"content": {"application/ld+json": {"schema": {}}}}, ["GET /items/ 200 application/json"]),
        ({"item_required": ["slug"]}, ["GET /items/ 200 application/json: results[].url required"]),
        (  # a rename: the old name is gone (its "required" goes with it)
            {"item_properties": {"slug": {"type": "string"}, "href": {"type": "string"}}, "item_required": ["slug"]},
            ["GET /items/ 200 application/json: results[].url"],
        ),
    ],
)
def test_removals_finds_each_kind_of_dropped_promise(changes: dict[str, Any], removed: list[str]) -> None:
    assert removals(_schema(), _schema(**changes)) == removed


def test_additions_are_not_removals_and_a_named_removal_passes() -> None:
    more = _schema(
        item_properties={"slug": {"type": "string"}, "url": {"type": "string"}, "title": {"type": "string"}},
        more_paths={
            "/items/{slug}/": {"get": {"responses": {"200": {"description": ""}}}},
            "/items/{slug}/jsonld/": {"get": {"responses": {"200": {"description": ""}}}},
        },
    )
    assert removals(_schema(), more) == []
    assert removals(more, _schema()) == [
        "GET /items/ 200 application/json: results[].title",
        "GET /items/{slug}/jsonld/",
    ]
    changelog = "### Removed\n- `GET /items/{slug}/jsonld/`: moved to v2.\n"
    assert unnamed(removals(more, _schema()), changelog) == ["GET /items/ 200 application/json: results[].title"]


def test_the_snapshot_covers_the_whole_api(served: dict[str, Any]) -> None:
    """The terms reach into bodies: a sanity check that the walk is not trivially empty on the real schema."""
    terms = contract_terms(served)
    assert "GET /api/v1/articles/{slug}/ 200 application/json: content.references[].url" in terms
    assert "GET /api/v1/lookup/ parameter query:mainSearchCriteria.v.cs" in terms
    assert "GET /api/v1/articles/ 200 application/json: results[].slug required" in terms
