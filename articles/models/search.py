"""The search index: one row per revision that is live or scheduled, with its text weighted for ranking.

Written only by ``articles.search.index_articles``, which the services call in
the transaction that changes what is public (see ``articles.services``); reads
never write it. A scheduled revision is indexed when it is scheduled, so search
shows it the moment its time comes; queries choose the live row of each article
(``SearchEntryQuerySet.live``) exactly as ``Revision.objects.published()`` does.

The full-text structure behind these rows depends on the database (both made by
migration ``0080_search_entry``): on PostgreSQL, ``document`` holds the weighted
``tsvector`` under a GIN index; on SQLite, ``document`` stays empty and the
FTS5 table ``articles_searchentry_fts`` holds the same four texts by row id.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .articles import Article, Revision, RevisionState


class SearchEntryQuerySet(models.QuerySet["SearchEntry"]):
    def live(self) -> SearchEntryQuerySet:
        """Rows of live revisions: a scheduled one from its time, hiding the published one it replaces.

        The same rule as ``Revision.objects.published()``, decided on the rows a
        search matched, so it costs nothing per article that did not match.
        """
        now = timezone.now()
        due = Q(revision__state=RevisionState.SCHEDULED, revision__publish_at__lte=now)
        replaced = Exists(
            Revision.objects.filter(
                article_id=OuterRef("article_id"), state=RevisionState.SCHEDULED, publish_at__lte=now
            )
        )
        return self.filter(due | (Q(revision__state=RevisionState.PUBLISHED) & ~replaced))


class SearchEntry(models.Model):
    """The searchable text of one live or scheduled revision, in four fields by weight (A highest)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    revision = models.OneToOneField(Revision, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, help_text="The article's kind (see articles.kinds), to search one kind.")
    names = models.TextField(help_text="Weight A: the title and the medication's generic and brand names.")
    about = models.TextField(help_text="Weight B: the topic and the summary.")
    symptoms = models.TextField(help_text="Weight C: the names and descriptions of the symptoms shown.")
    body = models.TextField(help_text="Weight D: the sections' headings and text.")
    # PostgreSQL only (see the module docstring): written by ``index_articles`` from the four texts.
    document = SearchVectorField(null=True, editable=False)

    objects = SearchEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "search entries"

    def __str__(self) -> str:
        return f"search entry of revision {self.revision_id}"


# A word longer than this is no word a reader meant: it is neither stored nor looked up.
MAX_TERM_CHARS = 40


class SearchTerm(models.Model):
    """A word readers may have meant: from the names and symptom names of content that has been live.

    The vocabulary behind "Did you mean …?": the words of titles, medicines'
    generic and brand names and symptoms' names, which stays small (tens of
    thousands of words) however many articles there are. Added to by
    ``articles.search.index_articles``; a word whose content is withdrawn may
    stay, because a suggestion is offered only when it finds live content.
    Matched by trigram similarity: on PostgreSQL a ``pg_trgm`` GIN index on
    ``word``; on SQLite the FTS5 ``trigram`` table ``articles_searchterm_trigram``
    by row id (migration ``0090_search_terms``).
    """

    word = models.CharField(max_length=MAX_TERM_CHARS, unique=True, help_text="Lower case, one word.")

    class Meta:
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word
