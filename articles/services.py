"""Every change to articles and revisions goes through a function here.

Each function is keyword-only, checks the actor's permission, runs in a
transaction, locks the rows it decides on, refuses illegal moves with
``PermissionDenied`` or ``ValidationError`` (so nothing is half-done), and
writes an audit entry. Nothing else writes a revision's state.

Row locks are always taken in one order, so concurrent steps queue instead of
deadlocking: a vocabulary row (a medication or symptom, ``FOR NO KEY UPDATE``,
which inserts referring to it do not wait for), then articles (when there are
several, in ``Article.objects.in_lock_order``: a step on content that articles link to locks it,
then the articles linking to it, which its public changes stamp), then each
article's revisions, then the change feed's lock row. Reads never lock and never write.

An article has at most one open draft (a revision in ``EDITABLE_STATES``): two
would each overwrite the other when published. Every step that opens one (a new
draft, an import, sending a revision back for changes) checks under the
article's lock (``_opening_a_draft``), and a partial unique constraint
(``revision_one_open_draft_per_article``) backs the check up.

The review workflow::

    draft ──submit──▶ in review ──approve──▶ approved ──publish──▶ published ──▶ superseded
      ▲  │                │                     │  ▲                  │
      │  archive   request changes          schedule │unschedule     withdraw
      │  ▼                ▼                     ▼  │                  ▼
    archived       changes requested         scheduled ─(its time)─▶ published   withdrawn
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import DateTimeField, F, JSONField, Max, OuterRef, QuerySet, Subquery, Value
from django.utils import timezone
from django.utils.text import capfirst

from contentsite.middleware import is_lock_conflict

from . import forms, notifications
from .content_checks import check_revision
from .interchange.export import content_hash, revision_content
from .interchange.importer import (
    ARTICLE_FORMAT,
    DocumentFormat,
    revision_part,
    validate_document,
    validate_revision_content,
    write_revision_content,
)
from .kinds import linked_from_articles
from .limits import MAX_COMMENT_CHARS
from .live import lock_public_clock, public_change
from .models import (
    EDITABLE_STATES,
    ActionStep,
    Article,
    ArticleKind,
    AuditAction,
    AuditEntry,
    ChangeEvent,
    ChangeKind,
    ClinicalReview,
    ComparisonTable,
    Medication,
    NotificationSettings,
    OverdueNotice,
    Reference,
    ReviewComment,
    ReviewKind,
    Revision,
    RevisionContributor,
    RevisionState,
    SafetyCallout,
    Section,
    Symptom,
    SymptomEntry,
)
from .search import index_articles
from .vocabulary_history import vocabulary_version

logger = logging.getLogger("articles.workflow")

DEFAULT_REVIEW_INTERVAL_MONTHS = 12
MAX_REVIEW_INTERVAL_YEARS = 3

STALE_STATE_MESSAGE = (
    "Revision {number} is {state} now: it changed after you opened it, so it can no longer be edited. Your changes "
    "were not saved. Keep a copy of them; to change the article, start a new draft (or ask for changes)."
)
STALE_DRAFT_MESSAGE = (
    "Someone else saved this draft after you opened it (you started from version {expected}; it is now at "
    "version {current}). Your changes were not saved. Keep a copy of them, reload the draft and apply them again."
)
STALE_SUBMIT_MESSAGE = (
    "Someone else saved this draft after you opened it (you started from version {expected}; it is now at "
    "version {current}). It was not submitted: the page now shows it as it is. Read it, then submit it again."
)


# --- The transition table ----------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One step of the review workflow, declared once, next to the service that does it.

    The service checks its state and permission from here; ``available_transitions``,
    the admin's buttons, forms and dispatch, and the templates all read it. Adding a
    step is one ``@transition(...)`` on its service. Every service takes ``revision``
    and ``actor`` and, as keyword arguments, the cleaned data of ``form``.

    Every step runs through ``_run_step``: in the step's transaction it records an
    entry in the admin's log (the user's "Recent actions"; the audit log stays the
    record), and once committed it emails ``notify`` (``articles.notifications``).
    """

    name: str
    may: str  # "approve revisions": what the permission lets one do, for "You do not have permission to ..."
    label: str  # the button and the legend of its form
    permission: str  # codename in the articles app
    from_states: frozenset[str]
    form: type[forms.TransitionForm]
    service: Callable[..., Any]
    done: str  # "submitted": for messages such as "can only be submitted from ..."
    four_eyes: bool = False  # nobody may do it to content they wrote or edited (lineage included)
    opens_draft: bool = False  # leaves a revision open for editing: refused while another one of the article is
    notify: notifications.Notice | None = None  # whose turn it is next, told by email after commit
    # changes what is live or scheduled (``_PUBLIC_STATES``): a change that stamps the pages linking to it too, whose
    # locks it takes first (``_lock_article``)
    changes_public: bool = False


TRANSITIONS: dict[str, Transition] = {}


