"""The admin home's "Feedback to handle" line (``articles.dashboard``), for those who may handle it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from articles.dashboard import DashboardItem

from .models import Feedback

HANDLE_PERMISSION = "feedback.handle_feedback"


def feedback_to_handle() -> DashboardItem:
    """Unhandled feedback, counted in one query, linked to the editors' queue (which lists it by default)."""
    return DashboardItem(
        key="feedback",
        label="Feedback to handle",
        order=100,  # after the revision worklists
        shown_to=lambda user: user.has_perm(HANDLE_PERMISSION),
        count=lambda user: Feedback.objects.unhandled().count(),
        url=_queue,
    )


def _queue(user: Any) -> str:
    return reverse("admin:feedback_feedback_changelist")
