"""The Atom feed of what changes for readers: publications, updates and withdrawals of articles.

Built with Django's syndication framework (``Feed`` with ``Atom1Feed``) from the change
feed the partner API replays (``ChangeEvent``), through ``ChangeEvent.objects.latest_for_readers``:
the ``FEED_ENTRIES`` latest events, so the feed costs the same few queries at any size of
library. ``views.changes_feed`` serves it like every page that lists many articles: its
ETag follows the public clock, so a publish or a withdrawal shows on the very next request.

Entries carry only what readers have seen on a reviewed, published page: an article's
summary and change summary only while that revision is the live one; an entry about a
version since replaced or withdrawn says so and repeats none of its words but its title.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join

from .models import ChangeEvent, ChangeKind, RevisionState

# The latest this many publications and withdrawals; older ones are in each article's page
# history and, for partners, in the API's change feed.
FEED_ENTRIES = 50


def _absolute(path: str) -> str:
    # The public address, whichever host the request came in on: the feed is cached per site, not per host.
    return f"{settings.PUBLIC_BASE_URL}{path}"


def entry_heading(event: ChangeEvent) -> str:
    """What the entry tells readers happened: "Published", "Updated" or "Withdrawn"."""
    if event.kind == ChangeKind.WITHDRAWN:
        return "Withdrawn"
    return "Updated" if getattr(event, "was_public_before", False) else "Published"


class ChangesFeed(Feed):
    """Publications, updates and withdrawals of articles, newest first (``/feeds/changes.atom``)."""

    feed_type = Atom1Feed
    language = settings.LANGUAGE_CODE

    def title(self) -> str:
        return f"{settings.SITE_NAME}: new, updated and withdrawn articles"

    def subtitle(self) -> str:
        return (
            f"The latest {FEED_ENTRIES} publications, updates and withdrawals of articles, "
            "each with its change summary and the date of its clinical review."
        )

    def link(self) -> str:
        return _absolute(reverse("articles:home"))

    def feed_url(self) -> str:
        return _absolute(reverse("articles:changes-feed"))

    def feed_guid(self) -> str:
        return self.feed_url()

    def author_name(self) -> str:
        return settings.SITE_NAME

    def items(self) -> list[ChangeEvent]:
        return ChangeEvent.objects.latest_for_readers(FEED_ENTRIES)

    def item_title(self, event: ChangeEvent) -> str:
        return f"{entry_heading(event)}: {event.revision.title}"

    def item_link(self, event: ChangeEvent) -> str:
        # A withdrawn article's address answers 410 Gone with a page that says so.
        return _absolute(event.article.get_absolute_url())

    def item_guid(self, event: ChangeEvent) -> str:
        # The same before and after ``publish_scheduled`` records a due publication (which gives it an id).
        return _absolute(f"{event.article.get_absolute_url()}#revision-{event.revision.number}-{event.kind}")

    def item_pubdate(self, event: ChangeEvent) -> datetime.datetime:
        return event.occurred_at

    def item_updateddate(self, event: ChangeEvent) -> datetime.datetime:
        return event.occurred_at

    def item_categories(self, event: ChangeEvent) -> tuple[str, ...]:
        return (entry_heading(event).lower(),)

    def item_description(self, event: ChangeEvent) -> str:
        """The entry's summary, as escaped HTML."""
        revision = event.revision
        if event.kind == ChangeKind.WITHDRAWN:
            return format_html("<p>{}</p>", "This article has been withdrawn. It is no longer on this site.")
        paragraphs: list[str] = []
        if revision.is_current:  # live now (``latest_for_readers``): not one a due scheduled revision replaced
            paragraphs.append(revision.summary)
        elif revision.state == RevisionState.WITHDRAWN:
            return format_html("<p>{}</p>", "This article has since been withdrawn. It is no longer on this site.")
        else:
            paragraphs.append("A later version has since replaced this one.")
        if revision.change_summary:
            paragraphs.append(f"What changed: {revision.change_summary}")
        paragraphs.append(_review_line(revision))
        return format_html_join("", "<p>{}</p>", ((paragraph,) for paragraph in paragraphs))


def _review_line(revision: object) -> str:
    review = revision.current_review  # type: ignore[attr-defined]
    if review is None:
        return "Not yet clinically reviewed."
    line = (
        f"Reviewed by {review.reviewer_name}, {review.reviewer_credentials}, "
        f"on {date_filter(timezone.localtime(review.reviewed_at), 'j F Y')}."
    )
    if review.reviewer_is_demonstration:
        line += " Demonstration only: recorded by a demonstration account, not by a real clinician."
    return line
