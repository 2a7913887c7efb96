"""Notes other apps add about a revision in the admin, such as counts of reader feedback.

An app registers a ``RevisionNote`` in its ``AppConfig.ready()``; the revision's
admin page and the article's list of revisions show each note. The arrow points
one way, as in ``articles.kinds``: ``articles`` never imports the app that fills
this registry. Each note annotates a queryset (so a list of revisions costs the
same number of queries as one) and describes a revision from its annotations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.utils.safestring import SafeString

    from .models import Revision


@dataclass(frozen=True)
class RevisionNote:
    # A heading for the note, e.g. "Reader feedback".
    label: str
    # Adds what ``describe`` reads to every revision of the queryset (annotations: no query per row).
    annotate: Callable[[QuerySet[Revision]], QuerySet[Revision]]
    # HTML (escaped by its author, e.g. with ``format_html``) about one annotated revision.
    describe: Callable[[Revision], SafeString]


_NOTES: dict[str, RevisionNote] = {}


def register(name: str, note: RevisionNote) -> None:
    """Add a note; call from the owning app's ``AppConfig.ready()``."""
    _NOTES[name] = note


def annotate(revisions: QuerySet[Revision]) -> QuerySet[Revision]:
    """``revisions`` with what every registered note needs."""
    for note in _NOTES.values():
        revisions = note.annotate(revisions)
    return revisions


def describe(revision: Revision) -> list[tuple[str, SafeString]]:
    """(label, HTML) of each registered note about ``revision``, which ``annotate`` prepared."""
    return [(note.label, note.describe(revision)) for note in _NOTES.values()]
