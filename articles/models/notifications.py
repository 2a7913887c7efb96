"""Who wants to be told by email when it is their turn, and which overdue reviews they were told of."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .articles import Revision

MAX_PERIOD_CHARS = 20  # an ISO date ("2026-11-30") or NEVER_REVIEWED


class NotificationSettings(models.Model):
    """One member of staff's choice about workflow emails. No row: the default, emails on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_notifications = models.BooleanField(
        "email me when it is my turn",
        default=True,
        help_text="An email when a revision is submitted, sent back, approved, published, withdrawn or overdue "
        "for review and it is your turn to act on it.",
    )

    class Meta:
        verbose_name = "notification settings"
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"


class OverdueNotice(models.Model):
    """That the reviewers were told a live revision is overdue for review, once per due date.

    The unique constraint makes the telling happen once, however many machines run
    ``notify_overdue_reviews`` at the same time: the second insert fails and sends nothing.
    """

    NEVER_REVIEWED = "never-reviewed"

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="overdue_notices")
    period = models.CharField(
        max_length=MAX_PERIOD_CHARS, help_text="The next-review date that passed (ISO), or 'never-reviewed'."
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["revision", "period"], name="overduenotice_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"Overdue notice for {self.revision} ({self.period})"
