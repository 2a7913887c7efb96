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

from django.db import models

from .articles import Article


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
