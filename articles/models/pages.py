"""Each live article's public page, rendered once when what it shows changes, so a shared-cache miss reads it.

A page is rendered from what is live (``articles.live``): the live revision, its review, its
medication and symptoms' names, and the links to other kinds' content sharing its symptoms.
Every change to any of those moves the article's place on the public clock
(``Article.public_version``, ``articles.live.public_change``), in the change's own
transaction. So a page rendered at one version is the page for as long as the article stays
at that version, until a moment known when it was rendered: a scheduled publication's time
(of the article or of content its page links to) or the day its review falls overdue. The
row keeps that version and that moment, and a reader takes it only while both still hold
(``articles.live``), and only while it was rendered by this release of the code and static files
and within a day (``articles.views._stored_page``; the day bounds a write made around the
services, which moves no version): what a reader is shown is the page the database's committed
state renders, or nothing, never an older one.

Rows are written by ``articles.stored_pages`` only: on the commit of a public change naming
a few articles, and by ``manage.py store_article_pages`` (scheduled) for the rest. A read never
writes one; a reader that finds none, or a stale one, renders the page as before.

The largest page is bounded by the content limits (``articles.limits``): the largest allowed
article renders to a few megabytes at most.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import F, Q

from .articles import Article

# A stored page older than this is rendered again (``manage.py store_article_pages`` stores it anew): what bounds a
# change made around the services (a shell's write, which moves no version), as the page caches' expiry does.
STORED_PAGE_MAX_AGE = datetime.timedelta(days=1)

# When a stored page may be served, declared once, in the two forms it is asked in: by the reader on the row it read
# (``identity_holds`` in ``articles.live``, ``page_holds`` in ``articles.views``) and by ``manage.py
# store_article_pages`` over every article (``current``). The stored-page tests and the workflow state machine check
# that they agree (``stale_article_ids`` finds exactly the pages a reader would not be served).


def identity_holds(
    version: int,
    revision_id: int,
    expires_at: datetime.datetime | None,
    *,
    article_version: int,
    live_revision_id: int,
    now: datetime.datetime,
) -> bool:
    """Whether what a page stored at ``version`` for ``revision_id`` knew of what is live still holds: nothing has
    changed the article since (every change moves its version) and no scheduled time it knew of has come."""
    return version == article_version and revision_id == live_revision_id and (expires_at is None or expires_at > now)


def page_holds(
    page_format: str,
    changes_at: datetime.datetime | None,
    stored_at: datetime.datetime,
    *,
    current_format: str,
    now: datetime.datetime,
) -> bool:
    """Whether the stored HTML is still the page: rendered by this release, before any moment it named (its review
    falling overdue), and less than ``STORED_PAGE_MAX_AGE`` ago."""
    return (
        page_format == current_format
        and (changes_at is None or changes_at > now)
        and stored_at > now - STORED_PAGE_MAX_AGE
    )


def current(*, live_revision: str, current_format: str, now: datetime.datetime) -> Q:
    """``identity_holds`` and ``page_holds`` of an article's stored page, as a condition on ``Article`` rows
    annotated with their live revision's id (``live_revision``)."""
    return (
        Q(stored_page__version=F("public_version"))
        & Q(stored_page__revision_id=F(live_revision))
        & (Q(stored_page__expires_at__isnull=True) | Q(stored_page__expires_at__gt=now))
        & Q(stored_page__page_format=current_format)
        & (Q(stored_page__changes_at__isnull=True) | Q(stored_page__changes_at__gt=now))
        & Q(stored_page__stored_at__gt=now - STORED_PAGE_MAX_AGE)
    )


class StoredPage(models.Model):
    """An article's public page as rendered at ``version`` of the public clock, for its live ``revision_id``."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="stored_page")
    # What rendered it: the page's markup version, the static files' release, the code's release and the language
    # (``articles.views.stored_page_format``). A release that changes any of them renders anew.
    page_format = models.CharField(max_length=200)
    version = models.BigIntegerField()
    revision_id = models.BigIntegerField()
    # What the live identity adds to the revision (``articles.live.Live``), as worked out when it was rendered.
    symptom_ids = models.JSONField(default=list)
    linked_due = models.DateTimeField(null=True)
    # When what is live here changes with no change to the article (a scheduled publication's time, of the article or
    # of content its page links to): the identity, and so the page, is worked out afresh from then on.
    expires_at = models.DateTimeField(null=True)
    # The page itself changes then, at the latest (its review falls overdue), with no change to the article.
    changes_at = models.DateTimeField(null=True)
    html = models.TextField()
    stored_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"page of article {self.article_id} at version {self.version}"
