"""The change feed: what partners replay to stay in sync, removals included."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from .articles import Article, ArticleKind, Revision, RevisionState


class ChangeKind(models.TextChoices):
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"


# What readers are told of (the Atom feed): a replacement is told by the publication that replaced it.
READER_KINDS = (ChangeKind.PUBLISHED, ChangeKind.WITHDRAWN)


class ChangeEventQuerySet(models.QuerySet["ChangeEvent"]):
    def articles(self) -> ChangeEventQuerySet:
        """Events about articles proper; other kinds of content are served by their own endpoints."""
        return self.filter(article__kind=ArticleKind.ARTICLE)

    def for_readers(self) -> ChangeEventQuerySet:
        """Publications and withdrawals of articles, newest first, each annotated ``was_public_before``.

        ``was_public_before``: an earlier event of the same article exists, so a
        publication is an update (or a return after a withdrawal), not a first one.
        """
        earlier = self.model.objects.filter(article_id=OuterRef("article_id"), pk__lt=OuterRef("pk"))
        return (
            self.articles()
            .filter(kind__in=READER_KINDS)
            .annotate(was_public_before=Exists(earlier))
            .select_related("article")
            .order_by("-pk")
        )

    def latest_for_readers(self, limit: int) -> list[ChangeEvent]:
        """The ``limit`` latest publications and withdrawals of articles, newest first, in at most six queries.

        A scheduled publication whose time has come but that nothing has recorded
        yet (``pending``) comes first, as readers see it live already; it keeps
        its place once recorded. Each event's revision comes with its clinical
        reviews (``Revision.objects.with_review()``) and whether it is live now
        (``is_current``: one a due scheduled revision replaced is not, recorded or not).
        """
        due = sorted(
            (event for event in self.pending() if event.kind == ChangeKind.PUBLISHED),
            key=lambda event: (event.occurred_at, event.revision_id),
            reverse=True,
        )[:limit]
        if due:
            seen = set(
                self.model.objects.filter(article_id__in=[event.article_id for event in due]).values_list(
                    "article_id", flat=True
                )
            )
            for event in due:
                event.was_public_before = event.article_id in seen
        events = due + list(self.for_readers()[: limit - len(due)]) if len(due) < limit else due
        revisions = Revision.objects.with_review().with_is_current().in_bulk({event.revision_id for event in events})
        for event in events:
            event.revision = revisions[event.revision_id]
        return events

    def pending(self, kind: str = ArticleKind.ARTICLE, *, after: int = 0) -> list[ChangeEvent]:
        """The events a due, not yet recorded, scheduled publication will write, as unsaved events (no id).

        Readers see a scheduled revision as live from its time (``Revision.objects.published()``);
        ``publish_scheduled`` records it later. Until then the feed shows these, computed
        read-only, so that replaying it always gives what readers see. Each one appears
        again, with an id, once recorded; applying it twice changes nothing.

        In order of the scheduled time (then the revision's id), a replacement's ``superseded``
        before its ``published``. Each carries ``pending_position``, its place in that order
        (``2 * the scheduled revision's id``, plus 1 for the publication); ``after``: only those
        after that place, which stays where it is when the events are recorded meanwhile.
        """
        due = Revision.objects.due_for_publication().filter(article__kind=kind)
        if after:
            scheduled = after // 2
            # Later in the order than the revision ``after`` names, scheduled or recorded since: a revision that
            # comes due later has a later time, so none is passed over (one unknown: none, until polled again).
            time = Subquery(Revision.objects.filter(pk=scheduled).values("publish_at")[:1])
            due = due.filter(Q(publish_at__gt=time) | Q(publish_at=time, pk__gt=scheduled) | Q(pk=scheduled))
        due = list(due.select_related("article").order_by("publish_at", "pk"))
        replaced = {
            revision.article_id: revision
            for revision in Revision.objects.filter(
                article_id__in=[revision.article_id for revision in due], state=RevisionState.PUBLISHED
            ).select_related("article")
        }
        events = []
        for revision in due:
            at = revision.publish_at
            if revision.article_id in replaced:
                old = replaced[revision.article_id]
                events.append(self.model(article=old.article, revision=old, kind=ChangeKind.SUPERSEDED, occurred_at=at))
                events[-1].pending_position = 2 * revision.pk
            events.append(
                self.model(article=revision.article, revision=revision, kind=ChangeKind.PUBLISHED, occurred_at=at)
            )
            events[-1].pending_position = 2 * revision.pk + 1
        return [
            event for event in events if event.pending_position > after or event.pending_position // 2 != after // 2
        ]

    def page(self, *, after: int, limit: int, pending_after: int = 0) -> FeedPage:
        """The change feed's page: at most ``limit`` of these events after id ``after``, in commit order, then, once
        every recorded one is given, the pending ones (``pending``) after ``pending_after``, as many as fit.

        Pending events have no id, so the id cursor never moves past them: they come in pages of ``limit`` like
        the rest, ``pending_after`` saying how far through them the partner is, and the last page's ``next``
        goes back to the last recorded event, from where they come again (with an id once recorded).
        """
        events = list(self.filter(pk__gt=after).select_related("article", "revision").order_by("pk")[: limit + 1])
        if len(events) > limit:
            return FeedPage(events[:limit], has_more=True, after=events[limit - 1].pk, pending_after=pending_after)
        last = events[-1].pk if events else after
        pending = self.pending(after=pending_after)
        shown = pending[: limit - len(events)]
        if len(pending) == len(shown):
            return FeedPage(events + shown, has_more=False, after=last, pending_after=0)
        position = shown[-1].pending_position if shown else pending_after
        return FeedPage(events + shown, has_more=True, after=last, pending_after=position)


@dataclass(frozen=True)
class FeedPage:
    """One page of the change feed, and where its ``next`` goes on from."""

    events: list[ChangeEvent]
    has_more: bool
    after: int  # the last recorded event given (or the one asked to start after)
    pending_after: int  # part way through the pending events: the last of them given (``pending_position``); else 0


class ChangeEvent(models.Model):
    """One revision going live, being replaced or being withdrawn.

    Ids are handed out in commit order: every transaction that writes events
    first locks the single ``ChangeFeedLock`` row and holds it until it commits,
    so a partner reading "events after id N" can never miss one that commits late.
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="change_events")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="change_events")
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)

    objects = ChangeEventQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.revision}"


class ChangeFeedLock(models.Model):
    """A single row, locked by every transaction that writes change events: and the public clock.

    Every transaction that changes what readers or partners see also moves the
    clock (``articles.live.public_change``): ``public_version`` counts those
    changes across the whole site, so lists, the home page and the sitemap know
    whether anything changed from one row (or one cache read), not from an
    aggregate over the library. It is the last row any transaction locks.
    """

    public_version = models.PositiveBigIntegerField(default=0)
    public_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="changefeedlock_single_row")]

    def __str__(self) -> str:
        return "change feed lock"
