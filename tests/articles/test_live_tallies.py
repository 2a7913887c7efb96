"""Live tallies (``LiveTally``): the home page's counts, kept by the writers, always what a brute-force count says.

The reference is an aggregate over ``Revision.objects.published()`` (what readers see,
scheduled publications included from their time); the tallies must agree after every
kind of public change, and the home page must read them, not the articles.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import services
from articles.interchange.export import revision_content
from articles.models import (
    Article,
    ArticleKind,
    ChangeFeedLock,
    LiveSymptomTally,
    LiveTally,
    Medication,
    Revision,
    RevisionState,
    Symptom,
    symptom_references,
)

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
    assert_symptoms_shown()


def shown_by(revisions: QuerySet[Revision]) -> set[int]:
    """The symptoms some content row of one of ``revisions`` refers to, asked of the rows themselves: the definition
    ``Symptom.objects.in_live_content()`` had before the tallies (the oracle; it read rows in proportion to them)."""
    condition = Q(pk__in=[])
    for reference in symptom_references():
        rows = reference.model._default_manager.filter(**{reference.symptom_field: OuterRef("pk")})
        condition |= Exists(rows.filter(Exists(revisions.filter(pk=OuterRef("revision_id")))))
    return set(Symptom.objects.filter(condition).values_list("pk", flat=True))


def symptoms_brute_force() -> dict[tuple[str, int], int]:
    """How many articles of each kind have a recorded live revision that shows each symptom."""
    counts: dict[tuple[str, int], int] = {}
    for revision in Revision.objects.filter(state=RevisionState.PUBLISHED).select_related("article"):
        for symptom_id in Symptom.objects.shown_by_revision(revision.pk).values_list("pk", flat=True):
            key = (revision.article.kind, symptom_id)
            counts[key] = counts.get(key, 0) + 1
    return counts


def assert_symptoms_shown() -> None:
    """The symptoms partners and the symptom pages are shown (read from the tallies) are those live content shows."""
    live = Revision.objects.published()
    assert set(Symptom.objects.in_live_content().values_list("pk", flat=True)) == shown_by(live)
    assert set(Symptom.objects.with_live_articles().values_list("pk", flat=True)) == shown_by(live.articles())
    tallied = {
        (kind, symptom_id): count
        for kind, symptom_id, count in LiveSymptomTally.objects.values_list("kind", "symptom", "count")
    }
    assert tallied == symptoms_brute_force()


def assert_medications_shown() -> None:
    """The medications partners and the sitemap are shown (read from the tallies) are those live content is about."""
    live = Revision.objects.published()
    about = set(live.values_list("article__medication", flat=True))
    assert set(Medication.objects.in_live_content().values_list("pk", flat=True)) == about
    articles_about = set(live.articles().values_list("article__medication", flat=True))
    assert set(Medication.objects.with_live_articles().values_list("pk", flat=True)) == articles_about


def next_with_topic(workflow: Any, live: Revision, topic: str) -> Revision:
    """An approved-ready draft of ``live``'s article about ``topic``."""
    return workflow.edited_draft(live, topic=topic)


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
    LiveSymptomTally.objects.all().delete()
    Article.objects.update(tallied_topic=None, tallied_revision=None)
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


def with_symptoms(workflow: Any, based_on: Revision, *slugs: str) -> Revision:
    """A draft of ``based_on``'s article whose symptom entries show ``slugs`` (made if new)."""
    for slug in slugs:
        Symptom.objects.get_or_create(slug=slug, defaults={"name": slug.capitalize(), "description": "Described."})
    draft = workflow.next_draft(based_on)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["symptom_entries"] = [
        {**content["symptom_entries"][0], "key": f"entry-{n}", "position": n, "symptom": slug}
        for n, slug in enumerate(slugs, start=1)
    ]
    services.revision_update_content(revision=draft, actor=draft.created_by, expected_lock_version=0, content=content)
    return Revision.objects.get(pk=draft.pk)


