"""Articles (stable identities) and their revisions (immutable once submitted)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from ..limits import MAX_LINE_CHARS, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS
from ..text import TextBlockField, TextLineField
from .medications import Medication


class ArticleKind(models.TextChoices):
    ARTICLE = "article", "Article"
    TRIAGE_PATHWAY = "triage_pathway", "Triage pathway"


class ArticleQuerySet(models.QuerySet["Article"]):
    def withdrawn(self) -> ArticleQuerySet:
        """Articles taken off the site (their address answers 410 Gone while nothing of theirs is live)."""
        return self.filter(revisions__state=RevisionState.WITHDRAWN).distinct()


class Article(models.Model):
    """The stable identity of a piece of content; its words live in revisions.

    Triage pathways are reviewed content too: they are articles of another kind,
    so they share the revisions, the review workflow and the audit log.
    """

    slug = models.SlugField(max_length=120, unique=True, help_text="The stable public address; never reused.")
    kind = models.CharField(max_length=20, choices=ArticleKind.choices, default=ArticleKind.ARTICLE, editable=False)
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="articles")
    topic = models.CharField(
        max_length=200,
        help_text="The condition or effect the article is about, e.g. 'Peripheral neuropathy'.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        if self.kind == ArticleKind.TRIAGE_PATHWAY:
            return reverse("triage:pathway", kwargs={"slug": self.slug})
        return reverse("articles:detail", kwargs={"slug": self.slug})


class RevisionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ARCHIVED = "archived", "Archived"


# Only these states accept content changes; every other state is frozen.
EDITABLE_STATES = frozenset({RevisionState.DRAFT, RevisionState.CHANGES_REQUESTED})


class RevisionQuerySet(models.QuerySet["Revision"]):
    def published(self) -> RevisionQuerySet:
        """The live revision of each article: the only way public pages and the API reach content.

        A scheduled revision is live from its publication time, whether or not
        ``publish_scheduled`` has recorded the change yet; from then on it hides
        the revision it replaces.
        """
        now = timezone.now()
        due = Q(state=RevisionState.SCHEDULED, publish_at__lte=now)
        replaced = Exists(self.model.objects.filter(due, article=OuterRef("article_id")))
        return self.filter(due | (Q(state=RevisionState.PUBLISHED) & ~replaced))

    def articles(self) -> RevisionQuerySet:
        """Revisions of articles proper (not triage pathways)."""
        return self.filter(article__kind=ArticleKind.ARTICLE)

    def pathways(self) -> RevisionQuerySet:
        return self.filter(article__kind=ArticleKind.TRIAGE_PATHWAY)

    def ever_published(self) -> RevisionQuerySet:
        """Every revision that has been live: the public page history."""
        now = timezone.now()
        return self.filter(
            Q(published_at__isnull=False) | Q(state=RevisionState.SCHEDULED, publish_at__lte=now)
        ).exclude(state=RevisionState.SCHEDULED, publish_at__gt=now)

    def due_for_publication(self) -> RevisionQuerySet:
        """Scheduled revisions whose time has come but whose state still says scheduled."""
        return self.filter(state=RevisionState.SCHEDULED, publish_at__lte=timezone.now())

    def editable(self) -> RevisionQuerySet:
        return self.filter(state__in=EDITABLE_STATES)

    def with_next_review_due(self) -> RevisionQuerySet:
        """Annotate ``next_review_due`` from the latest clinical review."""
        from .workflow import ClinicalReview

        latest = ClinicalReview.objects.filter(revision=OuterRef("pk")).order_by("-reviewed_at", "-pk")
        return self.annotate(next_review_due=Subquery(latest.values("next_review_due")[:1]))

    def overdue_for_review(self) -> RevisionQuerySet:
        """Live revisions whose next review date has passed (or that were never reviewed)."""
        today = timezone.localdate()
        return (
            self.published()
            .with_next_review_due()
            .filter(Q(next_review_due__lt=today) | Q(next_review_due__isnull=True))
        )

    def with_review(self) -> RevisionQuerySet:
        """Prefetch the clinical reviews, latest first (see ``Revision.current_review``)."""
        from .workflow import ClinicalReview

        return self.prefetch_related(
            Prefetch("reviews", queryset=ClinicalReview.objects.order_by("-reviewed_at", "-pk"))
        )

    def with_content(self) -> RevisionQuerySet:
        """Fetch the whole content aggregate in a fixed number of queries."""
        from .content import ActionStep, ComparisonRow, ComparisonTable, Reference, SafetyCallout, Section, SymptomEntry

        return self.select_related("article__medication").prefetch_related(
            Prefetch("sections", queryset=Section.objects.order_by("position", "key")),
            Prefetch("symptom_entries", queryset=SymptomEntry.objects.select_related("symptom").order_by("position")),
            Prefetch("comparison_tables", queryset=ComparisonTable.objects.order_by("position", "key")),
            "comparison_tables__columns",
            Prefetch("comparison_tables__rows", queryset=ComparisonRow.objects.order_by("position", "key")),
            "comparison_tables__rows__cells",
            Prefetch("action_steps", queryset=ActionStep.objects.order_by("position", "key")),
            Prefetch("callouts", queryset=SafetyCallout.objects.order_by("position", "key")),
            Prefetch("references", queryset=Reference.objects.order_by("position", "key")),
        )


class Revision(models.Model):
    """The whole content of an article at one point in time.

    Content rows hang off the revision; they may change only while the revision
    is in an editable state. State changes go through ``articles.services``.
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(editable=False, help_text="1, 2, 3... per article.")
    state = models.CharField(max_length=20, choices=RevisionState.choices, default=RevisionState.DRAFT, editable=False)
    title = TextLineField(max_length=MAX_TITLE_CHARS)
    summary = TextBlockField(
        max_length=MAX_SUMMARY_CHARS,
        help_text="One or two plain sentences; shown under the title and in search results.",
    )
    change_summary = TextLineField(
        max_length=MAX_LINE_CHARS, blank=True, help_text="What changed in this revision, for the public page history."
    )
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="derived_revisions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic locking: every content save increments it; a save based on an
    # older value is refused instead of overwriting someone else's work.
    lock_version = models.PositiveIntegerField(default=0, editable=False)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    publish_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="For a scheduled revision: when it goes live."
    )

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_unique_number_per_article"),
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(state=RevisionState.PUBLISHED),
                name="revision_one_live_per_article",
            ),
            models.CheckConstraint(condition=Q(state__in=RevisionState.values), name="revision_state_valid"),
            models.CheckConstraint(condition=Q(number__gte=1), name="revision_number_positive"),
            models.CheckConstraint(
                condition=~Q(state=RevisionState.PUBLISHED) | Q(published_at__isnull=False),
                name="revision_published_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(state=RevisionState.SCHEDULED) | Q(publish_at__isnull=False),
                name="revision_scheduled_has_time",
            ),
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(state=RevisionState.SCHEDULED),
                name="revision_one_scheduled_per_article",
            ),
        ]
        # One permission per workflow transition; "add" creates drafts and "change" saves them.
        permissions = [
            ("submit_revision", "Can submit a revision for review"),
            ("request_changes_revision", "Can request changes to a revision in review"),
            ("approve_revision", "Can approve a revision (clinical review)"),
            ("confirm_review_revision", "Can confirm a live revision as still accurate"),
            ("publish_revision", "Can publish or schedule an approved revision"),
            ("withdraw_revision", "Can withdraw a published article"),
            ("archive_revision", "Can archive a draft"),
        ]

    def __str__(self) -> str:
        return f"{self.article.slug} r{self.number} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def current_review(self) -> Any:
        """The latest clinical review, or None; prefetch with ``with_review()``."""
        reviews = self.reviews.all()
        return reviews[0] if reviews else None

    @property
    def is_live(self) -> bool:
        now = timezone.now()
        return self.state == RevisionState.PUBLISHED or (
            self.state == RevisionState.SCHEDULED and self.publish_at is not None and self.publish_at <= now
        )

    @property
    def live_from(self) -> Any:
        return self.published_at or self.publish_at
