"""Articles (stable identities) and their revisions (immutable once submitted)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse

from .medications import Medication


class Article(models.Model):
    """The stable identity of a piece of content; its words live in revisions."""

    slug = models.SlugField(max_length=120, unique=True, help_text="The stable public address; never reused.")
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="articles")
    topic = models.CharField(
        max_length=200,
        help_text="The condition or effect the article is about, e.g. 'Peripheral neuropathy'.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
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
        """The live revision of each article: the only way public pages reach content."""
        return self.filter(state=RevisionState.PUBLISHED)

    def editable(self) -> RevisionQuerySet:
        return self.filter(state__in=EDITABLE_STATES)

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
    title = models.CharField(max_length=200)
    summary = models.TextField(help_text="One or two plain sentences; shown under the title and in search results.")
    change_summary = models.CharField(
        max_length=300, blank=True, help_text="What changed in this revision, for the public page history."
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
        ]
        permissions = [("publish_revision", "Can publish a revision")]

    def __str__(self) -> str:
        return f"{self.article.slug} r{self.number} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return self.article.get_absolute_url()

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES
