"""``manage.py publish_scheduled`` on PostgreSQL: one article's lock held too long never keeps the others unrecorded."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from articles.models import AuditAction, AuditEntry, Revision, RevisionState
from tests.articles.test_concurrency import article_locked_elsewhere, due_scheduled

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_an_article_locked_past_the_lock_timeout_leaves_the_other_due_publications_recorded(
    author, reviewer, publisher
):
    _, busy = due_scheduled(author, reviewer, publisher, 0)
    _, other = due_scheduled(author, reviewer, publisher, 1)
    # The busy one comes first in the command's order.
    Revision.objects.filter(pk=busy.pk).update(publish_at=other.publish_at.replace(microsecond=0))
    out = StringIO()
    with (
        article_locked_elsewhere(busy.article_id),
        pytest.raises(CommandError, match=f"{busy.article.slug} revision {busy.number}"),
    ):
        call_command("publish_scheduled", stdout=out)
    assert Revision.objects.get(pk=other.pk).state == RevisionState.PUBLISHED, out.getvalue()
    assert Revision.objects.get(pk=busy.pk).state == RevisionState.SCHEDULED  # left for the next run, said so
    assert f"Published {other.article.slug} revision {other.number}" in out.getvalue()
    assert AuditEntry.objects.filter(revision=other, action=AuditAction.PUBLISH).count() == 1
    # The next run records the one left.
    call_command("publish_scheduled", stdout=StringIO())
    assert Revision.objects.get(pk=busy.pk).state == RevisionState.PUBLISHED
    assert AuditEntry.objects.filter(revision=busy, action=AuditAction.PUBLISH).count() == 1
