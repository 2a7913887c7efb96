"""How reader feedback shows on a revision's admin pages: counts, and a link to the queue."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from articles.models import Revision
from articles.revision_notes import RevisionNote

from .models import with_feedback_counts


def describe_feedback(revision: Revision) -> SafeString:
    """ "3 helpful, 2 not helpful (1 to handle)", linked to the queue of this revision's feedback."""
    helpful, unhelpful, unhandled = revision.feedback_helpful, revision.feedback_unhelpful, revision.feedback_unhandled
    if not helpful and not unhelpful:
        return format_html("{}", "No feedback yet.")
    url = reverse("admin:feedback_feedback_changelist") + f"?revision__id__exact={revision.pk}&status=all"
    return format_html('<a href="{}">{} helpful, {} not helpful</a> ({} to handle)', url, helpful, unhelpful, unhandled)


def _annotate(revisions: QuerySet[Revision]) -> QuerySet[Revision]:
    return with_feedback_counts(revisions)


def feedback_note() -> RevisionNote:
    return RevisionNote(label="Reader feedback", annotate=_annotate, describe=describe_feedback)
