"""A vocabulary change costs the same statements however many articles show the entry.

Renaming a medication or a symptom stamps, audits and re-indexes every article that
shows it, in the transaction a clinician's click waits for, holding those articles'
locks. Measured on PostgreSQL at 100,000 articles, a medication on 25,000 of them took
13.5 s, most of it re-indexing each article from all its rows, 500 at a time; about
50,000 would have passed gunicorn's 30 s timeout and saved nothing. The work is
set-wise now: a fixed number of statements whatever the number of articles, and the
index it leaves is the one a rebuild would write.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.live import MAX_ARTICLE_KEYS_PER_PURGE
from articles.models import AuditAction, AuditEntry, Medication, Revision, SearchEntry, Symptom
from articles.search import search
from tests.api.bulk import live_articles

pytestmark = pytest.mark.django_db

FEW, MANY = 10, 600  # MANY: more than a batch of the index (500) and than a purge names (100)


def medication(slug: str) -> Medication:
    return Medication.objects.create(slug=slug, generic_name=slug.capitalize(), brand_names=[f"{slug[:4]}ex"])


def statements(call: Any) -> int:
    """How many statements ``call`` runs (the actor's permissions read already, as after a first step)."""
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_a_medication_rename_costs_the_same_statements_for_few_or_many_articles(reviewer):
    few, many = medication("fewmol"), medication("manymol")
    live_articles(FEW, medication=few, reviewer=reviewer, prefix="few")
    live_articles(MANY, medication=many, reviewer=reviewer, prefix="many")
    reviewer.get_all_permissions()  # read once per user object, by whichever step comes first

    def rename(entry: Medication, salt: str) -> Any:  # each adds one new word to the suggestions
        return lambda: services.medication_update(
            medication=entry, actor=reviewer, changes={"generic_name": f"{entry.generic_name} {salt}"}, reason="Salt."
        )

    assert statements(rename(many, "sodium")) == statements(rename(few, "potassium"))


def test_a_symptom_rename_costs_the_same_statements_for_few_or_many_articles(reviewer):
    live_articles(FEW, medication=medication("fewmol"), reviewer=reviewer, prefix="few")
    live_articles(MANY, medication=medication("manymol"), reviewer=reviewer, prefix="many")
    reviewer.get_all_permissions()  # read once per user object, by whichever step comes first

    def rename(slug: str, word: str) -> Any:  # each adds one new word to the suggestions
        symptom = Symptom.objects.get(slug=slug)
        return lambda: services.symptom_update(
            symptom=symptom, actor=reviewer, changes={"name": f"{symptom.name} {word}"}, reason="Plainer."
        )

    assert statements(rename("many-symptom", "dizzy")) == statements(rename("few-symptom", "woozy"))


def indexed() -> list[tuple[Any, ...]]:
    return list(
        SearchEntry.objects.order_by("revision_id").values_list(
            "revision_id", "kind", "names", "about", "symptoms", "body"
        )
    )


def documents() -> list[str]:
    """The PostgreSQL ``tsvector`` of each entry as text (empty on SQLite, which keeps them in FTS5)."""
    return [
        str(document) for document in SearchEntry.objects.order_by("revision_id").values_list("document", flat=True)
    ]


def test_a_vocabulary_change_leaves_the_index_a_rebuild_would_write(workflow, reviewer, published_pathway):
    """Medication and symptom renamed on an article (with a scheduled revision), a pathway and bulk articles: the
    entries are what ``rebuild_search_index`` writes from scratch, and search finds the new names only."""
    live = Revision.objects.published().get(article__slug="amlodipine-peripheral-neuropathy")
    workflow.take_live(workflow.next_draft(live), publish_at=timezone.now() + datetime.timedelta(days=1))
    live_articles(3, medication=Medication.objects.get(slug="amlodipine"), reviewer=reviewer, prefix="extra")
    services.medication_update(
        medication=Medication.objects.get(slug="amlodipine"),
        actor=reviewer,
        changes={"generic_name": "Zyxamlodine", "brand_names": ["Quorvasc", "Istin"]},
        reason="Renamed.",
    )
    symptom = Symptom.objects.get(slug="muscle-weakness-or-cramping")
    services.symptom_update(
        symptom=symptom,
        actor=reviewer,
        changes={"name": "Frobnicating weakness", "description": "Muscles feel weak (zorbled)."},
        reason="Plainer.",
    )
    after, after_documents = indexed(), documents()
    call_command("rebuild_search_index", stdout=None)
    assert indexed() == after
    assert documents() == after_documents
    assert len(search("Zyxamlodine", kind="article")) == 4  # the demo article and the three extra
    assert search("Quorvasc", kind="article") == search("Zyxamlodine", kind="article")
    assert search("frobnicating", kind="article") != []
    # The demo article and its pathway share the symptom.
    pathway = published_pathway.article.kind
    assert search("zorbled", kind=pathway) != [] and search("zorbled", kind="article") != []


def test_a_rename_of_many_articles_is_seen_searched_audited_and_listed_once_each(api, reviewer, settings):
    many = medication("manymol")
    revisions = live_articles(MANY, medication=many, reviewer=reviewer, prefix="many")
    assert MANY > MAX_ARTICLE_KEYS_PER_PURGE
    moment = timezone.now()
    services.medication_update(medication=many, actor=reviewer, changes={"generic_name": "Quuxamol"}, reason="Renamed.")
    assert len(search("Quuxamol", kind="article")) > 100  # "more than 100 results"
    assert search("Manymol", kind="article") == []
    entries = AuditEntry.objects.filter(action=AuditAction.UPDATE_MEDICATION)
    assert sorted(entries.values_list("article_id", "revision_id")) == sorted(
        (revision.article_id, revision.pk) for revision in revisions
    )
    assert {entry.data["changes"][0]["to"] for entry in entries} == {"Quuxamol"}
    slugs: list[str] = []
    page = api.json("/api/v1/articles/", {"updated_since": moment.isoformat()})
    while True:
        slugs += [article["slug"] for article in page["results"]]
        if not page["next"]:
            break
        page = api.json(page["next"])
    assert sorted(slugs) == sorted(revision.article.slug for revision in revisions)
    data = api.json(f"/api/v1/articles/{revisions[-1].article.slug}/")
    assert datetime.datetime.fromisoformat(data["updated_at"]) >= moment
    assert data["medication"]["generic_name"] == "Quuxamol"
