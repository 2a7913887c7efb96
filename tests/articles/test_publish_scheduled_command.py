"""``manage.py publish_scheduled`` on PostgreSQL: one article's lock held too long never keeps the others unrecorded."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from articles.models import Article, AuditAction, AuditEntry, Revision, RevisionState
from tests.articles.test_concurrency import due_scheduled

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_an_article_locked_past_the_lock_timeout_leaves_the_other_due_publications_recorded(
    author, reviewer, publisher
):
    _, busy = due_scheduled(author, reviewer, publisher, 0)
    _, other = due_scheduled(author, reviewer, publisher, 1)
    # The busy one comes first in the command's order.
    Revision.objects.filter(pk=busy.pk).update(publish_at=other.publish_at.replace(microsecond=0))
    holding, release = threading.Event(), threading.Event()

    def hold_the_article() -> None:
        try:
            with transaction.atomic():
                Article.objects.select_for_update().get(pk=busy.article_id)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_article)
    holder.start()
    out = StringIO()
    try:
        assert holding.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 200")
        with pytest.raises(CommandError, match=f"{busy.article.slug} revision {busy.number}"):
            call_command("publish_scheduled", stdout=out)
    finally:
        release.set()
        holder.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert Revision.objects.get(pk=other.pk).state == RevisionState.PUBLISHED, out.getvalue()
    assert Revision.objects.get(pk=busy.pk).state == RevisionState.SCHEDULED  # left for the next run, said so
    assert f"Published {other.article.slug} revision {other.number}" in out.getvalue()
    assert AuditEntry.objects.filter(revision=other, action=AuditAction.PUBLISH).count() == 1
    # The next run records the one left.
    call_command("publish_scheduled", stdout=StringIO())
    assert Revision.objects.get(pk=busy.pk).state == RevisionState.PUBLISHED
    assert AuditEntry.objects.filter(revision=busy, action=AuditAction.PUBLISH).count() == 1
