"""Who reviews, what they approved, what they said, and the append-only audit log."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..limits import CONTENT_HASH_CHARS, MAX_COMMENT_CHARS, MAX_LINE_CHARS, MAX_TITLE_CHARS
from ..text import TextBlockField, TextLineField
from .articles import Article, Revision, RevisionState


class ReviewerProfile(models.Model):
    """A clinical reviewer's public identity; the public page and the API show it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile")
    display_name = TextLineField(max_length=MAX_TITLE_CHARS, help_text="As readers will see it, e.g. 'Dr Jane Smith'.")
    credentials = TextLineField(
        max_length=MAX_LINE_CHARS, help_text="Qualifications and role, e.g. 'MBBS, MRCP, consultant neurologist'."
    )
    registration_body = TextLineField(max_length=MAX_TITLE_CHARS, help_text="e.g. 'General Medical Council'.")
    registration_number = TextLineField(max_length=100)
    is_demonstration = models.BooleanField(
        default=False, help_text="A demonstration account, not a real clinician; the site says so wherever it shows."
    )

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name}, {self.credentials}"

    @property
    def is_complete(self) -> bool:
        return all(
            value.strip()
            for value in (self.display_name, self.credentials, self.registration_body, self.registration_number)
        )


class ReviewKind(models.TextChoices):
    APPROVAL = "approval", "Approval"
    CONFIRMATION = "confirmation", "Reviewed, no change"


class ClinicalReviewQuerySet(models.QuerySet["ClinicalReview"]):
    def update(self, **kwargs: Any) -> int:
        """As ``QuerySet.update``, and the revisions keep their latest review's date (``Revision.review_due``)."""
        if not {"next_review_due", "reviewed_at", "revision", "revision_id"} & kwargs.keys():
            return super().update(**kwargs)
        revisions = set(self.values_list("revision_id", flat=True))
        count = super().update(**kwargs)
        revisions |= set(self.values_list("revision_id", flat=True))
        Revision.objects.filter(pk__in=revisions).keep_review_due()
        return count


class ClinicalReview(models.Model):
    """A reviewer's sign-off of one revision's exact content.

    Name and credentials are copied at the time of review so the record keeps
    saying what was true then, whatever later happens to the profile.
    """

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=20, choices=ReviewKind.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewer_name = models.CharField(max_length=200)
    reviewer_credentials = models.CharField(max_length=300)
    reviewer_is_demonstration = models.BooleanField(default=False)
    reviewed_at = models.DateTimeField(default=timezone.now)
    next_review_due = models.DateField()
    content_hash = models.CharField(
        max_length=CONTENT_HASH_CHARS, help_text="SHA-256 of the content the reviewer approved."
    )
    acknowledged_warnings = models.JSONField(
        default=list, blank=True, help_text="The content-check warnings the reviewer acknowledged."
    )
    comment = TextBlockField(max_length=MAX_COMMENT_CHARS, blank=True)

    objects = ClinicalReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-reviewed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ReviewKind.values), name="clinicalreview_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.revision} by {self.reviewer_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        Revision.objects.filter(pk=self.revision_id).keep_review_due()  # the overdue worklist reads it

    @property
    def is_overdue(self) -> bool:
        """Whether the next review date has passed (today, local time): the rule of ``overdue_for_review()``."""
        return self.next_review_due < timezone.localdate()

    @property
    def overdue_from(self) -> datetime.datetime:
        """The moment ``is_overdue`` turns true: the start of the day after the next review date, local time."""
        day_after = self.next_review_due + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(day_after, datetime.time.min))


class ReviewComment(models.Model):
    """A remark on a revision, optionally about one section (by its stable key)."""

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    section_key = models.CharField(max_length=64, blank=True, help_text="The section it is about, if any.")
    body = TextBlockField(max_length=MAX_COMMENT_CHARS)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.revision}"


class RevisionContributor(models.Model):
    """Someone whose words are in a revision: they created or edited it, or an unapproved revision it copies.

    Four eyes reads this: nobody approves or confirms content they contributed.
    ``articles.services`` adds a row whenever someone creates, imports, copies
    or saves a draft; a copy of content nobody has approved yet also carries
    that content's contributors, however many copies deep.
    """

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="contributors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["revision", "user"], name="revisioncontributor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.revision}"


