"""Kinds of reviewed content: articles, and whatever other apps plug in.

Every kind is an ``Article`` whose revisions go through the one review workflow.
What differs per kind is registered here, by the app that owns the kind, in its
``AppConfig.ready()``: its public address, its sitemaps and list pages, the rows
its revisions carry beyond an article's own (read into the canonical content so
hashes, diffs and copies cover them), the admin inlines that show those rows,
the diff sections, and what the reviewer sees before signing off.

The arrow points one way: other apps import ``articles``; ``articles`` never
imports them (``.importlinter`` checks it) and never names their kinds, URLs or
lists; it asks this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core import checks
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse

if TYPE_CHECKING:
    from django.contrib.sitemaps import Sitemap
    from django.utils.safestring import SafeString

    from .content_checks import Finding
    from .diff import ListSpec
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


@dataclass(frozen=True)
class ContentKind:
    """Everything ``articles`` needs to know about one kind of reviewed content."""

    # The value stored in ``Article.kind`` (at most 20 characters), and how people call it.
    name: str
    label: str
    # The public page, reversed with ``slug=``: ``Article.get_absolute_url``.
    url_name: str
    # Rows beyond an article's own, if any.
    extension: ContentExtension | None = None
    # Public list pages (URL names without arguments) for the sitemap of pages.
    list_url_names: tuple[str, ...] = ()
    # The words of a link offering readers the first list page, e.g. when a search finds nothing; "": none.
    reader_link_text: str = ""
    # Sitemap sections: name -> ``Sitemap`` class.
    sitemaps: Mapping[str, type[Sitemap]] = field(default_factory=dict)
    # The inlines showing a revision's content in the admin; None: an article's own.
    admin_inlines: Sequence[type] | None = None
    # Diff sections beyond an article's own lists.
    diff_lists: Sequence[ListSpec] = ()
    # HTML shown to the reviewer on a revision's admin page, above the workflow actions.
    review_summary: Callable[[Revision], SafeString] | None = None
    # An article's page links, under this heading, to the live content of this kind that refers to
    # a symptom the article shows (``RevisionQuerySet.showing_symptoms``); empty: no links.
    article_links_heading: str = ""


_KINDS: dict[str, ContentKind] = {}


def register(kind: ContentKind) -> None:
    """Add a kind of content; call from the owning app's ``AppConfig.ready()``."""
    _KINDS[kind.name] = kind


def registered() -> list[ContentKind]:
    """Every registered kind, in registration order (articles first)."""
    return list(_KINDS.values())


def reader_lists() -> list[tuple[str, str]]:
    """(link text, address) of the list pages the kinds offer readers, in registration order."""
    return [
        (kind.reader_link_text, reverse(kind.list_url_names[0]))
        for kind in registered()
        if kind.reader_link_text and kind.list_url_names
    ]


def kind_for(name: str) -> ContentKind:
    """The registered kind called ``name``; ``LookupError`` for one no installed app registers."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No installed app registers the content kind {name!r}.") from None


def linked_from_articles() -> list[ContentKind]:
    """The kinds an article's page links to by shared symptoms (``ContentKind.article_links_heading``)."""
    return [kind for kind in _KINDS.values() if kind.article_links_heading]


def extension_for(kind: str) -> ContentExtension | None:
    """The extra rows of ``kind``'s revisions, or None (an article's own rows only, or an unknown kind)."""
    registered_kind = _KINDS.get(kind)
    return registered_kind.extension if registered_kind else None


def kind_choices() -> list[tuple[str, str]]:
    """The choices of ``Article.kind``: read from the registry whenever they are needed."""
    return [(kind.name, kind.label) for kind in _KINDS.values()]


def validate_registered_kind(value: str) -> None:
    """Refuse a kind no installed app registers.

    ``Article.kind`` is not editable, and Django checks the choices of editable fields only.
    """
    if value not in _KINDS:
        raise ValidationError(
            "%(value)r is not a kind of content any installed app registers.",
            code="invalid_kind",
            params={"value": value},
        )


def check_kinds(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: every kind fits ``Article.kind`` and its public address can be built."""
    errors: list[checks.CheckMessage] = []
    for kind in _KINDS.values():
        if len(kind.name) > 20:
            errors.append(
                checks.Error(f"The content kind name {kind.name!r} is longer than 20 characters.", id="articles.E100")
            )
        try:
            reverse(kind.url_name, kwargs={"slug": "a-slug"})
        except NoReverseMatch:
            errors.append(
                checks.Error(
                    f"The content kind {kind.name!r} names the URL {kind.url_name!r}, "
                    "which does not exist or takes no slug.",
                    hint="Register the name of a URL pattern with a <slug:slug> argument.",
                    id="articles.E101",
                )
            )
    return errors
