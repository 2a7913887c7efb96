"""Emails telling people it is their turn: what each workflow step says, to whom, sent after commit.

A transition declares its notice in its ``@transition(..., notify=...)`` entry
(``articles.services``); the transition machinery calls ``send_after_commit``
and nothing else sends these emails. Whose turn it is comes from the notice:

- ``turn_of``: everyone who may take that transition next (its permission, from the
  transition table); when that step has four eyes, not the revision's contributors;
- ``contributors``: the people whose words are in the revision (``RevisionContributor``);
- ``reviewers``: the clinical reviewers who approved it.

Nobody is told of their own step, nor anyone inactive, without an email address,
or who turned the emails off (``NotificationSettings``). The email goes only once
the step has committed: a step rolled back tells nobody. A failure to send is
logged and never undoes or breaks the step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse

from .models import ClinicalReview, ReviewKind, Revision, RevisionContributor, RevisionState

logger = logging.getLogger("articles.notifications")

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(frozen=True)
class Notice:
    """What one workflow event tells, and to whom (see the module docstring)."""

    event: str  # "submitted for clinical review": the subject says "revision 3 was <event>"
    when_state: str  # sent only when the revision is in this state after the step (publish may only schedule)
    asks: str  # what the recipient is asked to do, e.g. "Review it: approve it or request changes."
    turn_of: str = ""  # a transition's name: everyone who may take it
    contributors: bool = False
    reviewers: bool = False


SUBMITTED = Notice(
    "submitted for clinical review",
    RevisionState.IN_REVIEW,
    "It is waiting for a clinical reviewer: approve it or request changes.",
    turn_of="approve",
)
CHANGES_REQUESTED = Notice(
    "sent back with changes requested",
    RevisionState.CHANGES_REQUESTED,
    "The reviewer's requested changes are at the top of the revision's page: make them and submit it again.",
    contributors=True,
)
APPROVED = Notice(
    "approved",
    RevisionState.APPROVED,
    "It is waiting to be published or scheduled.",
    turn_of="publish",
)
PUBLISHED = Notice(
    "published",
    RevisionState.PUBLISHED,
    "It is live on the public site now. Nothing more is needed.",
    contributors=True,
    reviewers=True,
)
WITHDRAWN = Notice(
    "withdrawn from the public site",
    RevisionState.WITHDRAWN,
    "Its address now tells readers it was withdrawn. The reason is in the revision's history.",
    contributors=True,
    reviewers=True,
)
OVERDUE = Notice(
    "due for review, and the review is overdue",
    RevisionState.PUBLISHED,
    "Review it: confirm it is still accurate, or ask for a new draft.",
    turn_of="confirm_review",
)


def recipients(
    notice: Notice, *, revision: Revision, actor_id: int | None, permission: str = "", four_eyes: bool = False
) -> QuerySet[Any]:
    """The users ``notice`` goes to about ``revision``.

    ``permission`` and ``four_eyes`` are those of the ``turn_of`` step, read from the transition table.
    """
    User = get_user_model()
    contributed = RevisionContributor.objects.filter(revision=revision).values("user_id")
    whose = Q(pk__in=[])
    if permission:
        # Roles are groups of model permissions (``ModelBackend``); axes' backend grants none.
        holders = User.objects.with_perm(f"articles.{permission}", include_superusers=False, backend=MODEL_BACKEND)
        turn = Q(pk__in=holders.values("pk"))
        whose |= turn & ~Q(pk__in=contributed) if four_eyes else turn
    if notice.contributors:
        whose |= Q(pk__in=contributed)
    if notice.reviewers:
        approvals = ClinicalReview.objects.filter(revision=revision, kind=ReviewKind.APPROVAL)
        whose |= Q(pk__in=approvals.values("reviewer_id"))
    users = User.objects.filter(whose, is_active=True).exclude(email="")
    users = users.exclude(notification_settings__email_notifications=False)
    if actor_id is not None:
        users = users.exclude(pk=actor_id)
    return users.order_by("pk")


_quiet: ContextVar[bool] = ContextVar("articles_notifications_quiet", default=False)


@contextmanager
def quiet() -> Iterator[None]:
    """Steps taken inside tell nobody: the demo loader's own walk through the workflow, say."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def send_after_commit(
    notice: Notice, *, revision: Revision, actor: Any, permission: str = "", four_eyes: bool = False
) -> None:
    """Email ``notice`` about ``revision`` once the current transaction commits (now, outside one);
    nothing inside ``quiet()``."""
    if _quiet.get():
        return
    revision_id = revision.pk
    actor_id = actor.pk if actor is not None else None
    transaction.on_commit(
        lambda: _send(notice, revision_id=revision_id, actor_id=actor_id, permission=permission, four_eyes=four_eyes)
    )


def _send(notice: Notice, *, revision_id: int, actor_id: int | None, permission: str, four_eyes: bool) -> None:
    try:
        revision = Revision.objects.select_related("article").get(pk=revision_id)
        if revision.state != notice.when_state:
            return  # e.g. "publish" only scheduled it; or a later step moved it on before this ran
        users = list(
            recipients(notice, revision=revision, actor_id=actor_id, permission=permission, four_eyes=four_eyes)
        )
        if not users:
            return
        messages = [_message(notice, revision, user) for user in users]  # one each: nobody sees the others' addresses
        get_connection().send_messages(messages)
    except Exception:
        # The step has committed and stays done; the people it concerns still see it on their dashboard.
        logger.exception(
            "Could not send the %r emails for revision %s", notice.event, revision_id, extra={"event": "notify_failed"}
        )
    else:
        logger.info(
            "Sent %s %r email(s) for revision %s",
            len(messages),
            notice.event,
            revision_id,
            extra={"event": "notified", "revision_id": revision_id, "recipients": [user.pk for user in users]},
        )


def _message(notice: Notice, revision: Revision, user: Any) -> EmailMessage:
    base = settings.PUBLIC_BASE_URL
    link = base + reverse("admin:articles_revision_change", args=[revision.pk])
    settings_link = base + reverse("admin-notifications")
    name = user.get_full_name() or user.get_username()
    what = f"{revision.article.slug} revision {revision.number}"
    body = (
        f"Hello {name},\n\n"
        f'{what} ("{revision.title}") was {notice.event}.\n'
        f"{notice.asks}\n\n"
        f"Open it: {link}\n\n"
        f"You get this email because it is your turn in the review workflow of {settings.SITE_NAME}. "
        f"To stop these emails, turn them off here: {settings_link}\n"
    )
    return EmailMessage(subject=f"[{settings.SITE_NAME}] {what} was {notice.event}", body=body, to=[user.email])
