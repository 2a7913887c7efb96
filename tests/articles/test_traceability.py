"""Readers and partners can trace what a named clinician approved, across withdrawals and vocabulary changes.

Found from outside with the demo content (helper h4): after a withdrawal and a republication the page history and
the API's revision history read as if the article had been live throughout; after a medication rename the page's
JSON-LD ``dateModified`` stayed at the publication while ``Last-Modified`` and the API's ``updated_at`` moved; and a
superseded revision, pinned in the API or exported, showed today's medication and symptom names.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils.dateparse import parse_datetime
from django.utils.http import parse_http_date

from articles import services
from articles.models import Article, Medication, Revision
from tests.pages import json_ld

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _api(client, api_key, path):
    response = client.get(f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    assert response.status_code == 200, response.content
    return response.json()


# --- 2. JSON-LD dateModified: when what the page shows last changed --------------------------


def test_json_ld_date_modified_moves_with_a_vocabulary_change(client, workflow, reviewer, api_key, clock):
    live = workflow.live(slug="renamed-later")
    clock.advance(DAY)
    services.medication_update(
        medication=Medication.objects.get(pk=live.article.medication_id),
        actor=reviewer,
        changes={"generic_name": "Renamedamol"},
        reason="Name as in the national formulary.",
    )
    clock.settle()
    changed_at = Article.objects.get(pk=live.article_id).public_updated_at
    assert changed_at > Revision.objects.get(pk=live.pk).published_at

    page = client.get("/articles/renamed-later/")
    [data] = json_ld(page.content.decode())
    assert "Renamedamol" in page.content.decode()
    assert parse_datetime(data["dateModified"]) == changed_at
    api = _api(client, api_key, "articles/renamed-later/")
    assert parse_datetime(api["updated_at"]) == changed_at
    assert _api(client, api_key, "articles/renamed-later/jsonld/")["dateModified"] == data["dateModified"]
    assert parse_http_date(page["Last-Modified"]) >= int(changed_at.timestamp())
