"""Every write of the feedback app: a reader's feedback in, an editor marking it handled.

``feedback_submit`` stores what the form read and nothing about who sent it.
``feedback_mark_handled`` is the only writer of ``Feedback.handled``; it checks
the ``feedback.handle_feedback`` permission and writes one ``FeedbackAuditEntry``
per row it changes, in one transaction, with the rows locked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from articles.models import Revision

from .models import AuditAction, Feedback, FeedbackAuditEntry, Reason


def feedback_submit(*, revision: Revision, helpful: bool, reason: str = "", text: str = "") -> Feedback:
    """Store one reader's feedback on ``revision`` (which must have been live); validated with ``full_clean``."""
    if not Revision.objects.ever_published().filter(pk=revision.pk).exists():
        raise ValidationError("Feedback is taken only on content that readers have seen.", code="not_public")
    feedback = Feedback(revision=revision, helpful=helpful, reason="" if helpful else reason, text=text)
    if not helpful and feedback.reason not in Reason.values:
        raise ValidationError({"reason": "Choose what was wrong."}, code="required")
    feedback.full_clean()
    feedback.save()
    return feedback


def feedback_mark_handled(*, feedback_ids: Iterable[int], actor: Any) -> int:
    """Mark unhandled feedback handled, auditing each row; the number of rows changed.

    Rows already handled are left alone (and not audited again), so a repeated
    action is harmless.
    """
    if not actor.has_perm("feedback.handle_feedback"):
        raise PermissionDenied("You may not mark reader feedback handled.")
    with transaction.atomic():
        ids = list(
            Feedback.objects.select_for_update()
            .filter(pk__in=list(feedback_ids), handled=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Feedback.objects.filter(pk__in=ids).update(handled=True)
        FeedbackAuditEntry.objects.bulk_create(
            [
                FeedbackAuditEntry(feedback_id=pk, **FeedbackAuditEntry.naming(actor), action=AuditAction.HANDLED)
                for pk in ids
            ]
        )
    return len(ids)