def transition(
    name: str,
    *,
    may: str,
    label: str,
    permission: str,
    from_states: Iterable[str],
    form: type[forms.TransitionForm] = forms.TransitionForm,
    done: str,
    four_eyes: bool = False,
    opens_draft: bool = False,
    notify: notifications.Notice | None = None,
    changes_public: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(service: Callable[..., Any]) -> Callable[..., Any]:
        if name in TRANSITIONS:
            raise ValueError(f"The transition {name!r} is declared twice.")

        @functools.wraps(service)
        def step(*, revision: Revision, actor: AbstractBaseUser, **data: Any) -> Any:
            return _run_step(TRANSITIONS[name], service, revision=revision, actor=actor, **data)

        TRANSITIONS[name] = Transition(
            name=name,
            may=may,
            label=label,
            permission=permission,
            from_states=frozenset(from_states),
            form=form,
            service=step,
            done=done,
            four_eyes=four_eyes,
            opens_draft=opens_draft,
            notify=notify,
            changes_public=changes_public,
        )
        return step

    return register


def _run_step(
    step: Transition, service: Callable[..., Any], *, revision: Revision, actor: AbstractBaseUser, **data: Any
) -> Any:
    """Where every transition runs: the service, the admin log entry, the notice after commit."""
    with transaction.atomic():
        result = service(revision=revision, actor=actor, **data)
        subject = result if isinstance(result, Revision) else revision
        _admin_log(step, subject=subject, created=subject.pk != revision.pk, actor=actor)
        if step.notify is not None:
            _notify(step.notify, revision=subject, actor=actor)
    return result


def _admin_log(step: Transition, *, subject: Revision, created: bool, actor: AbstractBaseUser) -> None:
    """The step in the admin's log, so it shows in the user's "Recent actions" (the audit log is the record)."""
    LogEntry.objects.create(
        user_id=actor.pk,
        content_type_id=ContentType.objects.get_for_model(Revision).pk,
        object_id=str(subject.pk),
        object_repr=f"{subject.article.slug} revision {subject.number}: {step.done}"[:200],
        action_flag=ADDITION if created else CHANGE,
        change_message=step.label,
    )


def _notify(notice: notifications.Notice, *, revision: Revision, actor: AbstractBaseUser | None) -> None:
    """Tell whose turn it is, after commit; the next step's permission and four eyes come from the table."""
    turn = TRANSITIONS[notice.turn_of] if notice.turn_of else None
    notifications.send_after_commit(
        notice,
        revision=revision,
        actor=actor,
        permission=turn.permission if turn else "",
        four_eyes=turn.four_eyes if turn else False,
    )


def _permitted(name: str, actor: AbstractBaseUser | None) -> AbstractBaseUser:
    step = TRANSITIONS[name]
    return _require(actor, step.permission, step.may)


def _begin(name: str, revision: Revision, actor: AbstractBaseUser) -> Revision:
    """Lock (article, then revision), then check the state and four eyes: every transition starts here."""
    step = TRANSITIONS[name]
    revision = _lock(revision, public=step.changes_public)
    if revision.state not in step.from_states:
        raise _illegal(revision, step.done, step.from_states)
    if step.four_eyes and _contributed(revision, actor):
        raise PermissionDenied(
            f"Four eyes: you wrote or edited revision {revision.number} (or an unapproved revision it was "
            f"copied from), so another clinical reviewer must do this ({step.label.lower()})."
        )
    return revision


# --- Helpers ---------------------------------------------------------------------


def _require(actor: AbstractBaseUser | None, permission: str, doing: str) -> AbstractBaseUser:
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(f"You must be signed in to {doing}.")
    if not actor.has_perm(f"articles.{permission}"):
        raise PermissionDenied(f"You do not have permission to {doing}.")
    return actor


def _require_optional(actor: AbstractBaseUser | None, permission: str, doing: str) -> None:
    """``None`` is the system (a command run by an operator); a user needs the permission."""
    if actor is not None:
        _require(actor, permission, doing)


def _illegal(revision: Revision, doing: str, allowed: Iterable[str]) -> ValidationError:
    names = " or ".join(RevisionState(state).label.lower() for state in allowed)
    return ValidationError(
        f"Only a revision that is {names} can be {doing}; revision {revision.number} is "
        f"{revision.get_state_display().lower()}.",
        code="illegal_state",
    )


class OpenDraftError(ValidationError):
    """Refused: ``draft``, a revision of the same article, is already open for editing.

    Two open drafts of one article would each overwrite the other when published.
    ``draft`` is kept so that an interface can link to it.
    """

    def __init__(self, draft: Revision, *, not_done: str, doing: str) -> None:
        self.draft, self.not_done, self.doing = draft, not_done, doing
        super().__init__(
            f"{not_done}: revision {draft.number} of {draft.article.slug} is already open "
            f"({draft.get_state_display().lower()}). Edit it, or archive it before {doing}.",
            code="open_draft",
        )


def _open_draft_refusal(article_id: int, *, not_done: str, doing: str) -> OpenDraftError | None:
    """The refusal to open a second draft of the article, or None when none is open."""
    draft = Revision.objects.filter(article_id=article_id).editable().select_related("article").first()
    return None if draft is None else OpenDraftError(draft, not_done=not_done, doing=doing)


@contextmanager
def _opening_a_draft(
    article_id: int, *, not_done: str = "No new draft started", doing: str = "starting another"
) -> Iterator[None]:
    """Where a revision of the article becomes open for editing: refused while another one is.

    The caller holds the article's lock, so nobody opens one between this check and
    the write. Should a writer ever skip the lock, the database's constraint refuses
    the second draft, and the refusal reads the same.
    """
    refusal = _open_draft_refusal(article_id, not_done=not_done, doing=doing)
    if refusal is not None:
        raise refusal
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        refusal = _open_draft_refusal(article_id, not_done=not_done, doing=doing)
        if refusal is not None:
            raise refusal from None
        raise


def _lock_article(article_id: int, *, public: bool = True) -> None:
    """Lock the article, then, if the step may change what is live (``public``, or a scheduled publication of the
    article may come due), the articles whose pages link to it by a symptom (``Article.objects.linking_to``).

    A public change of content that articles link to (``articles.kinds.linked_from_articles``) stamps those articles
    too (``_linking_articles``): taken only then, after the public clock, their locks would be waited for by a step
    holding the clock while a step on one of them, holding that article, waits for the clock (a deadlock). Taken
    here, before the revisions and the clock, and in ``in_lock_order`` (as a vocabulary change takes its articles), no
    two steps wait in a circle.
    """
    article = Article.objects.select_for_update().get(pk=article_id)
    if article.kind not in {kind.name for kind in linked_from_articles()}:
        return  # nothing links to it by a symptom: its changes stamp its own pages only
    if public or Revision.objects.filter(article_id=article_id, state=RevisionState.SCHEDULED).exists():
        list(Article.objects.linking_to(article).in_lock_order().select_for_update().values_list("pk", flat=True))


def _lock(revision: Revision, *, public: bool = False) -> Revision:
    """Lock the article (and, for a ``public`` step, the articles linking to it: ``_lock_article``), then its
    revisions, always in that order (no deadlocks).

    Under the article lock, a scheduled revision whose time has come is recorded
    first, so the step that follows decides on the state readers already see.
    """
    _lock_article(revision.article_id, public=public)
    _record_due_publication(revision.article_id)
    return Revision.objects.select_for_update().get(pk=revision.pk)


def _audit(
    *,
    revision: Revision,
    actor: AbstractBaseUser | None,
    action: AuditAction,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """The audit trail's entry; a change of state (a new draft's included) is logged too, once committed."""
    if to_state and to_state != from_state:
        _log_on_commit(
            "Revision %s (article %s): %s -> %s (%s) by user %s",
            revision.pk,
            revision.article_id,
            from_state or "new",
            to_state,
            action,
            actor.pk if actor is not None else None,
            event="transition",
            article_id=revision.article_id,
            revision_id=revision.pk,
            revision_number=revision.number,
            from_state=str(from_state),
            to_state=str(to_state),
            action=str(action),
            user_id=actor.pk if actor is not None else None,
        )
    return AuditEntry.objects.create(
        article_id=revision.article_id,
        revision=revision,
        **AuditEntry.naming(actor),
        action=action,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        data=data or {},
    )


def _audit_each(
    articles: QuerySet[Article], *, actor: AbstractBaseUser, action: AuditAction, comment: str, data: dict[str, Any]
) -> None:
    """One audit entry on each of ``articles`` (with its live revision, if any), in one ``INSERT ... SELECT``:
    a vocabulary change is audited on every article showing it, tens of thousands of them at once."""
    live = Revision.objects.published().filter(article_id=OuterRef("pk")).values("pk")[:1]
    named = AuditEntry.naming(actor)  # as they are named now: the entry keeps it (``AuditEntry.actor_name``)
    rows = articles.values_list(
        "pk",
        Subquery(live),
        Value(actor.pk),
        Value(named["actor_name"]),
        Value(named["actor_username"]),
        Value(str(action)),
        Value(""),
        Value(""),
        Value(comment),
        Value(data, output_field=JSONField()),
        Value(timezone.now(), output_field=DateTimeField()),
    )
    columns = (
        *("article", "revision", "actor", "actor_name", "actor_username"),
        *("action", "from_state", "to_state", "comment", "data", "created_at"),
    )
    select, params = rows.query.sql_with_params()
    names = ", ".join(AuditEntry._meta.get_field(name).column for name in columns)
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(f"INSERT INTO {AuditEntry._meta.db_table} ({names}) {select}", params)


_FEED_KINDS = {
    RevisionState.PUBLISHED: ChangeKind.PUBLISHED,
    RevisionState.SUPERSEDED: ChangeKind.SUPERSEDED,
    RevisionState.WITHDRAWN: ChangeKind.WITHDRAWN,
}


# A revision entering or leaving these states changes what readers see (a scheduled one
# will, at its time, which the live pointer must know of): see ``articles.live``.
_PUBLIC_STATES = frozenset({*_FEED_KINDS, RevisionState.SCHEDULED})


def _emit_change(revision: Revision, kind: ChangeKind, occurred_at: Any = None) -> None:
    """Append to the partner change feed, in commit order (see ``ChangeEvent``)."""
    lock_public_clock()
    ChangeEvent.objects.create(
        article_id=revision.article_id, revision=revision, kind=kind, occurred_at=occurred_at or timezone.now()
    )


def _set_state(
    revision: Revision,
    *,
    to: RevisionState,
    actor: AbstractBaseUser | None,
    action: AuditAction,
    comment: str = "",
    data: dict[str, Any] | None = None,
    occurred_at: datetime.datetime | None = None,
    **fields: Any,
) -> Revision:
    """Move ``revision`` to ``to``, with what follows from it: the public change, the change feed, the audit entry.

    ``occurred_at``: when the change reached readers, the feed event's time (default: a publication's
    ``published_at``, else now). A change recorded after it happened (a scheduled replacement whose time
    has passed) passes that time, so the event says when it happened, not when it was recorded.
    """
    from_state = revision.state
    revision.state = to
    for name, value in fields.items():
        setattr(revision, name, value)
    revision.save(update_fields=["state", "updated_at", *fields])
    if from_state in _PUBLIC_STATES or to in _PUBLIC_STATES:
        public_change([revision.article_id, *_linking_articles(revision)], at=fields.get("published_at"))
        index_articles([revision.article_id])  # search shows the same change, in the same commit
    if to in _FEED_KINDS:
        if occurred_at is None and to == RevisionState.PUBLISHED:
            occurred_at = revision.published_at
        _emit_change(revision, _FEED_KINDS[to], occurred_at)
    _audit(
        revision=revision, actor=actor, action=action, from_state=from_state, to_state=to, comment=comment, data=data
    )
    return revision


def _linking_articles(revision: Revision) -> list[int]:
    """The articles whose pages link to ``revision``'s content by a symptom they share (see ``articles.kinds``).

    Their pages change when what is live of it does: stamped with it, the very next
    request renders them afresh (``articles.live``).
    """
    if revision.article.kind not in {kind.name for kind in linked_from_articles()}:
        return []
    return list(
        Article.objects.sharing_symptoms_with(revision.pk, kind=ArticleKind.ARTICLE).values_list("pk", flat=True)
    )


def _log_on_commit(message: str, *args: Any, **fields: Any) -> None:
    """Log a workflow fact once it has committed: a step rolled back never appears in the log."""
    transaction.on_commit(lambda: logger.info(message, *args, extra=fields), robust=True)


def _next_number(article: Article) -> int:
    # The caller has locked the article row, so two drafts cannot take the same number.
    return (article.revisions.aggregate(Max("number"))["number__max"] or 0) + 1


def _contribute(revision: Revision, actor: AbstractBaseUser | None, *, source: Revision | None = None) -> None:
    """Record that ``actor`` wrote or edited ``revision``; a copy also carries the words of an unapproved source.

    Content another clinician approved is vouched for; content nobody approved
    still belongs to everyone who wrote it, however often it is copied.
    """
    users = {actor.pk} if actor is not None else set()
    if source is not None and not source.reviews.filter(kind=ReviewKind.APPROVAL).exists():
        users |= set(source.contributors.values_list("user_id", flat=True))
    existing = set(revision.contributors.values_list("user_id", flat=True))
    RevisionContributor.objects.bulk_create(
        [RevisionContributor(revision=revision, user_id=user) for user in sorted(users - existing)]
    )


def _new_draft(
    article: Article,
    actor: AbstractBaseUser | None,
    *,
    title: str,
    topic: str,
    summary: str,
    change_summary: str = "",
    content: dict[str, Any] | None,
    symptoms: dict[str, Symptom],
    source: Revision | None = None,
    comment: str,
    data: dict[str, Any] | None = None,
) -> Revision:
    """Write a new draft of ``article`` (whose row the caller has locked), with ``content`` if any: numbered,
    audited, its contributors recorded. Every new draft but a new article's first (``article_create``) is
    written here, so here it is refused (``OpenDraftError``) while the article has an open draft."""
    with _opening_a_draft(article.pk):
        revision = Revision.objects.create(
            article=article,
            number=_next_number(article),
            state=RevisionState.DRAFT,
            title=title,
            topic=topic,
            summary=summary,
            change_summary=change_summary,
            based_on=source,
            created_by=actor,
        )
        if content is not None:
            write_revision_content(revision, content, symptoms)
        _audit(
            revision=revision,
            actor=actor,
            action=AuditAction.CREATE_DRAFT,
            to_state=RevisionState.DRAFT,
            comment=comment,
            data=data,
        )
        _contribute(revision, actor, source=source)
    return revision


def _contributed(revision: Revision, actor: AbstractBaseUser) -> bool:
    return Revision.objects.filter(pk=revision.pk).contributed_by(actor).exists()


def _reviewer_profile(actor: AbstractBaseUser) -> Any:
    profile = getattr(actor, "reviewer_profile", None)
    if profile is None or not profile.is_complete:
        raise PermissionDenied(
            "Complete your reviewer profile (display name, credentials, registration body and number) "
            "before reviewing: readers see it next to your review."
        )
    return profile


def _next_review_due(reviewed_on: datetime.date, requested: datetime.date | None) -> datetime.date:
    latest = _add_months(reviewed_on, 12 * MAX_REVIEW_INTERVAL_YEARS)
    if requested is None:
        return _add_months(reviewed_on, DEFAULT_REVIEW_INTERVAL_MONTHS)
    if requested <= reviewed_on:
        raise ValidationError("The next review date must be after the review date.", code="review_date_past")
    if requested > latest:
        raise ValidationError(
            f"The next review must be due within {MAX_REVIEW_INTERVAL_YEARS} years, by {latest:%d %B %Y}.",
            code="review_interval_too_long",
        )
    return requested


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):  # 29 February and 31st fall back to the month's last day
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _record_review(
    *,
    revision: Revision,
    kind: ReviewKind,
    actor: AbstractBaseUser,
    profile: Any,
    content_hash: str,
    next_review_due: datetime.date | None,
    comment: str,
    acknowledged_warnings: list[dict[str, str]] | None = None,
) -> ClinicalReview:
    """The review record, with the reviewer's name and credentials as they are today."""
    now = timezone.now()
    if revision.is_live:
        public_change([revision.article_id], at=now)  # the page shows its latest review
    _log_on_commit(
        "Revision %s (article %s): %s review recorded by user %s",
        revision.pk,
        revision.article_id,
        kind,
        actor.pk,
        event="review",
        article_id=revision.article_id,
        revision_id=revision.pk,
        revision_number=revision.number,
        review_kind=str(kind),
        state=str(revision.state),
        user_id=actor.pk,
    )
    return ClinicalReview.objects.create(
        revision=revision,
        kind=kind,
        reviewer=actor,
        reviewer_name=profile.display_name,
        reviewer_credentials=profile.credentials,
        reviewer_is_demonstration=profile.is_demonstration,
        reviewed_at=now,
        next_review_due=_next_review_due(timezone.localdate(now), next_review_due),
        content_hash=content_hash,
        acknowledged_warnings=acknowledged_warnings or [],
        comment=comment.strip(),
    )


def _signed_as(review: ClinicalReview) -> dict[str, Any]:
    """The name and credentials a review was signed with, for its audit entry (as ``changed_by`` in vocabulary ones)."""
    return {
        "name": review.reviewer_name,
        "credentials": review.reviewer_credentials,
        "is_demonstration": review.reviewer_is_demonstration,
    }


def _refuse_changed_vocabulary(revision: Revision, vocabulary_seen: str | None, *, not_done: str, doing: str) -> None:
    """Refuse a review from a page that showed the medication or a symptom of ``revision`` before it was changed
    (``vocabulary_history.vocabulary_version``; None: no page, nothing to compare). The caller holds the article
    lock, which a change to the medication or a symptom the article shows waits for (``_vocabulary_update``)."""
    if vocabulary_seen is not None and vocabulary_seen != vocabulary_version(revision):
        raise ValidationError(
            f"A medication or symptom that revision {revision.number} shows was changed since you opened it (see "
            f"the article's audit log). {not_done}. The page now shows it as it is: read it again before you {doing}.",
            code="vocabulary_changed",
        )


def _verified_hash(revision: Revision, expected: str, doing: str) -> str:
    current = content_hash(Revision.objects.with_content().get(pk=revision.pk))
    if current != expected:
        raise ValidationError(
            f"The content of revision {revision.number} has changed since it was {doing}; "
            "it cannot go further under that review. Start a new draft from it.",
            code="content_changed",
        )
    return current


def _record_due_publication(article_id: int) -> Revision | None:
    """Record a scheduled revision whose time has come; the caller holds the article lock (see ``_lock``).

    Readers saw the change at the scheduled time, whenever this runs: the publication and the replacement
    it made are both dated then (``published_at``, and each change feed event's ``occurred_at``).
    """
    due = Revision.objects.select_for_update().due_for_publication().filter(article_id=article_id).first()
    if due is None:
        return None
    # The audit entries are written now, when it is recorded: each says when readers were shown the change.
    at = f"{timezone.localtime(due.publish_at):%d %B %Y %H:%M:%S %Z}"
    occurred = {"occurred_at": due.publish_at.isoformat()}
    for live in Revision.objects.select_for_update().filter(article_id=article_id, state=RevisionState.PUBLISHED):
        _set_state(
            live,
            to=RevisionState.SUPERSEDED,
            actor=None,
            action=AuditAction.SUPERSEDE,
            comment=f"Replaced by revision {due.number} at its scheduled time, {at}.",
            data=occurred,
            occurred_at=due.publish_at,
        )
    _set_state(
        due,
        to=RevisionState.PUBLISHED,
        actor=None,
        action=AuditAction.PUBLISH,
        comment=f"Published at its scheduled time, {at}.",
        data={**occurred, "content_hash": due.content_hash},  # checked against its approval when scheduled
        published_at=due.publish_at,
    )
    _notify(notifications.PUBLISHED, revision=due, actor=None)
    return due


# --- Drafts ----------------------------------------------------------------------


def article_create(*, article: Article, topic: str, title: str, summary: str, actor: AbstractBaseUser) -> Revision:
    """Save a new ``article`` (an unsaved instance) with an empty first draft about ``topic``."""
    _require(actor, "add_article", "create articles")
    _require(actor, "add_revision", "create drafts")
    article.full_clean()
    with transaction.atomic():
        article.save()
        revision = Revision(article=article, number=1, title=title, topic=topic, summary=summary, created_by=actor)
        revision.full_clean(exclude=["based_on", "created_by"])
        revision.save()
        _audit(
            revision=revision,
            actor=actor,
            action=AuditAction.CREATE_DRAFT,
            to_state=RevisionState.DRAFT,
            comment="New article.",
        )
        _contribute(revision, actor)
    return revision


def revision_create_draft(*, article: Article, actor: AbstractBaseUser, based_on: Revision | None = None) -> Revision:
    """Start a new draft of ``article``, copied from ``based_on`` when given.

    Copying keeps every row's key, so the new draft can be compared row by row
    with the revision it came from. Copying an old revision is how to revert.
    Refused (``OpenDraftError``) while the article has an open draft.
    """
    _require(actor, "add_revision", "create drafts")
    if based_on is not None and based_on.article_id != article.pk:
        raise ValidationError("A draft can only be copied from a revision of the same article.", code="foreign")
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        source = Revision.objects.with_content().get(pk=based_on.pk) if based_on is not None else None
        revision = _new_draft(
            article,
            actor,
            title=source.title if source else "",
            topic=source.topic if source else "",
            summary=source.summary if source else "",
            content=revision_content(source) if source else None,
            symptoms={entry.symptom.slug: entry.symptom for entry in source.symptom_entries.all()} if source else {},
            source=source,
            comment=f"Copied from revision {source.number}." if source else "Empty draft.",
            data={"based_on": source.number} if source else {},
        )
    return revision


@transition(
    "create_draft",
    may="create drafts",
    label="Start a new draft from this revision",
    permission="add_revision",
    from_states=RevisionState.values,
    done="copied",
    opens_draft=True,
)
def revision_copy(*, revision: Revision, actor: AbstractBaseUser) -> Revision:
    """Start a new draft of ``revision``'s article as a copy of it (how the admin offers it)."""
    return revision_create_draft(article=revision.article, actor=actor, based_on=revision)


def article_import(*, document: Any, actor: AbstractBaseUser | None, fmt: DocumentFormat = ARTICLE_FORMAT) -> Revision:
    """Import an interchange document (an article, or another kind in ``fmt``) as a new draft revision.

    Creates the medication, symptoms and article when they are new. Validates
    everything first; raises ``ImportRejected`` with every problem and writes
    nothing if anything is wrong. ``actor`` None is an operator at the command line.
    Refused (``OpenDraftError``) while the article has an open draft.
    """
    _require_optional(actor, "add_revision", "import articles")
    document = validate_document(document, fmt)
    with transaction.atomic():
        data = document["medication"]
        medication = Medication.objects.filter(slug=data["slug"]).first()
        if medication is None:
            medication = Medication(**data)
            medication.full_clean()
            medication.save()

        symptoms = Symptom.objects.in_bulk([s["slug"] for s in document["symptoms"]], field_name="slug")
        for data in document["symptoms"]:
            if data["slug"] not in symptoms:
                symptom = Symptom(**data)
                symptom.full_clean()
                symptom.save()
                symptoms[symptom.slug] = symptom

        data = document["article"]
        article, _ = Article.objects.get_or_create(
            slug=data["slug"], defaults={"medication": medication, "kind": fmt.kind}
        )
        article = Article.objects.select_for_update().get(pk=article.pk)
        content = revision_part(document)
        revision = _new_draft(
            article,
            actor,
            title=content["title"],
            topic=content["topic"],
            summary=content["summary"],
            change_summary=content.get("change_summary", ""),
            content=content,
            symptoms=symptoms,
            comment="Imported from an article file.",
        )
    return revision


def revision_save_draft(
    *,
    revision: Revision,
    actor: AbstractBaseUser,
    expected_lock_version: int,
    apply: Callable[[], Any],
    changed: Iterable[str] = (),
) -> Revision:
    """Save changes to a draft, refusing a save based on a stale copy.

    ``apply`` makes the changes (the admin passes its form and formset saves);
    it runs only after the lock and the version check, inside the transaction.
    ``expected_lock_version`` is the version the editor started from. ``changed`` names what
    changed: with nothing named, nothing is saved (no new version, no writer for four eyes, no
    audit entry), as a Save pressed on a page nobody changed.
    """
    _require(actor, "change_revision", "edit drafts")
    with transaction.atomic():
        current = _lock(revision)
        if current.state not in EDITABLE_STATES:
            raise _illegal(current, "edited", EDITABLE_STATES)
        changed = sorted(set(changed))
        if not changed:
            return current
        if current.lock_version != expected_lock_version:
            raise ValidationError(
                STALE_DRAFT_MESSAGE.format(expected=expected_lock_version, current=current.lock_version),
                code="stale",
            )
        apply()
        Revision.objects.filter(pk=current.pk).update(lock_version=F("lock_version") + 1, updated_at=timezone.now())
        current.refresh_from_db()
        _contribute(current, actor)
        _audit(
            revision=current,
            actor=actor,
            action=AuditAction.SAVE_DRAFT,
            from_state=current.state,
            to_state=current.state,
            data={"changed": changed, "version": current.lock_version},
        )
    return current


def check_draft_version(*, revision: Revision, expected_lock_version: int) -> None:
    """Refuse early (in a form's validation) when a draft has moved on, or is no longer a draft (submitted or
    archived meanwhile, in another tab or by someone else); the save checks again under lock.

    A plain read, no lock: locking the revision here, before the save locks its
    article, would take the two locks in the wrong order.
    """
    current = Revision.objects.only("lock_version", "state", "number").get(pk=revision.pk)
    if not current.is_editable:
        raise ValidationError(
            STALE_STATE_MESSAGE.format(number=current.number, state=current.get_state_display().lower()),
            code="not_editable",
        )
    if current.lock_version != expected_lock_version:
        raise ValidationError(
            STALE_DRAFT_MESSAGE.format(expected=expected_lock_version, current=current.lock_version), code="stale"
        )


_CONTENT_ROWS = (Section, SymptomEntry, ComparisonTable, ActionStep, SafetyCallout, Reference)


def revision_update_content(
    *, revision: Revision, actor: AbstractBaseUser, expected_lock_version: int, content: dict[str, Any]
) -> Revision:
    """Replace a draft's whole content with ``content`` (the interchange format's ``revision`` part).

    Rows keep the keys given in ``content``. Validated like an import: every
    problem is reported and nothing is written if anything is wrong.
    """
    content, symptoms = validate_revision_content(content)

    def replace() -> None:
        for model in _CONTENT_ROWS:
            model.objects.filter(revision=revision).delete()
        Revision.objects.filter(pk=revision.pk).update(
            title=content["title"],
            topic=content["topic"],
            summary=content["summary"],
            change_summary=content.get("change_summary", ""),
        )
        write_revision_content(revision, content, symptoms)

    return revision_save_draft(
        revision=revision,
        actor=actor,
        expected_lock_version=expected_lock_version,
        apply=replace,
        changed=["content"],
    )


@transition(
    "archive",
    may="archive drafts",
    label="Archive this draft",
    permission="archive_revision",
    from_states=EDITABLE_STATES,
    form=forms.OptionalReasonForm,
    done="archived",
)
def revision_archive(*, revision: Revision, actor: AbstractBaseUser, reason: str = "") -> Revision:
    """Set aside a draft that will not go ahead. It stays on record and is never public."""
    _permitted("archive", actor)
    with transaction.atomic():
        revision = _begin("archive", revision, actor)
        return _set_state(
            revision, to=RevisionState.ARCHIVED, actor=actor, action=AuditAction.ARCHIVE, comment=reason.strip()
        )


# --- Review ----------------------------------------------------------------------


@transition(
    "submit",
    may="submit drafts for review",
    label="Submit for clinical review",
    permission="submit_revision",
    from_states=EDITABLE_STATES,
    form=forms.SubmitForm,
    done="submitted",
    notify=notifications.SUBMITTED,
)
def revision_submit(
    *,
    revision: Revision,
    actor: AbstractBaseUser,
    change_summary: str | None = None,
    expected_lock_version: int | None = None,
) -> Revision:
    """Send a draft for clinical review: run the content checks, freeze the content, hash it.

    ``expected_lock_version`` is the draft's version as the submitter's page showed it (the admin's submit form
    sends it): a draft saved since, in another tab or by someone else, is refused, so nobody submits words their
    page never showed, and the change summary they send never silently replaces a newer one. None: no page (a
    command, the demo loader), nothing to compare.
    """
    _permitted("submit", actor)
    with transaction.atomic():
        revision = _begin("submit", revision, actor)
        if expected_lock_version is not None and revision.lock_version != expected_lock_version:
            raise ValidationError(
                STALE_SUBMIT_MESSAGE.format(expected=expected_lock_version, current=revision.lock_version),
                code="stale",
            )
        if change_summary is not None:
            revision.change_summary = change_summary.strip()
        if not revision.change_summary.strip():
            raise ValidationError(
                "Say what changed in this revision (the change summary): readers see it in the page history.",
                code="change_summary_required",
            )
        full = Revision.objects.with_content().get(pk=revision.pk)
        full.change_summary = revision.change_summary
        report = check_revision(full)
        if report.errors:
            raise ValidationError(
                [
                    ValidationError(f"{e.message} ({e.where})" if e.where else e.message, code=e.code)
                    for e in report.errors
                ]
            )
        return _set_state(
            revision,
            to=RevisionState.IN_REVIEW,
            actor=actor,
            action=AuditAction.SUBMIT,
            comment=revision.change_summary,
            data={"content_hash": content_hash(full), "warnings": [w.as_dict() for w in report.warnings]},
            change_summary=revision.change_summary,
            content_hash=content_hash(full),
        )


@transition(
    "request_changes",
    may="request changes",
    label="Request changes",
    permission="request_changes_revision",
    from_states=[RevisionState.IN_REVIEW],
    form=forms.RequestChangesForm,
    done="sent back for changes",
    opens_draft=True,
    notify=notifications.CHANGES_REQUESTED,
)
def revision_request_changes(*, revision: Revision, actor: AbstractBaseUser, comment: str) -> Revision:
    """Send a revision in review back to its author, saying what needs to change.

    That opens it for editing again: refused (``OpenDraftError``) while a later draft of the article is open.
    """
    _permitted("request_changes", actor)
    if not comment.strip():
        raise ValidationError("Say what needs to change.", code="comment_required")
    with transaction.atomic():
        revision = _begin("request_changes", revision, actor)
        with _opening_a_draft(revision.article_id, not_done="Not sent back for changes", doing="sending this one back"):
            ReviewComment.objects.create(revision=revision, author=actor, body=comment.strip())
            return _set_state(
                revision,
                to=RevisionState.CHANGES_REQUESTED,
                actor=actor,
                action=AuditAction.REQUEST_CHANGES,
                comment=comment.strip(),
            )


@transition(
    "approve",
    may="approve revisions",
    label="Approve",
    permission="approve_revision",
    from_states=[RevisionState.IN_REVIEW],
    form=forms.ApproveForm,
    done="approved",
    notify=notifications.APPROVED,
    four_eyes=True,
)
def revision_approve(
    *,
    revision: Revision,
    actor: AbstractBaseUser,
    content_hash_seen: str,
    acknowledged_warnings: Iterable[str] = (),
    next_review_due: datetime.date | None = None,
    comment: str = "",
    vocabulary_seen: str | None = None,
) -> Revision:
    """Clinical sign-off of exactly this content.

    Four eyes: nobody approves a revision they created or edited. The reviewer
    needs a complete profile and must acknowledge every content-check warning.
    ``content_hash_seen`` is the content hash of the revision as the reviewer read it: a revision sent back,
    changed and submitted again after they opened it is refused, so their name is never put to words they did
    not see. The review records the content hash, so later changes cannot ride on it.
    ``vocabulary_seen`` is, likewise, the version of the medication and symptom details the reviewer's page showed
    (``vocabulary_history.vocabulary_version``; the admin's form sends it): outside the content hash, but read with
    it, and shown as "as reviewed" once the revision is no longer live. One changed since is refused. None: no page
    (a command, the demo loader), nothing to compare.
    """
    _permitted("approve", actor)
    profile = _reviewer_profile(actor)
    with transaction.atomic():
        revision = _begin("approve", revision, actor)
        if content_hash_seen != revision.content_hash:
            raise ValidationError(
                f"Revision {revision.number} has changed since you opened it: it was changed and submitted again "
                "meanwhile. Nothing was approved. The page now shows it as it is: read it again before you approve.",
                code="content_changed",
            )
        verified = _verified_hash(revision, revision.content_hash, "submitted")
        _refuse_changed_vocabulary(revision, vocabulary_seen, not_done="Nothing was approved", doing="approve")
        report = check_revision(Revision.objects.with_content().get(pk=revision.pk))
        if report.failures:
            raise ValidationError(
                [ValidationError(f"Safety check failed: {f.message}", code="safety") for f in report.failures]
            )
        unacknowledged = [w for w in report.warnings if w.code not in set(acknowledged_warnings)]
        if unacknowledged:
            raise ValidationError(
                [
                    ValidationError(f"Acknowledge this warning before approving: {w.message}", code="unacknowledged")
                    for w in unacknowledged
                ]
            )
        review = _record_review(
            revision=revision,
            kind=ReviewKind.APPROVAL,
            actor=actor,
            profile=profile,
            content_hash=verified,
            next_review_due=next_review_due,
            comment=comment,
            acknowledged_warnings=[w.as_dict() for w in report.warnings],
        )
        return _set_state(
            revision,
            to=RevisionState.APPROVED,
            actor=actor,
            action=AuditAction.APPROVE,
            comment=comment.strip(),
            data={
                "content_hash": verified,
                "next_review_due": review.next_review_due.isoformat(),
                "acknowledged_warnings": [w.code for w in report.warnings],
                "reviewer": _signed_as(review),
            },
        )


@transition(
    "confirm_review",
    may="confirm reviews",
    label="Confirm as still accurate (reviewed, no change)",
    permission="confirm_review_revision",
    from_states=[RevisionState.PUBLISHED],
    form=forms.ConfirmReviewForm,
    done="confirmed as still accurate",
    four_eyes=True,
)
def revision_confirm_review(
    *,
    revision: Revision,
    actor: AbstractBaseUser,
    next_review_due: datetime.date | None = None,
    comment: str = "",
    vocabulary_seen: str | None = None,
) -> ClinicalReview:
    """ "Reviewed, no change": a reviewer confirms the live revision is still accurate; the clock restarts.

    ``vocabulary_seen``: as for ``revision_approve``, the medication and symptom details as the reviewer's page
    showed them; one changed since is refused.
    """
    _permitted("confirm_review", actor)
    profile = _reviewer_profile(actor)
    with transaction.atomic():
        revision = _begin("confirm_review", revision, actor)
        verified = _verified_hash(revision, revision.content_hash, "published")
        _refuse_changed_vocabulary(revision, vocabulary_seen, not_done="Nothing was confirmed", doing="confirm it")
        review = _record_review(
            revision=revision,
            kind=ReviewKind.CONFIRMATION,
            actor=actor,
            profile=profile,
            content_hash=verified,
            next_review_due=next_review_due,
            comment=comment,
        )
        _audit(
            revision=revision,
            actor=actor,
            action=AuditAction.CONFIRM_REVIEW,
            from_state=revision.state,
            to_state=revision.state,
            comment=comment.strip(),
            data={"next_review_due": review.next_review_due.isoformat(), "reviewer": _signed_as(review)},
        )
    return review


def revision_comment(*, revision: Revision, actor: AbstractBaseUser, body: str, section_key: str = "") -> ReviewComment:
    """Add a reviewer's or author's comment to a revision, optionally about one section."""
    _require(actor, "add_reviewcomment", "comment")
    if not body.strip():
        raise ValidationError("Write a comment.", code="comment_required")
    if section_key and not revision.sections.filter(key=section_key).exists():
        raise ValidationError("That section is not in this revision.", code="unknown_section")
    with transaction.atomic():
        comment = ReviewComment.objects.create(
            revision=revision, author=actor, body=body.strip(), section_key=section_key
        )
        _audit(
            revision=revision,
            actor=actor,
            action=AuditAction.COMMENT,
            comment=body.strip(),
            data={"section": section_key} if section_key else {},
        )
    return comment


# --- Publication -----------------------------------------------------------------


@transition(
    "publish",
    may="publish revisions",
    label="Publish",
    permission="publish_revision",
    from_states=[RevisionState.APPROVED],
    form=forms.PublishForm,
    done="published",
    notify=notifications.PUBLISHED,
    changes_public=True,
)
def revision_publish(
    *, revision: Revision, actor: AbstractBaseUser, publish_at: datetime.datetime | None = None
) -> Revision:
    """Publish an approved revision now, or schedule it for ``publish_at``.

    Publishing checks the approval's content hash against the content; the
    previously live revision becomes superseded in the same transaction.
    """
    _permitted("publish", actor)
    with transaction.atomic():
        revision = _begin("publish", revision, actor)
        approval = revision.reviews.filter(kind=ReviewKind.APPROVAL).order_by("-reviewed_at", "-pk").first()
        if approval is None:
            raise ValidationError("This revision has no approval on record.", code="not_approved")
        _verified_hash(revision, approval.content_hash, "approved")
        scheduled = (
            Revision.objects.filter(article_id=revision.article_id, state=RevisionState.SCHEDULED)
            .exclude(pk=revision.pk)
            .first()
        )
        if scheduled is not None:
            raise ValidationError(
                f"Revision {scheduled.number} is scheduled to go live "
                f"{timezone.localtime(scheduled.publish_at):%d %B %Y %H:%M}; cancel that schedule first.",
                code="already_scheduled",
            )
        _refuse_taking_back_the_live_revision(revision)
        now = timezone.now()
        if publish_at is not None and publish_at > now:
            return _set_state(
                revision,
                to=RevisionState.SCHEDULED,
                actor=actor,
                action=AuditAction.SCHEDULE,
                comment=f"To go live at {publish_at.isoformat()}.",
                data={"publish_at": publish_at.isoformat()},
                publish_at=publish_at,
            )
        for live in Revision.objects.select_for_update().filter(
            article_id=revision.article_id, state=RevisionState.PUBLISHED
        ):
            _set_state(
                live,
                to=RevisionState.SUPERSEDED,
                actor=actor,
                action=AuditAction.SUPERSEDE,
                comment=f"Replaced by revision {revision.number}.",
            )
        return _set_state(
            revision,
            to=RevisionState.PUBLISHED,
            actor=actor,
            action=AuditAction.PUBLISH,
            published_at=now,
            data={"content_hash": approval.content_hash},
        )


def _refuse_taking_back_the_live_revision(revision: Revision) -> None:
    """Refuse to publish ``revision`` over a live revision that went live after it was started and that it was not
    copied from: readers would lose the live one's changes (a correction, say) with nobody having decided so.
    Going back on purpose is a new draft copied from ``revision``, reviewed again. The caller holds the article lock.
    """
    live = Revision.objects.published().filter(article_id=revision.article_id).first()
    if live is None or live.published_at is None or live.published_at <= revision.created_at:
        return
    # What each of the article's revisions was copied from (always the same article's: ``revision_create_draft``),
    # in one query however long its history.
    copied_from = dict(Revision.objects.filter(article_id=revision.article_id).values_list("pk", "based_on_id"))
    source, followed = revision.based_on_id, set()
    while source is not None and source not in followed:
        if source == live.pk:
            return
        followed.add(source)
        source = copied_from.get(source)
    raise ValidationError(
        f"Revision {live.number} went live after revision {revision.number} was started, and revision "
        f"{revision.number} was not copied from it: publishing it would take back revision {live.number}'s changes. "
        f"Start a new draft from revision {live.number} and make this one's changes there; or, to go back to this "
        "version on purpose, start a new draft from this revision and have it reviewed.",
        code="behind_the_live_revision",
    )


@transition(
    "unschedule",
    may="change scheduled publications",
    label="Cancel the scheduled publication",
    permission="publish_revision",
    from_states=[RevisionState.SCHEDULED],
    done="unscheduled",
    changes_public=True,
)
def revision_unschedule(*, revision: Revision, actor: AbstractBaseUser) -> Revision:
    """Cancel a scheduled publication that has not happened yet; the revision stays approved.

    Not within ``SCHEDULE_CANCEL_MARGIN`` of its time: readers see a scheduled revision as live from its time
    (``articles.live``), so a cancellation that committed after it would take back a page they had been shown,
    and the audit trail and change feed would never say it was live.
    """
    _permitted("unschedule", actor)
    with transaction.atomic():
        revision = _begin("unschedule", revision, actor)
        revision = _under_the_public_clock(revision)
        if revision.state == RevisionState.SCHEDULED:
            _refuse_a_late_cancellation(
                revision,
                "Too late to cancel",
                "Once it is live, withdraw the article or publish another revision.",
                code="too_late_to_cancel",
            )
        if revision.state != RevisionState.SCHEDULED:
            raise _illegal(revision, TRANSITIONS["unschedule"].done, TRANSITIONS["unschedule"].from_states)
        return _set_state(
            revision, to=RevisionState.APPROVED, actor=actor, action=AuditAction.UNSCHEDULE, publish_at=None
        )


# A scheduled publication this close to its time can no longer be cancelled (``revision_unschedule``): more than a
# step can take once it holds the public clock, and more than app servers' clocks differ.
SCHEDULE_CANCEL_MARGIN = datetime.timedelta(seconds=60)


def _refuse_a_late_cancellation(scheduled: Revision, refusal: str, advice: str, *, code: str) -> None:
    """Refuse a step that would cancel ``scheduled`` within ``SCHEDULE_CANCEL_MARGIN`` of its time (unscheduling it,
    or withdrawing its article): committed after the time, it would take back a revision readers had been shown,
    and the audit log and change feed would never say it was live."""
    if scheduled.publish_at > timezone.now() + SCHEDULE_CANCEL_MARGIN:
        return
    raise ValidationError(
        f"{refusal}: revision {scheduled.number} goes live at {timezone.localtime(scheduled.publish_at):%H:%M:%S}, "
        f"less than {SCHEDULE_CANCEL_MARGIN.seconds} seconds from now. {advice}",
        code=code,
    )


def _under_the_public_clock(revision: Revision) -> Revision:
    """For a step that cancels a scheduled publication: take the public clock's lock now, then record a publication
    whose time has come meanwhile, and return ``revision`` as it is then.

    Every public change takes that lock (``articles.live.public_change``); a step that took it only at its first
    write waited for it there, for as long as another change held it, and a scheduled time could pass meanwhile:
    readers saw the revision live, and the step then cancelled it as if it never had been. Holding the lock, the
    step waits on no other change before it commits. Lock order: the article and its revisions (``_lock``), then
    the clock, as every public change.
    """
    lock_public_clock()
    _record_due_publication(revision.article_id)
    return Revision.objects.select_for_update().get(pk=revision.pk)


def _replaced_at_its_time(revision: Revision) -> Revision | None:
    """The live revision that replaced ``revision`` at its scheduled time, if one did (nobody clicked that: a page
    shown before it still offers ``revision``'s steps); else None. The caller holds the article lock."""
    if revision.state != RevisionState.SUPERSEDED:
        return None
    live = Revision.objects.select_for_update().filter(article_id=revision.article_id, state=RevisionState.PUBLISHED)
    live = live.filter(publish_at__isnull=False).first()
    if live is None:
        return None
    before = Revision.objects.filter(article_id=revision.article_id, published_at__isnull=False).exclude(pk=live.pk)
    replaced = before.order_by("-published_at", "-pk").values_list("pk", flat=True).first()
    return live if replaced == revision.pk else None


def revisions_publish_due(
    *, busy: list[Revision] | None = None, on_recorded: Callable[[Revision], None] | None = None
) -> list[Revision]:
    """Record every scheduled publication whose time has come. Safe to run anywhere, any number of times.

    Readers already see a due revision as live; this writes the state change and
    the audit entry. Two machines running it at once serialise on the article lock,
    and the second finds nothing left to do. Each article is its own transaction: one whose lock is held past
    ``DATABASE_LOCK_TIMEOUT_MS`` (a long step on it) is left for the next run, logged and added to ``busy`` if
    given, and the others are still recorded. ``on_recorded`` is told of each as soon as it commits: the database
    going later in the run (an error from here) undoes none of those.
    """
    recorded = []
    for revision in Revision.objects.due_for_publication().order_by("publish_at", "pk"):
        try:
            with transaction.atomic():
                _lock_article(revision.article_id)
                due = _record_due_publication(revision.article_id)
                if due is not None:
                    due = Revision.objects.select_related("article").get(pk=revision.pk)
            if due is not None:  # committed
                recorded.append(due)
                if on_recorded is not None:
                    on_recorded(due)
        except OperationalError as error:
            if not is_lock_conflict(error):
                raise
            logger.warning(
                "Scheduled publication of revision %s (article %s) not recorded: its article was busy; "
                "the next run records it.",
                revision.pk,
                revision.article_id,
                extra={"event": "publish_due_busy", "revision_id": revision.pk, "article_id": revision.article_id},
            )
            if busy is not None:
                busy.append(revision)
    return recorded


def revisions_notify_overdue(*, on_told: Callable[[Revision], None] | None = None) -> list[Revision]:
    """Tell the clinical reviewers of each live revision overdue for review, once per due date.

    Run by the scheduler (``manage.py notify_overdue_reviews``). What was told is
    recorded (``OverdueNotice``, unique per revision and due date) in the same
    transaction that queues the email, so running it again, or on two machines at
    once, tells nobody twice: the second insert finds the row and sends nothing.
    A new review date (a confirmation or a new publication) starts a new period.
    A scheduled revision live since its time but not recorded yet is recorded first (as every step does, ``_lock``):
    the email goes out about a published revision, the state it is sent for. ``on_told`` is told of each revision
    as soon as its notice commits: the database going later in the run undoes none of those.
    """
    told = []
    for revision in Revision.objects.overdue_for_review().select_related("article").order_by("pk"):
        due = revision.next_review_due
        period = due.isoformat() if due is not None else OverdueNotice.NEVER_REVIEWED
        with transaction.atomic():
            if revision.state == RevisionState.SCHEDULED:
                _lock_article(revision.article_id)
                _record_due_publication(revision.article_id)
            _, created = OverdueNotice.objects.get_or_create(revision=revision, period=period)
            if created:
                _notify(notifications.OVERDUE, revision=revision, actor=None)
        if created:  # committed
            told.append(revision)
            if on_told is not None:
                on_told(revision)
    return told


def notification_settings_update(*, user: AbstractBaseUser, email_notifications: bool) -> NotificationSettings:
    """Turn ``user``'s workflow emails on or off; each member of staff decides for themself only."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("You must be signed in to change your notification settings.")
    with transaction.atomic():
        settings_row, _ = NotificationSettings.objects.update_or_create(
            user=user, defaults={"email_notifications": email_notifications}
        )
    return settings_row


@transition(
    "withdraw",
    may="withdraw articles",
    label="Withdraw the article",
    permission="withdraw_revision",
    from_states=[RevisionState.PUBLISHED],
    form=forms.ReasonForm,
    done="withdrawn",
    notify=notifications.WITHDRAWN,
    changes_public=True,
)
def revision_withdraw(*, revision: Revision, actor: AbstractBaseUser, reason: str) -> Revision:
    """Take an article off the public site. Its address answers 410 Gone; the record stays.

    A scheduled publication of the article is cancelled, but not within ``SCHEDULE_CANCEL_MARGIN`` of its time, as
    ``revision_unschedule`` refuses: a withdrawal committing after that time would take back a revision readers had
    been shown, with no record that it was live. Once it is live, the withdrawal withdraws it (recorded as
    published at its time first).
    """
    _permitted("withdraw", actor)
    if not reason.strip():
        raise ValidationError("Give the reason for withdrawing the article.", code="reason_required")
    with transaction.atomic():
        # A revision replaced at a scheduled time, before the step (the page was shown earlier) or while it waited
        # for the public clock: readers saw the replacement live, so it is what is withdrawn.
        revision = _replaced_at_its_time(_lock(revision, public=True)) or revision
        revision = _begin("withdraw", revision, actor)
        revision = _replaced_at_its_time(_under_the_public_clock(revision)) or revision
        for pending in Revision.objects.select_for_update().filter(
            article_id=revision.article_id, state=RevisionState.SCHEDULED
        ):
            _refuse_a_late_cancellation(
                pending,
                "Not yet: withdrawing now would cancel a scheduled publication readers may already be shown",
                "Withdraw the article once that time has passed: the revision is then withdrawn too.",
                code="scheduled_too_soon",
            )
            _set_state(
                pending,
                to=RevisionState.APPROVED,
                actor=actor,
                action=AuditAction.UNSCHEDULE,
                comment="Cancelled because the article was withdrawn.",
                publish_at=None,
            )
        return _set_state(
            revision, to=RevisionState.WITHDRAWN, actor=actor, action=AuditAction.WITHDRAW, comment=reason.strip()
        )


# --- Shared vocabulary: medications and symptoms ------------------------------------
#
# A medication's names, class and codes and a symptom's name, description and code
# show on every live article (and pathway) that uses them, outside any revision's
# content hash. So nothing changes them but these two functions: each needs its own
# reviewer-level permission (``amend_medication``, ``amend_symptom``; the Clinical
# reviewers group has them, authors do not), a complete reviewer profile and a
# reason (the public page history shows both), and writes an audit entry on every
# article that uses the entry. Pages and the API see the change at once through
# the public clock (``articles.live.vocabulary_saved`` moves it for every article showing the entry).
#
# Lock order: the vocabulary row first (FOR NO KEY UPDATE, which does not block
# rows that merely refer to it), then the articles that use it, by id; no
# transition ever locks a vocabulary row, so the two orders cannot cross.

MEDICATION_PUBLIC_FIELDS = ("generic_name", "brand_names", "drug_class", "rxnorm_rxcui", "atc_code")
SYMPTOM_PUBLIC_FIELDS = ("name", "description", "snomed_ct_code")

STALE_VOCABULARY_MESSAGE = (
    "Someone else changed this {what} after you opened it. Your changes were not saved: reload the page, "
    "check what it says now and make your change again."
)


def medication_update(
    *,
    medication: Medication,
    actor: AbstractBaseUser,
    changes: Mapping[str, Any],
    reason: str,
    expected_updated_at: datetime.datetime | None = None,
) -> Medication:
    """Change a medication's public details; every article about it shows the change at once.

    ``changes`` maps field names (``MEDICATION_PUBLIC_FIELDS``) to new values; the
    slug, its identity in addresses and files, never changes. ``reason`` is shown
    to readers in each article's page history. ``expected_updated_at`` is the
    version the editor started from: a change based on an older one is refused.
    """
    return _vocabulary_update(
        entry=medication,
        actor=actor,
        changes=changes,
        reason=reason,
        expected_updated_at=expected_updated_at,
        permission="amend_medication",
        fields=MEDICATION_PUBLIC_FIELDS,
        action=AuditAction.UPDATE_MEDICATION,
    )


def symptom_update(
    *,
    symptom: Symptom,
    actor: AbstractBaseUser,
    changes: Mapping[str, Any],
    reason: str,
    expected_updated_at: datetime.datetime | None = None,
) -> Symptom:
    """Change a symptom's public details; all live content using it shows the change at once.

    As ``medication_update``, with ``SYMPTOM_PUBLIC_FIELDS``.
    """
    return _vocabulary_update(
        entry=symptom,
        actor=actor,
        changes=changes,
        reason=reason,
        expected_updated_at=expected_updated_at,
        permission="amend_symptom",
        fields=SYMPTOM_PUBLIC_FIELDS,
        action=AuditAction.UPDATE_SYMPTOM,
    )


def _vocabulary_update(
    *,
    entry: Medication | Symptom,
    actor: AbstractBaseUser,
    changes: Mapping[str, Any],
    reason: str,
    expected_updated_at: datetime.datetime | None,
    permission: str,
    fields: tuple[str, ...],
    action: AuditAction,
) -> Any:
    model = type(entry)
    what = model._meta.verbose_name
    _require(actor, permission, f"change {what} details")
    profile = _reviewer_profile(actor)
    if not reason.strip():
        raise ValidationError(
            f"Give the reason for the change: readers see it in the page history of every article using this {what}.",
            code="reason_required",
        )
    if len(reason) > MAX_COMMENT_CHARS:
        raise ValidationError(f"Keep the reason to {MAX_COMMENT_CHARS:,} characters.", code="reason_too_long")
    refused = {
        name: (
            f"The slug is the {what}'s identity in addresses and import files; it never changes."
            if name == "slug"
            else f"{name} is not a public detail of a {what} that can be changed here."
        )
        for name in changes
        if name not in fields
    }
    if refused:
        raise ValidationError(refused, code="not_changeable")
    with transaction.atomic():
        current = model.objects.select_for_update(no_key=True).get(pk=entry.pk)
        if expected_updated_at is not None and current.updated_at != expected_updated_at:
            raise ValidationError(STALE_VOCABULARY_MESSAGE.format(what=what), code="stale")
        before = {name: getattr(current, name) for name in fields}
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()  # normalises the text (the one rule) before deciding what changed
        changed = [name for name in fields if getattr(current, name) != before[name]]
        if not changed:
            raise ValidationError(f"Nothing changed: the {what} already says this.", code="no_change")
        articles = Article.objects.using_vocabulary(current).in_lock_order()
        list(articles.select_for_update().values_list("pk", flat=True))  # their locks, before the public clock's
        data = {
            "vocabulary": model._meta.model_name,
            "slug": current.slug,
            "name": str(current),
            "changes": [
                {
                    "field": name,
                    "label": capfirst(model._meta.get_field(name).verbose_name),
                    "from": before[name],
                    "to": getattr(current, name),
                }
                for name in changed
            ],
            "changed_by": {
                "name": profile.display_name,
                "credentials": profile.credentials,
                "is_demonstration": profile.is_demonstration,
            },
        }
        _audit_each(articles, actor=actor, action=action, comment=reason.strip(), data=data)
        # Last: the public change it makes is dated as it is made (``articles.live.public_change``), so nothing that
        # grows with the articles (the audit above, a set-wise write on each of them) comes between it and the commit.
        current.save(update_fields=[*changed, "updated_at"])  # a public change: see articles.live.vocabulary_saved
    return current


# --- What a user may do next -----------------------------------------------------


# ``available_transitions``' ``open_draft`` when the caller has not read it: read it when a step needs it.
_NOT_READ: Any = object()


def _state_readers_see(revision: Revision) -> str:
    """``revision``'s state as readers see it: a scheduled revision whose time has come is published, and the one it
    replaces superseded, before anything records it (every step does first, ``_lock``; so does cron)."""
    if revision.state == RevisionState.SCHEDULED and revision.is_live:  # its time has come (``Revision.is_live``)
        return RevisionState.PUBLISHED
    due = Revision.objects.due_for_publication().filter(article_id=revision.article_id)
    if revision.state == RevisionState.PUBLISHED and due.exists():
        return RevisionState.SUPERSEDED
    return revision.state


def available_transitions(
    *, revision: Revision, actor: AbstractBaseUser, open_draft: Revision | None = _NOT_READ
) -> list[str]:
    """The names of the transitions ``actor`` may try on ``revision`` now, in table order, for showing buttons.

    A hint for the interface only, read from the same table the services check:
    every service checks again, under lock, and refuses the rest. A step that
    opens a draft is left out while the article has one open: ``open_draft``, the
    article's open draft (or None) if the caller has read it already, else read here.
    """
    contributed = _contributed(revision, actor)
    has_open_draft = functools.cache(
        lambda: (
            Revision.objects.filter(article_id=revision.article_id).editable().exists()
            if open_draft is _NOT_READ
            else open_draft is not None
        )
    )
    state = _state_readers_see(revision)
    return [
        step.name
        for step in TRANSITIONS.values()
        if state in step.from_states
        and actor.has_perm(f"articles.{step.permission}")
        and not (step.four_eyes and contributed)
        and not (step.opens_draft and has_open_draft())
    ]
