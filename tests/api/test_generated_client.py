"""A partner's generated Python client, against a live server of the test.

The served schema (``/api/v1/schema/``) is turned into a client by ``openapi-python-client``
(pinned in requirements-dev; ``--fail-on-warning``, so an operation the generator cannot
read fails here), in pytest's tmp dir, and imported from there. The client then makes the
partner's first three requests of the README, over HTTP with ``Authorization: Api-Key <key>``
(openapi-python-client's ``AuthenticatedClient`` defaults to ``Bearer`` whatever the scheme says; the
``PartnerApiKey`` scheme's description tells the partner to pass ``prefix="Api-Key"``, as here):

1. the article list, following ``next`` with its cursor;
2. an article, then the same with ``If-None-Match`` answered 304;
3. the change feed;

plus the code lookup, and JSON-LD through its own operation (issue 14, item 2). Every body
is parsed by the generated models: a parse error is a failure. The generated models themselves:
one error model (``Problem``), and no enum member a generator had to call ``VALUE_0``.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client

from articles.models import Revision
from partners.models import Partner
from partners.services import partner_key_create
from tests.api import strict
from tests.api.contract import ARTICLE, MEDICATION, RXCUI, RXNORM, served_schema
from tests.factories import article_document

PACKAGE = "partner_api_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
SECOND_ARTICLE = "second-client-article"
JSON_LD = "application/ld+json"


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():  # the schema view reads no table; unblocked in case middleware looks
        return served_schema(Client())


@pytest.fixture(scope="module")
def generated(schema: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package generated from the served schema, importable for this module's tests."""
    root = tmp_path_factory.mktemp("generated-client")
    (root / "schema.json").write_text(json.dumps(schema))
    # No post hooks: the generator would otherwise run ruff over the output (formatting only).
    (root / "config.yaml").write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    command = [
        str(GENERATOR),
        "generate",
        "--path",
        str(root / "schema.json"),
        "--output-path",
        str(root / PACKAGE),
        "--meta",
        "none",
        "--config",
        str(root / "config.yaml"),
        "--fail-on-warning",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def operation(generated: ModuleType, path: str, method: str = "get") -> ModuleType | None:
    """The generated module of the operation at ``path`` (found by its URL, so operation ids may change)."""
    for source in sorted((Path(generated.__file__).parent / "api").glob("*/*.py")):
        text = source.read_text()
        if f'"url": "{path}"' in text and f'"method": "{method}"' in text:
            return importlib.import_module(f"{PACKAGE}.api.{source.parent.name}.{source.stem}")
    return None


def op(generated: ModuleType, path: str) -> ModuleType:
    module = operation(generated, path)
    assert module is not None, f"the generated client has no operation for GET {path}"
    return module


class Received:
    """An httpx response, read the way ``strict.check`` reads a response of Django's test client."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content = response.content
        self.headers = response.headers

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


@pytest.fixture
def received() -> list[str]:
    """What the generated client received over HTTP, each response checked by ``strict.check`` as it came."""
    return []


@pytest.fixture
def partner_client(
    transactional_db: Any,
    live_server: Any,
    generated: ModuleType,
    published_article: Revision,
    settings: Any,
    received: list[str],
) -> Any:
    """The generated client, authenticated as a partner, on a site with two live articles.

    Its responses come over HTTP, not through Django's test client, so ``tests/conftest.py`` does not see
    them: an httpx hook holds each to the served schema the same way (``strict.check``).
    """
    settings.PARTNER_API_RATE = "1000/minute"
    published_article.article.refresh_from_db()
    _, key = partner_key_create(partner=Partner.objects.create(name="Generated client partner"), name="client")
    strict.served_schema()  # read once here, on the test's thread

    def check(response: httpx.Response) -> None:
        response.read()
        request = response.request
        accept = request.headers.get("Accept", "")
        strict.check(Received(response), method=request.method, path=request.url.path, accept=accept)
        received.append(f"{request.method} {request.url.path} {response.status_code}")

    return generated.AuthenticatedClient(
        base_url=live_server.url,
        token=key,
        prefix="Api-Key",
        raise_on_unexpected_status=True,
        httpx_args={"event_hooks": {"response": [check]}},
    )


def test_first_three_requests_and_the_lookup(
    generated: ModuleType, partner_client: Any, workflow: Any, schema: dict[str, Any], received: list[str]
) -> None:
    workflow.live(article_document(slug=SECOND_ARTICLE, medication="testamol"))

    # 1. The list, a page at a time, following next's cursor.
    articles_list = op(generated, "/api/v1/articles/")
    slugs, cursor, pages = [], None, 0
    while True:
        arguments = {"cursor": cursor} if cursor else {}
        response = articles_list.sync_detailed(client=partner_client, limit=1, **arguments)
        assert response.status_code == 200, response.content[:500]
        page = response.parsed.to_dict()
        slugs += [article["slug"] for article in page["results"]]
        pages += 1
        if not page.get("next"):
            break
        cursor = parse_qs(urlsplit(page["next"]).query)["cursor"][0]
    assert sorted(slugs) == sorted([ARTICLE, SECOND_ARTICLE]) and pages >= 2

    # 2. An article, then again with its ETag: 304, no body to parse.
    article_detail = op(generated, "/api/v1/articles/{slug}/")
    first = article_detail.sync_detailed(ARTICLE, client=partner_client)
    assert first.status_code == 200, first.content[:500]
    assert first.parsed.slug == ARTICLE and first.parsed.content.sections
    etag = first.headers["ETag"]
    # The schema declares the conditional headers, so the generated client takes them as arguments.
    again = article_detail.sync_detailed(ARTICLE, client=partner_client, if_none_match=etag)
    assert again.status_code == 304 and again.content == b""

    # 3. The change feed from the start: both publications, in order.
    changes = op(generated, "/api/v1/changes/")
    feed = changes.sync_detailed(client=partner_client, after=0)
    assert feed.status_code == 200, feed.content[:500]
    events = [(event.article, str(getattr(event.type_, "value", event.type_))) for event in feed.parsed.events]
    assert events == [(ARTICLE, "published"), (SECOND_ARTICLE, "published")]

    # The lookup, by RxNorm code, with the code system as the generated enum.
    lookup = op(generated, "/api/v1/lookup/")
    code_system = enum_member(lookup, RXNORM)
    found = lookup.sync_detailed(
        client=partner_client, main_search_criteria_v_cs=code_system, main_search_criteria_v_c=RXCUI
    )
    assert found.status_code == 200, found.content[:500]
    assert [article["slug"] for article in found.parsed.to_dict()["results"]] == [ARTICLE]
    assert MEDICATION in json.dumps(found.parsed.to_dict())
    assert len(received) == pages + 4 and received[pages + 1].endswith(" 304"), received


def enum_member(module: ModuleType, value: str) -> Enum:
    """The member of the generated enum that stands for ``value`` (its class name is the generator's choice)."""
    for candidate in vars(module).values():
        if isinstance(candidate, type) and issubclass(candidate, Enum) and value in {m.value for m in candidate}:
            return candidate(value)
    raise AssertionError(f"no generated enum has the value {value!r}")


def jsonld_path(schema: dict[str, Any]) -> str | None:
    """The path of an article operation whose only 200 media type is JSON-LD, if the schema has one."""
    for path, operations in schema["paths"].items():
        ok = operations.get("get", {}).get("responses", {}).get("200", {})
        if path.startswith("/api/v1/articles/{slug}/") and set(ok.get("content", {})) == {JSON_LD}:
            return path
    return None


def test_jsonld_through_its_own_operation(
    generated: ModuleType, partner_client: Any, schema: dict[str, Any], received: list[str]
) -> None:
    path = jsonld_path(schema)
    assert path is not None, "the served schema has no JSON-LD operation of its own (issue 14 item 2)"
    response = op(generated, path).sync_detailed(ARTICLE, client=partner_client)
    assert response.status_code == 200, response.content[:500]
    assert response.parsed is not None
    assert response.headers["Content-Type"].startswith(JSON_LD)
    assert json.loads(response.content)["@type"] == "MedicalWebPage"
    assert received == [f"GET {path.replace('{slug}', ARTICLE)} 200"]


def test_every_enum_member_has_a_readable_name(generated: ModuleType) -> None:
    """No ``VALUE_0``: an enum value a generator cannot name (an OID, the empty string) gets ``x-enum-varnames``."""
    models = Path(generated.__file__).parent / "models"
    unnamed = [
        f"{source.stem}: {line.strip()}"
        for source in sorted(models.glob("*.py"))
        for line in source.read_text().splitlines()
        if re.match(r"\s+VALUE_[0-9]+ = ", line)
    ]
    assert not unnamed, unnamed


def test_errors_are_one_model(generated: ModuleType, schema: dict[str, Any]) -> None:
    """Every error of every operation is the ``Problem`` model (with its ``ProblemFieldError`` items); no model
    comes from an inline body (issue 14: 83 near-identical error models out of 135)."""
    models = {source.stem for source in (Path(generated.__file__).parent / "models").glob("*.py")} - {"__init__"}
    components = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower() for name in schema["components"]["schemas"]]
    # A component's inline parts (``article_json_ld_about_item``) and the enums of query parameters.
    parameter_enums = {"lookup_retrieve_knowledge_response_type", "lookup_retrieve_main_search_criteria_v_cs"}
    inline = {m for m in models if not any(m == c or m.startswith(f"{c}_") for c in components)}
    assert inline == parameter_enums
    assert {m for m in models if "error" in m or "problem" in m} == {"problem", "problem_field_error"}
    for source in (Path(generated.__file__).parent / "api").glob("*/*.py"):
        text = source.read_text()
        for status in re.findall(r"if response\.status_code == ([45][0-9][0-9]):", text):
            parse = text.split(f"if response.status_code == {status}:", 1)[1].split("return", 1)[0]
            assert "Problem.from_dict" in parse, (source.stem, status)
