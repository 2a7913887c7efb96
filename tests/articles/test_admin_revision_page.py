"""The revision page: what is asked of you first, links that inform the decision, one open draft at a time."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from articles import services
from articles.models import Revision
from tests.articles.test_admin import change_url

pytestmark = pytest.mark.django_db

START = "Start a new draft from this revision"


def test_view_on_site_opens_the_preview_for_a_draft_and_the_page_for_the_live_revision(client, workflow, author):
    live = workflow.live()
    draft = workflow.next_draft(live)
    client.force_login(author)
    assert client.get(change_url(draft)).context["absolute_url"] == f"/admin/articles/revision/{draft.pk}/preview/"
    assert client.get(change_url(live)).context["absolute_url"] == live.article.get_absolute_url()


def test_a_second_draft_is_not_offered_while_one_is_open(client, workflow, author):
    live = workflow.live()
    client.force_login(author)
    assert START in client.get(change_url(live)).content.decode()

    draft = workflow.next_draft(live)
    html = client.get(change_url(live)).content.decode()
    assert START not in html
    assert "Revision 2 of this article is already open (draft)" in html
    assert f'href="/admin/articles/revision/{draft.pk}/change/">go to revision 2</a>' in html
    assert ">Compare with revision 2<" in html  # what the comparison page shows by default
    assert ">Compare with live<" in client.get(change_url(draft)).content.decode()
    # The draft itself offers submission, not a parallel copy of itself.
    assert START not in client.get(change_url(draft)).content.decode()

    # A page shown before the draft was started still has the button: pressing it starts nothing.
    response = client.post(f"/admin/articles/revision/{live.pk}/transition/create_draft/", follow=True)
    assert "No new draft started" in response.content.decode()
    assert Revision.objects.filter(article=live.article).count() == 2
    assert f'<a href="/admin/articles/revision/{draft.pk}/change/">revision 2 of' in response.content.decode()
    # Nor does the article list's action, which says the same.
    response = client.post(
        "/admin/articles/article/", {"action": "start_draft", "_selected_action": [live.article_id]}, follow=True
    )
    assert "No new draft started" in response.content.decode()
    assert f'<a href="/admin/articles/revision/{draft.pk}/change/">revision 2 of' in response.content.decode()
    assert Revision.objects.filter(article=live.article).count() == 2


def test_the_author_sees_the_requested_changes_first_and_the_links_sit_with_the_actions(
    client, workflow, author, reviewer
):
    draft = workflow.draft()
    services.revision_submit(revision=draft, actor=author, change_summary="First.")
    client.force_login(reviewer)
    html = client.get(change_url(draft)).content.decode()
    links, approve, record = html.index(">Preview<"), html.index(">Approve<"), html.index('id="revision_form"')
    assert links < approve < record
    services.revision_request_changes(revision=draft, actor=reviewer, comment="Cite the label for onset.")

    client.force_login(author)
    html = client.get(change_url(draft)).content.decode()
    assert "Changes requested by reviewer" in html
    requested, checks = html.index("Cite the label for onset."), html.index("Content checks")
    assert requested < checks < html.index('id="revision_form"')
    submit, archive = html.index(">Submit for clinical review<"), html.index(">Archive this draft<")
    assert submit < archive < html.index('id="sections-group"')
    # The content folds into groups with counts, open while it can be edited.
    assert '<details class="inline-fold" open>' in html
    assert 'Sections <span class="inline-count">(3)</span>' in html


def test_a_revision_address_that_is_not_a_number_is_not_found_not_an_error(client, author):
    client.force_login(author)
    # Seen in the wild: a stylesheet's relative @import resolved against the page's address.
    response = client.get("/admin/articles/revision/1/change/widgets.css/change/")
    assert response.status_code in {302, 404}


def test_the_revision_page_costs_the_same_queries_with_many_more_rows(client, workflow, published_article, author):
    """The draft's page (every list with its move buttons and labels) at the demo's size and with each list
    grown by 20 rows: the same number of queries, so no row asks the database for itself."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from articles.models import ActionStep, Reference, SafetyCallout, Section, SymptomEntry

    draft = workflow.next_draft(published_article)
    client.force_login(author)
    with CaptureQueriesContext(connection) as small:
        assert client.get(change_url(draft)).status_code == 200
    for model in (Section, SymptomEntry, ActionStep, SafetyCallout, Reference):
        first = model.objects.filter(revision=draft).order_by("position").first()
        copies = []
        for n in range(20):
            copy = model.objects.get(pk=first.pk)
            copy.pk = None
            copy.key = f"extra-{n}"
            copy.position = 100 + n
            copies.append(copy)
        model.objects.bulk_create(copies)
    with CaptureQueriesContext(connection) as large:
        assert client.get(change_url(draft)).status_code == 200
    repeated = Counter(re.sub(r"\d+", "N", query["sql"])[-160:] for query in large).most_common(3)
    assert len(large) == len(small), repeated


def test_the_revision_page_reads_the_articles_open_draft_once(client, workflow, published_article, author):
    """The buttons (``services.available_transitions``, which leave out a step that would open a second draft)
    and the link to the open draft come from one read of it, not one each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    draft = workflow.next_draft(published_article)
    client.force_login(author)
    for revision in (published_article, draft):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(change_url(revision)).status_code == 200
        reads = [
            query["sql"]
            for query in queries
            if "articles_revision" in query["sql"].split("WHERE")[0]
            and "'changes_requested'" in query["sql"]
            and "'draft'" in query["sql"]
        ]
        assert len(reads) == 1, reads
