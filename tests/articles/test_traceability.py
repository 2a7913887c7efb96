"""Readers and partners can trace what a named clinician approved, across withdrawals and vocabulary changes.

Found from outside with the demo content (helper h4): after a withdrawal and a republication the page history and
the API's revision history read as if the article had been live throughout; after a medication rename the page's
JSON-LD ``dateModified`` stayed at the publication while ``Last-Modified`` and the API's ``updated_at`` moved; and a
superseded revision, pinned in the API or exported, showed today's medication and symptom names.
"""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import parse_http_date

from articles import services
from articles.models import Article, ChangeEvent, ChangeKind, Medication, Revision, Symptom
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


def test_the_api_json_ld_dates_the_article_from_its_first_publication_as_the_page_does(
    client, workflow, api_key, clock
):
    """Found checking the rule above: the page's datePublished was the article's first publication, the API's the live
    revision's, so one article had two publication dates in its JSON-LD."""
    first = workflow.live(slug="published-twice")
    clock.advance(DAY)
    workflow.take_live(workflow.next_draft(first))
    [page] = json_ld(client.get("/articles/published-twice/").content.decode())
    api = _api(client, api_key, "articles/published-twice/jsonld/")
    assert parse_datetime(page["datePublished"]) == Revision.objects.get(pk=first.pk).published_at
    assert api["datePublished"] == page["datePublished"]
    assert api["dateModified"] == page["dateModified"]


# --- 3. Superseded revisions keep the vocabulary as approved --------------------------------


def _renamed_after_two_revisions(workflow, reviewer, clock, slug):
    first = workflow.live(slug=slug, medication="oldamol")
    reviewed_first = first.current_review.reviewed_at
    clock.advance(DAY)
    medication = Medication.objects.get(slug="oldamol")
    symptom = Symptom.objects.get(slug="oldamol-symptom-1")
    services.medication_update(medication=medication, actor=reviewer, changes={"generic_name": "Midamol"}, reason="A.")
    clock.advance(DAY)
    second = workflow.take_live(workflow.next_draft(first))  # reviewed with "Midamol"
    clock.advance(DAY)
    medication.refresh_from_db()
    services.medication_update(medication=medication, actor=reviewer, changes={"generic_name": "Newamol"}, reason="B.")
    services.symptom_update(
        symptom=symptom, actor=reviewer, changes={"name": "Tingling in the feet"}, reason="Plainer words."
    )
    return Revision.objects.get(pk=first.pk), reviewed_first, Revision.objects.get(pk=second.pk)


def test_a_pinned_superseded_revision_shows_the_names_its_reviewer_approved(client, workflow, reviewer, api_key, clock):
    _, reviewed_first, _ = _renamed_after_two_revisions(workflow, reviewer, clock, "old-words")
    old = _api(client, api_key, "articles/old-words/revisions/1/")
    assert old["medication"]["generic_name"] == "Oldamol"
    assert old["content"]["symptoms"][0]["symptom"]["name"] == "oldamol symptom 1"
    assert parse_datetime(old["vocabulary_as_of"]) == reviewed_first
    superseded_later = _api(client, api_key, "articles/old-words/revisions/2/")
    assert superseded_later["is_current"] is True  # the live one shows the details as they are now, as its page does
    assert superseded_later["medication"]["generic_name"] == "Newamol"
    assert superseded_later["content"]["symptoms"][0]["symptom"]["name"] == "Tingling in the feet"
    assert superseded_later["vocabulary_as_of"] is None
    assert _api(client, api_key, "articles/old-words/")["medication"]["generic_name"] == "Newamol"


def test_an_export_of_a_superseded_revision_has_the_names_its_reviewer_approved(workflow, reviewer, clock):
    first, reviewed_first, _ = _renamed_after_two_revisions(workflow, reviewer, clock, "old-export")

    def export(number):
        out = io.StringIO()
        call_command("export_article", "old-export", revision=number, stdout=out)
        return json.loads(out.getvalue())

    old = export(1)
    assert old["medication"]["generic_name"] == "Oldamol"
    assert [s["name"] for s in old["symptoms"] if s["slug"] == "oldamol-symptom-1"] == ["oldamol symptom 1"]
    assert parse_datetime(old["vocabulary_as_of"]) == reviewed_first
    live = export(2)
    assert live["medication"]["generic_name"] == "Newamol"
    assert "vocabulary_as_of" not in live  # today's details, as every export before: the live page shows them
    # The older file can still be imported as a new draft: the stored entries are used as they are, unchanged.
    copy = services.article_import(document={**old, "article": {"slug": "old-export-copy"}}, actor=first.created_by)
    assert copy.article.medication.generic_name == "Newamol"
    assert Medication.objects.get(slug="oldamol").generic_name == "Newamol"


def test_a_pinned_superseded_revision_costs_the_same_queries_however_often_its_vocabulary_changed(
    client, workflow, reviewer, api_key, clock
):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _renamed_after_two_revisions(workflow, reviewer, clock, "old-budget")

    def count() -> int:
        cache.clear()  # the body is worked out again
        with CaptureQueriesContext(connection) as queries:
            _api(client, api_key, "articles/old-budget/revisions/1/")
        return len(queries)

    few = count()
    medication = Medication.objects.get(slug="oldamol")
    for n in range(10):
        medication.refresh_from_db()
        services.medication_update(
            medication=medication, actor=reviewer, changes={"drug_class": f"Class {n}"}, reason="R."
        )
    assert count() == few
    assert _api(client, api_key, "articles/old-budget/revisions/1/")["medication"]["generic_name"] == "Oldamol"
