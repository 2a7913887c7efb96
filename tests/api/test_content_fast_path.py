"""The article payload's content block is written by plain functions; it must equal what the serializers write."""

from __future__ import annotations

import json

import pytest

from articles.api.serializers import ContentSerializer, content_data
from articles.models import Revision
from tests.factories import article_document, demo_document, every_branch_document

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(demo_document, id="demo"),
        pytest.param(every_branch_document, id="every-branch"),
        pytest.param(
            lambda: article_document(sections=30, references=50, rows=40, columns=6, symptoms=25, actions=20),
            id="large",
        ),
    ],
)
def test_the_fast_path_writes_what_the_serializers_write(workflow, api, document):
    live = workflow.live(document())
    revision = Revision.objects.with_content().get(pk=live.pk)
    by_serializers = ContentSerializer(context={}).field_by_field(revision)
    assert json.dumps(content_data(revision)) == json.dumps(by_serializers)  # same values, same key order
    payload = api.json(f"/api/v1/articles/{live.article.slug}/")
    assert payload["content"] == json.loads(json.dumps(by_serializers))


def test_the_schema_still_documents_the_content_block(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    for component in ("Content", "Section", "SymptomEntry", "ComparisonTable", "TableRow", "Reference"):
        assert f'"{component}"' in schema, component
