"""Readers and partners can trace what a named clinician approved, across withdrawals and vocabulary changes.

Found from outside with the demo content (helper h4): after a withdrawal and a republication the page history and
the API's revision history read as if the article had been live throughout; after a medication rename the page's
JSON-LD ``dateModified`` stayed at the publication while ``Last-Modified`` and the API's ``updated_at`` moved; and a
superseded revision, pinned in the API or exported, showed today's medication and symptom names.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import parse_http_date

from articles import services
from articles.models import Article, ChangeEvent, ChangeKind, Medication, Revision
from tests.pages import json_ld, page_text

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
INTERNAL_REASON = "Pharmacy is rechecking the dose table (internal note)."


def _api(client, api_key, path):
    response = client.get(f"/api/v1/{path}", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    assert response.status_code == 200, response.content
    return response.json()


def _withdrawn_and_back(workflow, publisher, clock, slug):
    first = workflow.live(slug=slug)
    clock.advance(DAY)
    services.revision_withdraw(revision=first, actor=publisher, reason=INTERNAL_REASON)
    clock.advance(DAY)
    second = workflow.take_live(workflow.next_draft(Revision.objects.get(pk=first.pk)))
    return first, second


# --- 1. Withdrawals in the public history ---------------------------------------------------


def test_a_withdrawal_shows_in_the_page_history_and_the_api_history(client, workflow, publisher, api_key, clock):
    first, _ = _withdrawn_and_back(workflow, publisher, clock, "came-back")
    withdrawn_at = ChangeEvent.objects.get(revision=first, kind=ChangeKind.WITHDRAWN).occurred_at
    assert client.get("/articles/came-back/").status_code == 200

    html = client.get("/articles/came-back/history/").content.decode()
    start = html.index('<ol class="history"')
    history = html[start : html.index("</ol>", start)]
    day = dateformat.format(timezone.localtime(withdrawn_at), "j F Y")
    revision_1 = page_text(history[history.index("Revision 1") :])
    assert f"Withdrawn from the site on {day}" in revision_1
    assert "Withdrawn" not in page_text(history[: history.index("Revision 1")])  # revision 2 never was
    assert INTERNAL_REASON not in html  # the reason is the publisher's note in the audit log, not for readers

    revisions = _api(client, api_key, "articles/came-back/revisions/")
    assert [(r["number"], r["withdrawn_at"]) for r in revisions] == [
        (2, None),
        (1, withdrawn_at.isoformat().replace("+00:00", "Z")),
    ]
    assert INTERNAL_REASON not in json.dumps(revisions)


def test_the_history_costs_the_same_queries_with_and_without_withdrawals(
    client, workflow, publisher, clock, django_assert_num_queries
):
    from tests.articles.test_pages import count_queries

    workflow.live(slug="never-withdrawn")
    _withdrawn_and_back(workflow, publisher, clock, "withdrawn-once")
    count = count_queries(client, "/articles/never-withdrawn/history/")
    with django_assert_num_queries(count):
        client.get("/articles/withdrawn-once/history/")


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
