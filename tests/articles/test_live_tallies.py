"""Live tallies (``LiveTally``): the home page's counts, kept by the writers, always what a brute-force count says.

The reference is an aggregate over ``Revision.objects.published()`` (what readers see,
scheduled publications included from their time); the tallies must agree after every
kind of public change, and the home page must read them, not the articles.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.interchange.export import revision_content
from articles.models import Article, ArticleKind, ChangeFeedLock, LiveTally, Medication, Revision, RevisionState

HOUR = datetime.timedelta(hours=1)


def counted(kind: str = ArticleKind.ARTICLE) -> tuple[dict[int, int], dict[str, int]]:
    """The counts the home page shows, from the tallies."""
    topics = LiveTally.objects.count_by_topic(kind)
    counts = [row["count"] for row in topics]
    assert counts == sorted(counts, reverse=True), "the most written-about topics come first"
    return LiveTally.objects.count_by_medication(kind), {row["topic"]: row["count"] for row in topics}


def brute_force(kind: str = ArticleKind.ARTICLE) -> tuple[dict[int, int], dict[str, int]]:
    """The same counts, aggregated over every live revision."""
    live = Revision.objects.published().of_kind(kind)
    return live.count_by_medication(), {row["topic"]: row["count"] for row in live.count_by_topic()}


def assert_counts(expected_topics: dict[str, int]) -> None:
    assert counted() == brute_force()
    assert counted()[1] == expected_topics
    assert_medications_shown()


def assert_medications_shown() -> None:
    """The medications partners and the sitemap are shown (read from the tallies) are those live content is about."""
    live = Revision.objects.published()
    about = set(live.values_list("article__medication", flat=True))
    assert set(Medication.objects.in_live_content().values_list("pk", flat=True)) == about
    articles_about = set(live.articles().values_list("article__medication", flat=True))
    assert set(Medication.objects.with_live_articles().values_list("pk", flat=True)) == articles_about


def next_with_topic(workflow: Any, live: Revision, topic: str) -> Revision:
    """An approved-ready draft of ``live``'s article about ``topic``."""
    draft = workflow.next_draft(live)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["topic"] = topic
    services.revision_update_content(revision=draft, actor=draft.created_by, expected_lock_version=0, content=content)
    return Revision.objects.get(pk=draft.pk)


def test_publish_republish_with_a_new_topic_and_withdraw_move_the_counts(workflow, publisher):
    assert_counts({})
    first = workflow.live(slug="one", medication="onamol", topic="Rash")
    workflow.live(slug="two", medication="onamol", topic="Rash")
    workflow.live(slug="three", medication="twamol", topic="Dizziness")
    assert_counts({"Rash": 2, "Dizziness": 1})
    second = workflow.take_live(next_with_topic(workflow, first, "Dizziness"))
    assert_counts({"Rash": 1, "Dizziness": 2})
    assert Article.objects.get(slug="one").tallied_topic == "Dizziness"
    services.revision_withdraw(revision=second, actor=publisher, reason="Wrong.")
    assert_counts({"Rash": 1, "Dizziness": 1})
    assert Article.objects.get(slug="one").tallied_topic is None
    # No empty rows are kept: a read costs what the live vocabulary does.
    assert not LiveTally.objects.filter(count=0).exists()


def test_a_scheduled_publication_counts_from_its_time_before_and_after_it_is_recorded(workflow, clock):
    live = workflow.live(slug="one", medication="onamol", topic="Rash")
    workflow.take_live(next_with_topic(workflow, live, "Dizziness"), publish_at=timezone.now() + HOUR)
    new = workflow.take_live(
        workflow.draft(slug="new", medication="twamol", topic="Cough"), publish_at=timezone.now() + HOUR
    )
    assert new.state == RevisionState.SCHEDULED
    assert_counts({"Rash": 1})
    clock.advance(2 * HOUR)  # live now, with no write
    assert_counts({"Dizziness": 1, "Cough": 1})
    assert services.revisions_publish_due()
    assert_counts({"Dizziness": 1, "Cough": 1})
    assert dict(LiveTally.objects.values_list("topic", "count")) == {"Dizziness": 1, "Cough": 1}


def test_unscheduling_changes_no_count(workflow, publisher, clock):
    live = workflow.live(slug="one", medication="onamol", topic="Rash")
    scheduled = workflow.take_live(next_with_topic(workflow, live, "Dizziness"), publish_at=timezone.now() + HOUR)
    services.revision_unschedule(revision=scheduled, actor=publisher)
    clock.advance(2 * HOUR)
    assert_counts({"Rash": 1})


def test_a_vocabulary_change_changes_no_count_and_reads_no_tally(workflow, reviewer):
    workflow.live(slug="one", medication="onamol", topic="Rash")
    before = counted()
    medication = Medication.objects.get(slug="onamol")
    with CaptureQueriesContext(connection) as queries:
        services.medication_update(
            medication=medication, actor=reviewer, changes={"generic_name": "Onamol B"}, reason="Renamed."
        )
    assert counted() == before == brute_force()
    assert not any("livetally" in query["sql"].lower() for query in queries)
    assert_medications_shown()


def test_rebuilding_recounts_from_scratch_and_moves_the_clock(workflow):
    workflow.live(slug="one", medication="onamol", topic="Rash")
    workflow.live(slug="two", medication="twamol", topic="Rash")
    LiveTally.objects.all().delete()  # a write that bypassed the services
    Article.objects.update(tallied_topic=None)
    version = ChangeFeedLock.objects.get().public_version
    call_command("rebuild_live_tallies", stdout=io.StringIO())
    assert_counts({"Rash": 2})
    assert ChangeFeedLock.objects.get().public_version == version + 1


def test_the_home_page_miss_counts_no_articles(client, workflow):
    from tests.api.bulk import live_listings

    workflow.live(slug="one", medication="onamol", topic="Rash")
    live_listings(50, medications=list(Medication.objects.all()), topics=("Rash", "Cough"))
    assert_counts({"Rash": 26, "Cough": 25})
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    grouped = [query["sql"] for query in queries if "GROUP BY" in query["sql"].upper()]
    assert grouped and not any('"articles_revision"' in sql or '"articles_article"' in sql for sql in grouped), grouped


def test_the_partner_medication_list_follows_what_is_live(api, workflow, publisher, clock):
    """``/api/v1/medications/`` reads the tallies: a medication is listed from its first publication (a scheduled
    one from its time, before it is recorded) until its last live article is withdrawn."""

    def listed() -> set[str]:
        return {medication["slug"] for medication in api.json("/api/v1/medications/")["results"]}

    live = workflow.live(slug="one", medication="onamol", topic="Rash")
    workflow.take_live(workflow.draft(slug="new", medication="twamol", topic="Cough"), publish_at=timezone.now() + HOUR)
    assert listed() == {"onamol"}
    clock.advance(2 * HOUR)  # live now, with no write
    assert listed() == {"onamol", "twamol"}
    assert services.revisions_publish_due()
    assert listed() == {"onamol", "twamol"}
    services.revision_withdraw(revision=live, actor=publisher, reason="Wrong.")
    assert listed() == {"twamol"}
    assert_medications_shown()
