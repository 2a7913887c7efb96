"""Content beyond an article's own rows, for other kinds of reviewed content.

A kind of content (a triage pathway, say) is an ``Article`` of that kind whose
revisions carry extra rows. The app that owns those rows registers how to read
them into the canonical content (so hashes, diffs and copies cover them), how
to write them back, and what to check before submission and approval. The
review workflow itself stays one and the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .content_checks import Finding
    from .models import Revision


@dataclass(frozen=True)
class ContentExtension:
    # The extra content of a revision, merged into ``revision_content``.
    content: Callable[[Revision], dict[str, Any]]
    # Create the extra rows of a new revision from such content (keys kept).
    write: Callable[[Revision, dict[str, Any]], None]
    # Checks: (errors that block submission, failures that block approval, warnings).
    check: Callable[[Revision], tuple[Iterable[Finding], Iterable[Finding], Iterable[Finding]]]
    # Whether the article checks that assume prose (sections, citations) apply.
    has_sections: bool = True


_EXTENSIONS: dict[str, ContentExtension] = {}


def register(kind: str, extension: ContentExtension) -> None:
    _EXTENSIONS[kind] = extension


def extension_for(kind: str) -> ContentExtension | None:
    return _EXTENSIONS.get(kind)
