"""The admin home's dashboard: for each worklist of the signed-in user, a count and a link to its rows.

The dashboard shows the items of a small registry, in ``order``. Articles
registers its revision worklists below; another app adds its own in its
``AppConfig.ready()`` with ``register_dashboard_item`` (the feedback app adds
"Feedback to handle" that way), without articles knowing of it.

Who sees which worklist comes from the transition table: a revision worklist is
the revisions a user may take one transition on now (its permission, its
``from_states`` and its four-eyes rule), so the dashboard cannot drift from what
the services allow. Each worklist costs one counting query, whatever the number
of revisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from .models import Revision, RevisionQuerySet, RevisionState
from .services import TRANSITIONS


@dataclass(frozen=True)
class DashboardItem:
    """One line of the dashboard: who sees it, how many rows it has for them, where they are listed."""

    key: str
    label: str
    order: int
    shown_to: Callable[[Any], bool]  # user -> whether the line is theirs at all
    count: Callable[[Any], int]  # user -> how many rows (one query)
    url: Callable[[Any], str]  # user -> the list of those rows


@dataclass(frozen=True)
class DashboardRow:
    key: str
    label: str
    count: int
    url: str


DASHBOARD_ITEMS: dict[str, DashboardItem] = {}


def register_dashboard_item(item: DashboardItem) -> None:
    """Add a line to every dashboard (from an app's ``ready()``); a key is registered once."""
    if item.key in DASHBOARD_ITEMS and DASHBOARD_ITEMS[item.key] != item:
        raise ValueError(f"The dashboard item {item.key!r} is registered twice.")
    DASHBOARD_ITEMS[item.key] = item


def dashboard_for(user: Any) -> list[DashboardRow]:
    """The dashboard lines ``user`` sees, in order, each with its count and link."""
    items = sorted(DASHBOARD_ITEMS.values(), key=lambda item: (item.order, item.key))
    return [
        DashboardRow(key=item.key, label=item.label, count=item.count(user), url=item.url(user))
        for item in items
        if item.shown_to(user)
    ]


# --- The revision worklists ----------------------------------------------------------


@dataclass(frozen=True)
class RevisionWorklist:
    """Revisions ``user`` may take the transition ``step`` on now, narrowed by ``rows``."""

    key: str
    label: str
    step: str
    rows: Callable[[RevisionQuerySet, Any], RevisionQuerySet]
    list_url_name: str = ""  # a worklist page of its own (the review queue); else the filtered revision list

    def may(self, user: Any) -> bool:
        return user.has_perm(f"articles.{TRANSITIONS[self.step].permission}")

    def revisions(self, queryset: RevisionQuerySet, user: Any) -> RevisionQuerySet:
        """The worklist's rows among ``queryset``: the admin's list filter and the count both ask this."""
        step = TRANSITIONS[self.step]
        rows = self.rows(queryset.filter(state__in=step.from_states), user)
        return rows.not_contributed_by(user) if step.four_eyes else rows


REVISION_WORKLISTS: dict[str, RevisionWorklist] = {
    worklist.key: worklist
    for worklist in (
        RevisionWorklist(
            "my-drafts",
            "My drafts",
            "submit",
            lambda revisions, user: revisions.filter(state=RevisionState.DRAFT).contributed_by(user),
        ),
        RevisionWorklist(
            "changes-requested",
            "Changes requested of me",
            "submit",
            lambda revisions, user: revisions.filter(state=RevisionState.CHANGES_REQUESTED).contributed_by(user),
        ),
        RevisionWorklist(
            "awaiting-review",
            "Awaiting my review",
            "approve",
            lambda revisions, user: revisions,
            list_url_name="admin:articles_reviewqueueitem_changelist",
        ),
        RevisionWorklist("to-publish", "Approved, waiting to publish", "publish", lambda revisions, user: revisions),
        RevisionWorklist("scheduled", "Scheduled to go live", "unschedule", lambda revisions, user: revisions),
        RevisionWorklist(
            "overdue", "Overdue for review", "confirm_review", lambda revisions, user: revisions.overdue_for_review()
        ),
    )
}


def revision_worklist_url(key: str) -> str:
    """Where a worklist's rows are listed: its own page, or the revision list filtered to it (``WorklistFilter``)."""
    worklist = REVISION_WORKLISTS[key]
    if worklist.list_url_name:
        return reverse(worklist.list_url_name)
    return f"{reverse('admin:articles_revision_changelist')}?{urlencode({'dashboard': key})}"


def _register_revision_worklists() -> None:
    for order, worklist in enumerate(REVISION_WORKLISTS.values()):
        register_dashboard_item(
            DashboardItem(
                key=worklist.key,
                label=worklist.label,
                order=order * 10,
                shown_to=worklist.may,
                count=lambda user, worklist=worklist: worklist.revisions(Revision.objects.all(), user).count(),
                url=lambda user, key=worklist.key: revision_worklist_url(key),
            )
        )


_register_revision_worklists()
