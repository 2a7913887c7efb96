"""Helpers for the partner API's contract tests (``test_contract_checks``, ``test_generated_client``).

- ``load_partner_world``: the demo content (``load_demo``'s article and both pathways, through
  the review workflow), a withdrawn article, and a key of the demo partner.
- ``StrictValidator``: validates a response body against the served OpenAPI 3.0 schema the
  way a strict generator or validator in another language reads it, not the way
  schemathesis forgives it (see its docstring).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import jsonschema
from django.test import Client

from articles import services
from articles.demo.loading import DEMO_PARTNER, ensure_demo_accounts, ensure_demo_partner, load_demo_content
from partners.models import Partner
from partners.services import partner_key_create
from tests.factories import article_document

SCHEMA_URL = "/api/v1/schema/"

# The demo content (articles/demo, triage/demo) and one article withdrawn by the test.
ARTICLE = "amlodipine-peripheral-neuropathy"
MEDICATION, RXCUI, ATC = "amlodipine", "17767", "C08CA01"
PATHWAYS = ("numbness-tingling-weakness-amlodipine", "swollen-ankles-feet-legs-amlodipine")
WITHDRAWN = "withdrawn-contract-article"
RXNORM, WHO_ATC, SNOMED = "2.16.840.1.113883.6.88", "2.16.840.1.113883.6.73", "2.16.840.1.113883.6.96"


@dataclass(frozen=True)
class PartnerWorld:
    key: str
    authorization: str


def load_partner_world(*, workflow: Any, publisher: Any) -> PartnerWorld:
    """What a partner sees on a site running ``load_demo``, plus a withdrawal; returns the demo partner's key.

    Needs the role groups (the ``roles`` fixture) and the workflow fixtures for the withdrawn article.
    """
    ensure_demo_accounts()
    loaded = load_demo_content()
    assert {slug for slug, _ in loaded} >= {ARTICLE, *PATHWAYS}, loaded
    gone = workflow.live(article_document(slug=WITHDRAWN, medication="withdrawnol"))
    services.revision_withdraw(revision=gone, actor=publisher, reason="Superseded by new guidance.")
    ensure_demo_partner()
    _, key = partner_key_create(partner=Partner.objects.get(name=DEMO_PARTNER), name="contract tests")
    return PartnerWorld(key=key, authorization=f"Api-Key {key}")


def served_schema(client: Client | None = None) -> dict[str, Any]:
    """The OpenAPI document exactly as ``/api/v1/schema/`` serves it, as JSON."""
    response = (client or Client()).get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.status_code
    return json.loads(response.content)


# OpenAPI 3.0 keywords that are not JSON Schema; dropped before validating a response.
_OPENAPI_ONLY = {"nullable", "readOnly", "writeOnly", "example", "discriminator", "xml", "externalDocs", "deprecated"}


def strict_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0.3 Schema Object as JSON Schema 2020-12, read strictly.

    - ``nullable: true`` admits ``null`` only beside a ``type`` in the same object (OpenAPI
      3.0.3's clarification, and how generators read it): ``allOf: [$ref] + nullable`` does not.
    - ``format`` is an annotation, not an assertion (JSON Schema's default, and most clients'):
      so a ``oneOf`` whose branches differ only by ``format`` is ambiguous, as it is for them.
    """
    if isinstance(node, list):
        return [strict_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for keyword, value in node.items():
        if keyword in _OPENAPI_ONLY:
            continue
        if keyword == "properties":
            converted[keyword] = {name: strict_json_schema(schema) for name, schema in value.items()}
        else:
            converted[keyword] = strict_json_schema(value)
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        converted["type"] = [node["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    return converted


class StrictValidator:
    """Validates response bodies against the served schema's declared response for (operation, status, media type)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.components = strict_json_schema(copy.deepcopy(schema.get("components", {})))

    def declared(self, path: str, method: str, status: int, media_type: str) -> dict[str, Any] | None:
        responses = self.schema["paths"][path][method.lower()]["responses"]
        response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if response is None:
            return None
        content = response.get("content", {})
        return (content.get(media_type) or {}).get("schema")

    def errors(self, path: str, method: str, status: int, content_type: str, body: bytes) -> list[str]:
        """What a strict reader finds wrong with this response's body; [] if it conforms or nothing is declared.

        An undeclared status code or media type is the schemathesis checks' business, not this one's.
        """
        media_type = content_type.split(";")[0].strip().lower()
        declared = self.declared(path, method, status, media_type)
        if declared is None:
            return []
        document = {**strict_json_schema(declared), "components": self.components}
        validator = jsonschema.Draft202012Validator(document)
        try:
            instance = json.loads(body)
        except ValueError as error:
            return [f"the body is not JSON: {error}"]
        found = sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path))
        return [f"/{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}" for error in found[:10]]