def test_the_symptoms_shown_follow_every_change_of_what_is_live(api, client, workflow, publisher, clock):
    """Which symptoms live content shows is read from per-symptom tallies moved by every public change: publishing,
    replacing by a revision showing other symptoms, withdrawing, a schedule gone live before it is recorded (it hides
    the symptoms of the revision it replaces), its recording and a republication all agree with the rows
    themselves, and so do the partners' list and the symptom pages."""

    def listed() -> set[str]:
        return {symptom["slug"] for symptom in api.json("/api/v1/symptoms/")["results"]}

    def pages() -> dict[str, int]:
        return {slug: client.get(f"/symptoms/{slug}/").status_code for slug in ("rash", "cough", "fever", "itch")}

    first = workflow.live(slug="one", medication="onamol", symptoms=1)
    workflow.live(slug="two", medication="twamol", symptoms=1)
    assert listed() == {"onamol-symptom-1", "twamol-symptom-1"}
    assert_symptoms_shown()
    second = workflow.take_live(with_symptoms(workflow, first, "rash", "cough"))
    assert listed() == {"rash", "cough", "twamol-symptom-1"}
    assert pages() == {"rash": 200, "cough": 200, "fever": 404, "itch": 404}
    assert_symptoms_shown()
    assert Article.objects.get(slug="one").tallied_revision_id == second.pk
    third = workflow.take_live(with_symptoms(workflow, second, "cough", "fever"))
    assert listed() == {"cough", "fever", "twamol-symptom-1"}
    assert_symptoms_shown()
    services.revision_withdraw(revision=third, actor=publisher, reason="Wrong.")
    assert listed() == {"twamol-symptom-1"}
    assert pages() == {"rash": 404, "cough": 404, "fever": 404, "itch": 404}
    assert Article.objects.get(slug="one").tallied_revision_id is None
    assert_symptoms_shown()
    fourth = workflow.take_live(with_symptoms(workflow, third, "rash", "itch"))  # republished
    workflow.take_live(with_symptoms(workflow, workflow.live(slug="three", medication="twamol"), "rash"))
    scheduled = workflow.take_live(with_symptoms(workflow, fourth, "fever"), publish_at=timezone.now() + HOUR)
    assert listed() == {"rash", "itch", "twamol-symptom-1"}
    assert_symptoms_shown()
    clock.advance(2 * HOUR)  # live now, with no write: fever is shown, itch is not, rash still is (by "three")
    assert listed() == {"fever", "rash", "twamol-symptom-1"}
    assert pages() == {"rash": 200, "cough": 404, "fever": 200, "itch": 404}
    assert_symptoms_shown()
    assert services.revisions_publish_due()
    assert Article.objects.get(slug="one").tallied_revision_id == scheduled.pk
    assert listed() == {"fever", "rash", "twamol-symptom-1"}
    assert_symptoms_shown()
    assert not LiveSymptomTally.objects.filter(count=0).exists()


def test_a_repeated_public_change_moves_no_symptom_tally(workflow):
    from django.db import transaction

    from articles.live import public_change

    live = workflow.live(slug="one", medication="onamol", symptoms=2)
    before = symptoms_brute_force()
    with transaction.atomic():
        public_change([live.article_id])
        public_change([live.article_id])
    assert {(k, s): c for k, s, c in LiveSymptomTally.objects.values_list("kind", "symptom", "count")} == before
    assert_symptoms_shown()


def test_a_pathway_shows_its_symptoms_to_partners_not_on_symptom_pages(published_pathway, publisher):
    """Content of another kind (a triage pathway's questions) counts for the partners' list, not for the pages."""
    from triage.models import Question

    asked = set(
        Question.objects.filter(revision=published_pathway, symptom__isnull=False).values_list("symptom", flat=True)
    )
    assert asked
    assert asked <= set(Symptom.objects.in_live_content().values_list("pk", flat=True))
    assert_symptoms_shown()
    services.revision_withdraw(revision=published_pathway, actor=publisher, reason="Wrong.")
    assert_symptoms_shown()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_changes_at_once_to_articles_showing_the_same_symptom_lose_no_count(author, reviewer, publisher):
    """Two transactions, each on its own connection, publishing one article and withdrawing another that show the
    same symptoms, at the same moment: each moves the symptom's tally under the public clock's lock (taken before
    any tally is read), so neither overwrites the other's count, whichever commits first."""
    from tests.articles.test_concurrency import race
    from tests.conftest import approve, take_live
    from tests.factories import article_document

    outcomes: list[str] = []
    for n in range(5):
        live = take_live(
            services.article_import(document=article_document(slug=f"live-{n}"), actor=author),
            author,
            reviewer,
            publisher,
        )
        draft = services.article_import(document=article_document(slug=f"new-{n}"), actor=author)
        draft = approve(services.revision_submit(revision=draft, actor=author, change_summary="New."), reviewer)
        before = LiveSymptomTally.objects.filter(symptom__slug="testamol-symptom-1").get().count

        def publish(draft: Revision = draft) -> str:
            services.revision_publish(revision=draft, actor=publisher)
            return "published"

        def withdraw(live: Revision = live) -> str:
            services.revision_withdraw(revision=live, actor=publisher, reason="Withdrawn in a race.")
            return "withdrawn"

        outcomes.extend(race(publish, withdraw))
        assert LiveSymptomTally.objects.filter(symptom__slug="testamol-symptom-1").get().count == before
        assert_symptoms_shown()
    assert sorted(set(outcomes)) == ["published", "withdrawn"], outcomes
