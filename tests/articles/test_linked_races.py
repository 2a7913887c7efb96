"""Races between content of different kinds whose pages link to each other by a symptom they share (a triage pathway
and the articles it links to): a public change of one stamps the others, so the two must never wait on each other."""

from __future__ import annotations

import datetime
import functools

import pytest
from django.utils import timezone

from articles import services
from articles.models import Revision, Symptom
from tests.articles.test_concurrency import race
from tests.conftest import approve

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

TRIALS = 10


def approved_next(live: Revision, author, reviewer) -> Revision:
    draft = services.revision_create_draft(article=live.article, actor=author, based_on=live)
    return approve(services.revision_submit(revision=draft, actor=author, change_summary="Next."), reviewer)


def test_publishing_a_pathway_and_an_article_it_links_to_at_once_never_deadlocks(
    published_article, published_pathway, author, reviewer, publisher
):
    outcomes: list[str] = []
    article, pathway = published_article, published_pathway
    for _ in range(TRIALS):
        next_article = approved_next(article, author, reviewer)
        next_pathway = approved_next(pathway, author, reviewer)

        def publish(revision: Revision) -> str:
            services.revision_publish(revision=revision, actor=publisher)
            return "published"

        outcomes.extend(race(functools.partial(publish, next_article), functools.partial(publish, next_pathway)))
        article = Revision.objects.published().get(article=article.article)
        pathway = Revision.objects.published().get(article=pathway.article)
    assert not [o for o in outcomes if o != "published"], outcomes


def due_next(live: Revision, author, reviewer, publisher) -> Revision:
    """A scheduled revision after ``live`` whose time has come, not yet recorded."""
    scheduled = services.revision_publish(
        revision=approved_next(live, author, reviewer),
        actor=publisher,
        publish_at=timezone.now() + datetime.timedelta(hours=1),
    )
    Revision.objects.filter(pk=scheduled.pk).update(publish_at=timezone.now() - datetime.timedelta(seconds=1))
    return scheduled


def test_the_scheduler_recording_a_pathway_while_an_article_it_links_to_is_published_never_deadlocks(
    published_article, published_pathway, author, reviewer, publisher
):
    outcomes: list[str] = []
    article, pathway = published_article, published_pathway
    for _ in range(TRIALS):
        next_article = approved_next(article, author, reviewer)
        due_next(pathway, author, reviewer, publisher)

        def publish(next_article: Revision = next_article) -> str:
            services.revision_publish(revision=next_article, actor=publisher)
            return "published"

        def record() -> str:
            return f"recorded {len(services.revisions_publish_due())}"

        outcomes.extend(race(publish, record))
        assert not Revision.objects.due_for_publication().exists()
        article = Revision.objects.published().get(article=article.article)
        pathway = Revision.objects.published().get(article=pathway.article)
    assert not [o for o in outcomes if o not in {"published", "recorded 1"}], outcomes


def test_renaming_a_symptom_while_a_pathway_showing_it_is_published_never_deadlocks(
    published_article, published_pathway, author, reviewer, publisher
):
    shared = Symptom.objects.shown_by_revision(published_pathway.pk).filter(
        pk__in=Symptom.objects.shown_by_revision(published_article.pk)
    )
    symptom = shared.order_by("pk").first()
    assert symptom is not None, "the demo pathway and article share a symptom"
    outcomes: list[str] = []
    pathway = published_pathway
    for n in range(TRIALS):
        next_pathway = approved_next(pathway, author, reviewer)

        def publish(next_pathway: Revision = next_pathway) -> str:
            services.revision_publish(revision=next_pathway, actor=publisher)
            return "published"

        def rename(n: int = n) -> str:
            services.symptom_update(
                symptom=symptom, actor=reviewer, changes={"name": f"{symptom.name} ({n})"}, reason="Clearer name."
            )
            return "renamed"

        outcomes.extend(race(publish, rename))
        pathway = Revision.objects.published().get(article=pathway.article)
    assert not [o for o in outcomes if o not in {"published", "renamed"}], outcomes
