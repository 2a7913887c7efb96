"""Storing each live article's page (``articles.models.pages``): the one writer of ``StoredPage``.

A public change that names a few articles stores their pages when it commits
(``articles.live.public_change``, at most ``STORE_ON_COMMIT_MAX`` of them: the admin's request that
made the change waits for it). Everything else is left to ``manage.py store_article_pages``,
scheduled: a change that touches many articles at once (a medication's name), a scheduled
publication's time, a review falling overdue, a new release, rows written around the services. Until
then a reader renders the page, as before.

A page is rendered from what is live worked out afresh (``articles.live.work_out_afresh``),
whose first statement reads the article's version; whatever the render reads later that
differs from that version's state was committed with a newer version (every such change
stamps the article), so the row, keeping the version read first, is never served for it. A row
is only ever replaced by one rendered at the same version or a later one: two writers (on two
machines, or a commit's and the schedule's) may render the same page twice, never leave the
older one.

Failing soft: a page that cannot be stored is logged and left to the next run; nothing a reader
sees depends on it being there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation

from contentsite.outages import log_outage

from .live import work_out_afresh
from .models import Article, ArticleKind, Revision, StoredPage
from .models.pages import current
from .views import article_page_html, stored_page_format

logger = logging.getLogger(__name__)

# A public change naming more articles than this leaves their pages to ``manage.py store_article_pages``: the
# request that made it does not render them all.
STORE_ON_COMMIT_MAX = 20


def store_after_commit(sender: object, *, article_ids: list[int] | None, **kwargs: object) -> None:
    """Store the pages of ``article_ids``, a committed change's (``articles.live.public_changed``), failing soft."""
    if not article_ids or len(article_ids) > STORE_ON_COMMIT_MAX:
        return
    try:
        store_pages(article_ids)
    except Exception:
        log_outage(logger, "stored-pages", "Storing article pages failed: left to store_article_pages.", exc_info=True)


def store_pages(article_ids: Iterable[int]) -> int:
    """Render and store the pages of the articles among ``article_ids`` (of the kind with stored pages), and remove
    the rows of those with nothing live; how many pages were stored."""
    stored = 0
    addresses = (
        Article.objects.filter(pk__in=list(article_ids), kind=ArticleKind.ARTICLE).order_by("pk").values_list("slug")
    )
    for (slug,) in addresses:
        stored += store_page(slug)
    return stored


def store_page(slug: str) -> bool:
    """Render and store the page of the article at ``slug``, or remove its row when nothing is live there."""
    # Every reader's page: the site's language and time zone, whatever the request that made the change had active.
    with translation.override(settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        live = work_out_afresh(slug, kind=ArticleKind.ARTICLE)
        if live.article_id is None:
            return False
        if not live.is_live:
            StoredPage.objects.filter(article_id=live.article_id, version__lte=live.version).delete()
            return False
        html, changes_at = article_page_html(reader_request(slug), live)
        page_format = stored_page_format()
    fields = {
        "page_format": page_format,
        "version": live.version,
        "revision_id": live.revision_id,
        "symptom_ids": list(live.symptom_ids),
        "linked_due": live.linked_due,
        "expires_at": live.expires_at,
        "changes_at": changes_at,
        "html": html,
        "stored_at": timezone.now(),
    }
    if not StoredPage.objects.filter(article_id=live.article_id, version__lte=live.version).update(**fields):
        StoredPage.objects.bulk_create([StoredPage(article_id=live.article_id, **fields)], ignore_conflicts=True)
    return True


def reader_request(slug: str) -> HttpRequest:
    """A reader's GET of the page, for its template (every reader is shown the same page)."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = reverse("articles:detail", kwargs={"slug": slug})
    return request


def stale_article_ids(limit: int, *, after: int = 0) -> list[int]:
    """Up to ``limit`` live articles (by id, after ``after``) whose page is not stored, or stored at an older
    version, for another live revision, of another release, past a moment it named, or too old (what
    ``articles.models.pages.current`` says of it): what ``manage.py store_article_pages`` stores."""
    live = Revision.objects.published().filter(article_id=OuterRef("pk")).values("pk")[:1]
    fresh = current(live_revision="live_revision", current_format=stored_page_format(), now=timezone.now())
    return list(
        Article.objects.filter(kind=ArticleKind.ARTICLE, pk__gt=after)
        .annotate(live_revision=Subquery(live))
        .filter(live_revision__isnull=False)
        .exclude(fresh)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