class AuditAction(models.TextChoices):
    CREATE_DRAFT = "create_draft", "Draft created"
    SAVE_DRAFT = "save_draft", "Draft saved"
    SUBMIT = "submit", "Submitted for review"
    REQUEST_CHANGES = "request_changes", "Changes requested"
    APPROVE = "approve", "Approved"
    SCHEDULE = "schedule", "Scheduled"
    UNSCHEDULE = "unschedule", "Schedule cancelled"
    PUBLISH = "publish", "Published"
    SUPERSEDE = "supersede", "Superseded"
    WITHDRAW = "withdraw", "Withdrawn"
    ARCHIVE = "archive", "Archived"
    CONFIRM_REVIEW = "confirm_review", "Reviewed, no change"
    COMMENT = "comment", "Commented"
    # Not a state change: the shared vocabulary an article shows was changed (one entry per article).
    UPDATE_MEDICATION = "update_medication", "Medication details changed"
    UPDATE_SYMPTOM = "update_symptom", "Symptom details changed"


VOCABULARY_ACTIONS = (AuditAction.UPDATE_MEDICATION, AuditAction.UPDATE_SYMPTOM)


class NamedActor:
    """An audit entry that names its actor as they were named when they acted (``actor_name``, ``actor_username``):
    renaming the account later changes later entries, never this one. The articles' and the feedback's logs alike."""

    actor_name: str
    actor_username: str

    @staticmethod
    def naming(actor: Any) -> dict[str, Any]:
        """The fields that name ``actor`` (a user, or None for the system) in a new entry, as they are named now."""
        if actor is None:
            return {"actor": None, "actor_name": "", "actor_username": ""}
        return {
            "actor": actor,
            "actor_name": actor.get_full_name() or actor.get_username(),
            "actor_username": actor.get_username(),
        }

    @property
    def actor_label(self) -> str:
        """Who acted, as they were named then: 'Jane Doe (jdoe)', or the user name alone if they gave no name."""
        if self.actor_name == self.actor_username:
            return self.actor_name
        return f"{self.actor_name} ({self.actor_username})"


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only.")

    def change_requests(self) -> AuditEntryQuerySet:
        """Reviewers' "request changes" steps, with what they asked for in ``comment``."""
        return self.filter(action=AuditAction.REQUEST_CHANGES)

    def vocabulary_changes(self) -> AuditEntryQuerySet:
        """Changes to the medication or symptoms an article shows, which its public page history lists."""
        return self.filter(action__in=VOCABULARY_ACTIONS)


class AuditEntry(NamedActor, models.Model):
    """One step in the history of an article: who did what, when, from which state to which.

    Append-only: the admin offers no change or delete, the QuerySet refuses
    bulk updates and deletes, and database triggers refuse UPDATE and DELETE.
    """

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="audit_entries")
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system (scheduled publication, imports from the command line).",
    )
    # The actor as named when they acted: renaming the account later changes later entries, never this one.
    actor_name = models.CharField(
        max_length=301,  # Django's first and last names (150 each) and a space
        blank=True,
        help_text="The actor's full name (else their user name) when they acted; empty for the system.",
    )
    actor_username = models.CharField(
        max_length=150, blank=True, help_text="The actor's user name when they acted; empty for the system."
    )
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    from_state = models.CharField(max_length=20, choices=RevisionState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=RevisionState.choices, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "audit entries"
        # The audit list's "By action" filter, newest first (``AuditEntryAdmin``): the entries of a step taken rarely
        # are found by index, not by walking the whole log newest first.
        indexes = [models.Index(fields=["action", "-id"], name="auditentry_action_latest")]

    def __str__(self) -> str:
        at = timezone.localtime(self.created_at)  # as the admin shows the time next to it
        return f"{at:%Y-%m-%d %H:%M} {self.get_action_display()} ({self.revision or self.article})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only.")


class ReviewQueueItem(Revision):
    """Revisions in review that the current user may review (the admin filters per user)."""

    class Meta:
        proxy = True
        verbose_name = "awaiting my review"
        verbose_name_plural = "awaiting my review"


class OverdueReview(Revision):
    """Live revisions whose next review date has passed."""

    class Meta:
        proxy = True
        verbose_name = "overdue review"
        verbose_name_plural = "overdue reviews"


class ScheduledPublication(Revision):
    """Approved revisions waiting for their publication time."""

    class Meta:
        proxy = True
        verbose_name = "scheduled publication"
        verbose_name_plural = "scheduled publications"
