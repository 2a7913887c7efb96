"""A revision's medication and symptom details as its reviewer approved them, from the vocabulary change audit.

A medication's names and a symptom's name and description live outside the revision (and its content hash): a
reviewer may change them later through ``services.medication_update`` / ``symptom_update``, and every live page shows
the change at once. A revision readers no longer see (superseded or withdrawn) should show them as they stood when a
named clinician last reviewed it, not as they are today. Nothing else is stored: every such change writes an audit
entry on each article that uses the entry, with each changed field's ``from`` and ``to``, so the value a field had at
a moment is the ``from`` of the first change after it (or today's value when there was none).

What this cannot recover: a change made other than through those services (a data migration, the shell), or before
their audit entries existed (migration 0013); the details are then today's for that field.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
from typing import Any

from .models import AuditEntry, Medication, Revision, RevisionState, Symptom

# Revisions readers no longer see: their details are given as at their last review.
NO_LONGER_LIVE = (RevisionState.SUPERSEDED, RevisionState.WITHDRAWN)


def vocabulary_before_changes(*, article_id: int, moment: datetime.datetime) -> dict[tuple[str, str], dict[str, Any]]:
    """The value each field of the article's vocabulary changed after ``moment`` had at ``moment``: one query.

    Keyed by (``"medication"`` or ``"symptom"``, slug), then field name. Entries and fields not changed since are
    left out: their value at ``moment`` is today's.
    """
    earlier: dict[tuple[str, str], dict[str, Any]] = {}
    changes = (
        AuditEntry.objects.vocabulary_changes()
        .filter(article_id=article_id, created_at__gt=moment)
        .order_by("created_at", "pk")
        .values_list("data", flat=True)
    )
    for data in changes:
        fields = earlier.setdefault((data["vocabulary"], data["slug"]), {})
        for change in data.get("changes", []):
            fields.setdefault(change["field"], change["from"])  # the first change after ``moment`` says
    return earlier


def _as_then(entry: Any, earlier: dict[tuple[str, str], dict[str, Any]]) -> Any:
    fields = earlier.get((entry._meta.model_name, entry.slug))
    if not fields:
        return entry
    then = copy.copy(entry)  # in memory only: never saved
    for name, value in fields.items():
        setattr(then, name, value)
    return then


def show_vocabulary_as_reviewed(revision: Revision) -> datetime.datetime | None:
    """Give ``revision`` (fetched for this use alone, with its content and reviews) the medication and symptom
    details as they stood at its latest review, in memory; return that moment, or None when it has no review.

    For a revision no longer live: the live one shows today's details, as its page does, and the page history lists
    the changes since its review.
    """
    review = revision.current_review
    if review is None:
        return None
    earlier = vocabulary_before_changes(article_id=revision.article_id, moment=review.reviewed_at)
    if earlier:
        article = copy.copy(revision.article)
        article.medication = _as_then(article.medication, earlier)
        revision.article = article
        for entry in revision.symptom_entries.all():
            entry.symptom = _as_then(entry.symptom, earlier)
    return review.reviewed_at


def vocabulary_version(revision: Revision) -> str:
    """A fingerprint of the medication and symptom details ``revision`` shows, as they are now: it changes whenever
    one of them is changed (``services.medication_update`` / ``symptom_update`` move its ``updated_at``).

    The approval form carries it as its page showed it (``forms.ApproveForm``), as it carries the content hash: those
    details are outside the content hash, yet the reviewer read them on the page, and the approval, and the page
    history's "as reviewed", put their name to them. Two queries.
    """
    medication = Medication.objects.filter(articles=revision.article_id).values_list("slug", "updated_at")
    symptoms = Symptom.objects.shown_by_revision(revision.pk).order_by("slug").values_list("slug", "updated_at")
    entries = [("medication", *row) for row in medication] + [("symptom", *row) for row in symptoms]
    canonical = "\n".join(f"{kind}:{slug}@{updated_at.isoformat()}" for kind, slug, updated_at in entries)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
