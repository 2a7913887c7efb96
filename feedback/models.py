"""Readers' feedback on one revision, and the append-only record of editors handling it.

Nothing here can identify a reader: no name, email, address, user agent, user,
session or exact time is stored, only which revision, yes or no, why, a short
text that may not carry links, markup or email addresses (``feedback.forms``),
and the day it came. The rate limit per address is counted in the cache under a
keyed hash (``feedback.throttling``), never here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from articles.models import Revision
from articles.models.workflow import NamedActor
from articles.text import TextBlockField

# The free text: a sentence or two, in characters after normalisation (``articles.text``).
MAX_FEEDBACK_CHARS = 500


class Reason(models.TextChoices):
    WRONG = "wrong", "Something is wrong"
    UNCLEAR = "unclear", "It is unclear"
    OUT_OF_DATE = "out_of_date", "It is out of date"
    OTHER = "other", "Something else"


class FeedbackQuerySet(models.QuerySet["Feedback"]):
    def unhandled(self) -> FeedbackQuerySet:
        return self.filter(handled=False)


def _count(**filters: object) -> Coalesce:
    """The number of feedback rows of the outer revision matching ``filters``: one correlated subquery."""
    rows = (
        Feedback.objects.filter(revision=OuterRef("pk"), **filters)
        .order_by()
        .values("revision")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def with_feedback_counts(revisions: models.QuerySet[Revision]) -> models.QuerySet[Revision]:
    """``revisions`` with ``feedback_helpful``, ``feedback_unhelpful`` and ``feedback_unhandled`` counts."""
    return revisions.annotate(
        feedback_helpful=_count(helpful=True),
        feedback_unhelpful=_count(helpful=False),
        feedback_unhandled=_count(handled=False),
    )


class Feedback(models.Model):
    """One reader's answer to "Is this page helpful?" about one exact revision."""

    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, related_name="feedback", help_text="The exact revision the reader saw."
    )
    helpful = models.BooleanField()
    reason = models.CharField(
        max_length=20, choices=Reason.choices, blank=True, help_text="What was wrong; empty when the page helped."
    )
    text = TextBlockField(
        max_length=MAX_FEEDBACK_CHARS,
        blank=True,
        help_text=f"At most {MAX_FEEDBACK_CHARS} characters; no links, markup or email addresses.",
    )
    # The day only: an exact time could be matched against a server log to find the reader.
    received_on = models.DateField(default=timezone.localdate, db_index=True)
    handled = models.BooleanField(
        default=False, help_text="Changed only by feedback.services.feedback_mark_handled, which audits it."
    )

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = "reader feedback"
        verbose_name_plural = "reader feedback"
        default_permissions = ("view",)
        permissions = [("handle_feedback", "Can mark reader feedback handled")]
        constraints = [
            models.CheckConstraint(
                condition=Q(helpful=True, reason="") | Q(helpful=False, reason__in=Reason.values),
                name="feedback_reason_only_when_unhelpful",
            ),
        ]
        indexes = [
            models.Index(fields=["handled", "-received_on"], name="feedback_queue"),
            # The admin list's "Helpful" and "Reason" filters, in the queue or among the handled, newest first: the few
            # answers that say a page did not help are found by index, not by walking every answer readers sent.
            models.Index(fields=["helpful", "handled", "-received_on", "-id"], name="feedback_by_answer"),
            models.Index(fields=["reason", "handled", "-received_on", "-id"], name="feedback_by_reason"),
        ]

    def __str__(self) -> str:
        answer = "helpful" if self.helpful else f"not helpful ({self.get_reason_display().lower()})"
        return f"{self.received_on:%Y-%m-%d}: {answer}"


class AuditAction(models.TextChoices):
    HANDLED = "handled", "Marked handled"


class FeedbackAuditQuerySet(models.QuerySet["FeedbackAuditEntry"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The feedback audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The feedback audit log is append-only.")


class FeedbackAuditEntry(NamedActor, models.Model):
    """Who did what to a piece of feedback, and when. Append-only, as ``articles.AuditEntry``."""

    feedback = models.ForeignKey(Feedback, on_delete=models.PROTECT, related_name="audit_entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The actor as named when they acted, as ``articles.AuditEntry``: a later rename changes later entries only.
    actor_name = models.CharField(
        max_length=301, help_text="The actor's full name (else their user name) when they acted."
    )
    actor_username = models.CharField(max_length=150, help_text="The actor's user name when they acted.")
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    created_at = models.DateTimeField(default=timezone.now)

    objects = FeedbackAuditQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "feedback audit entries"

    def __str__(self) -> str:
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.get_action_display()} by {self.actor_label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("The feedback audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The feedback audit log is append-only.")
