"""Reading live pathways and evaluating answers. Readers' answers are never stored.

The only thing written is an anonymous count per pathway revision, disposition
and day; nothing about who answered or what they answered.

An evaluation reads the pathway compiled once per live revision
(``compiled_pathway``): one cache read for what is live at the address
(``articles.live.live_identity``) and one for the compiled form, whose key is
derived from that identity, so a publish, withdrawal, review or vocabulary change
(each calls ``public_change``) is seen by the very next request. Counting an
outcome is an atomic cache increment; ``flush_outcome_counts`` folds the counts
into ``OutcomeCount`` (see ``outcome_counts_flush``).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from articles.live import cache_get, cache_set, live_identity, site_identity
from articles.memo import BoundedMemo
from articles.models import Revision, RevisionQuerySet, RevisionState
from articles.rendering import render_markdown
from contentsite.cache import count_hit
from contentsite.outages import log_outage

from . import engine
from .content import COMPILED_FORMAT, PREFETCH, CompiledPathway, compile_pathway, public_prefetch
from .models import PATHWAY, Disposition, OutcomeCount, Question

logger = logging.getLogger(__name__)

# A compiled pathway's key names its revision and public version, so it is never stale;
# the lifetime only frees memory for pathways nobody evaluates any more.
COMPILED_SECONDS = 24 * 60 * 60
# Compiled pathways by live identity, per process, in front of the shared cache: a key's value
# never changes, so a warm evaluate costs one cache read (what is live). A pathway counts as
# this many characters; a library's few pathways fit many times over.
COMPILED_MEMO_CHARS = 10_000_000
COMPILED_SIZE_ESTIMATE = 100_000
_compiled = BoundedMemo(COMPILED_MEMO_CHARS)
# The pathway this process compiled (or found compiled) last for each address: a guess at what is live, for
# ``evaluate_ahead``; replaced when what is live changes (``BoundedMemo.replace``: a ``put`` would keep the first).
_last_compiled = BoundedMemo(COMPILED_MEMO_CHARS)
# Which linked articles are live, by pathway revision and the site's public clock (``articles_live_now``): a key's
# value never changes either. An entry counts as its number of articles, plus one.
_live_links = BoundedMemo(100_000)
# Evaluations worked out ahead (``evaluate_ahead``), per process, by the compiled pathway and the answers as sent
# (``_answers_key``): the engine's answer is a function of those alone, and the same answers are sent again and again.
# An entry counts as the characters of its answers and ``EVALUATED_ENTRY_CHARS`` more (at most 20,000 entries).
EVALUATED_MEMO_CHARS = 2_000_000
EVALUATED_ENTRY_CHARS = 100
_evaluated = BoundedMemo(EVALUATED_MEMO_CHARS)
# A cached count lives this long: ``flush_outcome_counts`` must run within it (it runs every minute).
OUTCOME_COUNT_DAYS = 8
OUTCOME_COUNT_SECONDS = OUTCOME_COUNT_DAYS * 24 * 60 * 60
# The fields of a partner's evaluation (``triage.api.serializers.EvaluateRequestSerializer``).
EVALUATE_FIELDS = frozenset({"answers", "content_hash"})


def _pathways() -> RevisionQuerySet:
    return Revision.objects.of_kind(PATHWAY).select_related("article__medication").with_review()


def live_pathways() -> RevisionQuerySet:
    return _pathways().published()


@dataclass(frozen=True)
class EmergencySign:
    """A red flag that needs no check: its question and its list of signs (reviewed Markdown, rendered)."""

    text: str
    help_html: str


@dataclass(frozen=True)
class PathwayFinder:
    """What ``/triage/`` shows: the emergency signs first, then each live pathway under the symptoms it asks about."""

    emergency_signs: list[EmergencySign]
    # Symptom name -> the live pathways asking about it, A to Z.
    by_symptom: list[tuple[str, list[Revision]]]
    # Every live pathway A to Z, and whether it is demonstration content: none is hidden,
    # whether or not it asks about a symptom of the vocabulary.
    pathways: list[tuple[Revision, bool]]


def pathway_finder() -> PathwayFinder:
    """The live pathways by the symptoms their questions ask about, and their emergency red flags.

    Everything shown is reviewed content of the live revisions: a pathway is "for" the
    symptoms its questions refer to, and the signs that need no check are its red-flag
    questions whose least urgent outcome is an emergency (each shown once, however many
    pathways ask it). Three queries whatever the number of pathways.
    """
    pathways = list(live_pathways().order_by("title", "pk"))
    by_id = {revision.pk: revision for revision in pathways}
    questions: dict[int, list[Question]] = {pk: [] for pk in by_id}
    for question in Question.objects.for_finding(list(by_id)):
        questions[question.revision_id].append(question)
    signs: dict[tuple[str, str], EmergencySign] = {}
    symptoms: dict[str, list[Revision]] = {}
    for question in (question for revision in pathways for question in questions[revision.pk]):
        if question.symptom_id is not None:
            found = symptoms.setdefault(question.symptom.name, [])
            if by_id[question.revision_id] not in found:
                found.append(by_id[question.revision_id])
        if question.red_flag_level == engine.Level.EMERGENCY:
            signs.setdefault(
                (question.text, question.help_text),
                EmergencySign(question.text, render_markdown(question.help_text) if question.help_text else ""),
            )
    return PathwayFinder(
        emergency_signs=list(signs.values()),
        by_symptom=[(name, symptoms[name]) for name in sorted(symptoms, key=str.casefold)],
        pathways=[(revision, _is_demonstration(revision)) for revision in pathways],
    )


def _is_demonstration(revision: Revision) -> bool:
    review = revision.current_review
    return review is None or review.reviewer_is_demonstration


def articles_to_read(*, disposition_article_ids: tuple[int, ...], symptom_ids: tuple[int, ...]) -> list[Revision]:
    """Live articles to read after a result: the disposition's, in the clinician's order, then those that
    discuss the pathway's symptoms (``symptom_ids``), A to Z. One query, or none. None while the database is down."""
    if not disposition_article_ids and not symptom_ids:
        return []
    discussing = Revision.objects.showing_symptoms(symptom_ids).values("pk")
    try:
        live = list(
            Revision.objects.published()
            .articles()
            .filter(Q(article__in=disposition_article_ids) | Q(pk__in=discussing))
            .select_related("article")
            .order_by("title", "pk")
        )
    except (OperationalError, InterfaceError) as error:  # a read: the database unreachable, restarting or too slow
        # The result (worked out from the cached pathway) is what the reader needs, the more so if it says "call
        # now": a database outage leaves out what to read after it, never the result (a 503 page says less).
        log_outage(logger, "database", "Database unavailable (%s): a triage result shown without articles.", error)
        return []
    chosen = {revision.article_id: revision for revision in live if revision.article_id in disposition_article_ids}
    return [chosen[pk] for pk in disposition_article_ids if pk in chosen] + [
        revision for revision in live if revision.article_id not in chosen
    ]


def live_pathway(slug: str) -> Revision:
    """The live revision of a pathway, with all its rows.

    Raises ``articles.models.Withdrawn`` (410 Gone) or ``Http404``: the one
    "live, else gone, else not found" read of ``RevisionQuerySet.get_live``.
    """
    return _pathways().prefetch_related(*public_prefetch()).get_live(slug, kind=PATHWAY)


def compiled_pathway(slug: str) -> CompiledPathway:
    """The live pathway at ``slug``, compiled: one cache read when warm (two in a new process), no query.

    Raises ``Withdrawn`` (410) or ``Http404`` as ``live_pathway`` does. On a miss the
    live revision is read by its id and compiled; it is put back under a key made of
    the live identity, which every public change of the pathway moves.
    """
    live = live_identity(slug, kind=PATHWAY).require()
    key = "triage:compiled:" + live.etag("compiled", COMPILED_FORMAT).strip('"')
    compiled = _compiled.get(key) or cache_get(key)
    if not isinstance(compiled, CompiledPathway):
        compiled = compile_pathway(_pathways().prefetch_related(*PREFETCH).get(pk=live.revision_id))
        cache_set(key, compiled, COMPILED_SECONDS)
    _compiled.put(key, compiled, COMPILED_SIZE_ESTIMATE)
    if _last_compiled.get(slug) is not compiled:  # the guess for ``evaluate_ahead`` follows what is live
        _last_compiled.replace(slug, compiled, COMPILED_SIZE_ESTIMATE)
    return compiled


def articles_live_now(pathway: CompiledPathway) -> frozenset[int]:
    """Which of the articles ``pathway``'s dispositions link to are live now (a withdrawn one, or one not yet
    published, is not): what a result may send a reader or partner to, as the public result page does.

    Kept under the site's public clock (``site_identity``), which every publication and
    withdrawal moves, and a scheduled one's time too: one cache read when warm (none in
    this process again), one query on a miss. The pathway's own rows never change for it.
    """
    linked = sorted({pk for disposition in pathway.dispositions.values() for pk in disposition.article_ids})
    if not linked:
        return frozenset()
    key = f"triage:live-links:{pathway.revision_id}:" + site_identity().etag().strip('"')
    live = _live_links.get(key)
    if live is None:
        live = cache_get(key)
    if not isinstance(live, frozenset):
        found = Revision.objects.published().filter(article_id__in=linked).values_list("article_id", flat=True)
        live = frozenset(found)
        cache_set(key, live, COMPILED_SECONDS)
    _live_links.put(key, live, len(live) + 1)
    return live


@dataclass(frozen=True)
class Evaluation:
    """Where a reader's answers so far lead: a result, or the question to ask next."""

    answers: dict[str, frozenset[str]]
    # The result once no answer to the remaining questions could make it more urgent.
    result: engine.Result | None
    next_question: engine.Question | None
    # Whether its outcome is the count made with the request's admission (``evaluate_ahead``), not one of its own.
    counted_ahead: bool = False

    @property
    def complete(self) -> bool:
        return self.result is not None


def pathway_evaluate(
    *,
    pathway: CompiledPathway,
    answers: dict[str, Any],
    after: str | None = None,
    count: bool = True,
    ahead: EvaluationAhead | None = None,
    counted_ahead: Collection[str] = frozenset(),
) -> Evaluation:
    """Evaluate raw answers, all or some, against a live pathway; raises ``engine.AnswerError`` for bad answers.

    The result comes as soon as it is ``engine.settled``; until then, the next question
    (``engine.next_question``, walking on from ``after`` if given). A result is counted
    anonymously (per revision, disposition and day, ``outcome_count``); the answers go nowhere.
    ``ahead``: the same evaluation worked out before the request was admitted
    (``evaluate_ahead``), used if it was of these answers against this pathway; its outcome,
    if the admission counted it (``counted_ahead``), is not counted again.
    """
    reused = ahead if ahead is not None and ahead.pathway is pathway and ahead.answers == answers else None
    if reused is not None:
        normalised, result = reused.evaluation.answers, reused.evaluation.result
    else:
        normalised = engine.normalise_answers(pathway.pathway, answers, partial=True)
        result = engine.settled(pathway.pathway, normalised)
    if result is None:
        return Evaluation(normalised, None, engine.next_question(pathway.pathway, normalised, after=after))
    if not count:
        return Evaluation(normalised, result, None)
    if reused is not None and reused.counter in counted_ahead:
        return Evaluation(normalised, result, None, counted_ahead=True)
    outcome_count(revision_id=pathway.revision_id, disposition_key=result.disposition.key)
    return Evaluation(normalised, result, None)


# --- Outcome counts ------------------------------------------------------------------------------


def outcome_count_key(revision_id: int, disposition_key: str, day: datetime.date | None = None) -> str:
    day = day or timezone.localdate()
    return f"triage:outcome:{revision_id}:{day.isoformat()}:{disposition_key}"


def outcome_count(*, revision_id: int, disposition_key: str) -> None:
    """Count one outcome with an atomic cache increment (Redis in production: atomic across servers).

    One round trip (``contentsite.cache.count_hit``: the day's counter is created with its
    expiry if absent and incremented at once). If the cache fails, the count is written
    to the database instead: counted, never lost, at the old cost of a write per
    evaluation while the cache is down.
    """
    day = timezone.localdate()
    key = outcome_count_key(revision_id, disposition_key, day)
    try:
        counted = count_hit(key, OUTCOME_COUNT_SECONDS)
    except Exception:  # whatever the cache does, a reader's result is never lost to a statistic
        counted = None
    if counted is None:
        # Once a minute per process, not once per evaluation, while the cache is down.
        log_outage(logger, "outcome-count", "Could not count outcomes in the cache; writing them to the database.")
        _add_to_count(revision_id, disposition_key, day, 1)


@dataclass(frozen=True)
class EvaluationAhead:
    """An evaluation worked out before its request was admitted (``evaluate_ahead``), and the counter its outcome
    counts on."""

    pathway: CompiledPathway
    # The answers as sent, which the request's own evaluation compares with its own.
    answers: Any
    evaluation: Evaluation
    counter: str


def evaluate_ahead(slug: str, body: Any) -> EvaluationAhead | None:
    """``body`` (a partner's request, as JSON) evaluated at ``slug`` before the request is admitted, so that its
    admission's round trip can count the outcome too; None when it does not settle, or cannot be worked out.

    A guess, from the pathway this process compiled last for ``slug``: it may no longer be
    live, and the request may yet be refused or malformed. So the request's own evaluation
    uses it, and the count made ahead stands for its outcome, only if it is of the same
    answers against the pathway live now (``pathway_evaluate``); else ``outcome_settle``
    takes the count back. The count is of the day the request was admitted.
    """
    pathway = _last_compiled.get(slug)
    if pathway is None or not isinstance(body, dict) or "answers" not in body or set(body) - EVALUATE_FIELDS:
        return None
    if body.get("content_hash", pathway.content_hash) != pathway.content_hash:  # refused, or the guess is not live
        return None
    settled = _settled_ahead(pathway, body["answers"])
    if settled is None:
        return None
    answers, result = settled
    counter = outcome_count_key(pathway.revision_id, result.disposition.key)
    return EvaluationAhead(pathway, body["answers"], Evaluation(answers, result, None), counter)


def _settled_ahead(pathway: CompiledPathway, raw: Any) -> tuple[dict[str, frozenset[str]], engine.Result] | None:
    """The answers ``raw`` normalised and their settled result against ``pathway``; None when they are refused or do
    not settle. Worked out once per process for the same pathway and the same answers as sent (``_evaluated``: about
    a sixth of a decided evaluation's instructions, callgrind), each caller given its own copy of the answers."""
    shape = _answers_key(raw)
    found = _evaluated.get((id(pathway), shape)) if shape is not None else None
    if found is None or found[0] is not pathway:
        try:
            answers = engine.normalise_answers(pathway.pathway, raw, partial=True)
        except engine.AnswerError:
            return None
        found = (pathway, answers, engine.settled(pathway.pathway, answers))
        if shape is not None:
            size = EVALUATED_ENTRY_CHARS + sum(len(name) + len(value) for name, value in shape)
            _evaluated.replace((id(pathway), shape), found, size)
    _, answers, result = found
    return (dict(answers), result) if result is not None else None


def _answers_key(raw: Any) -> tuple[tuple[str, str | tuple[str, ...]], ...] | None:
    """The answers as sent, as a key: each question's key and its option key, or its list of them as a tuple; None
    for anything else (which the engine refuses, or which is not kept)."""
    if type(raw) is not dict:
        return None
    shape: list[tuple[str, str | tuple[str, ...]]] = []
    for name, value in raw.items():
        if type(value) is list:
            if not all(type(each) is str for each in value):
                return None
            value = tuple(value)
        elif type(value) is not str:
            return None
        shape.append((name, value))
    return tuple(shape)


def outcome_settle(counted_ahead: Collection[str], evaluation: Evaluation | None) -> None:
    """Take back each count made ahead (``evaluate_ahead``) unless the request's ``evaluation`` is the one worked out
    ahead: refused, malformed, not settled, or evaluated afresh (the pathway was compiled again, or the answers
    differ), even where its own outcome happens to have the same counter, which it counted itself."""
    if evaluation is None or not evaluation.counted_ahead:
        for key in counted_ahead:
            outcome_take_back(key)


def outcome_take_back(key: str) -> None:
    """One count fewer on ``key``. If a flush took the count first, the counter goes below zero and the next
    flush takes that from the database (``outcome_counts_flush``), so the totals stay exact."""
    try:
        cache.decr(key)
    except ValueError:  # expired, or the cache is down: no count of this key is left to take from
        log_outage(logger, "outcome-count", "Could not take back an outcome counted ahead in the cache.")


def outcome_counts_flush() -> int:
    """Fold the counts in the cache into ``OutcomeCount``; returns how many outcomes were moved.

    Safe to run on several machines at once: each count is taken from the cache with an
    atomic decrement, and a flush that finds it took more than was there (another took
    them first) gives the rest back, so nothing is added twice. The row is updated in its
    own transaction after the take; if that fails the take is given back. A process
    killed between the two loses what it took: an undercount of at most one flush's
    worth, which these statistics accept (they are not records) in preference to the
    double count that writing first would risk.

    A counter below zero is a count taken back after a flush had already taken it
    (``outcome_take_back``): it is taken from the row the same way, so the totals stay exact.
    """
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in range(OUTCOME_COUNT_DAYS)]
    candidates = _count_candidates()
    keys = {
        outcome_count_key(revision_id, disposition_key, day): (revision_id, disposition_key, day)
        for revision_id, disposition_key in candidates
        for day in days
    }
    names = list(keys)
    moved = 0
    for start in range(0, len(names), 1000):
        for key, value in cache.get_many(names[start : start + 1000]).items():
            if isinstance(value, int) and not isinstance(value, bool) and value != 0:
                taken = _take_count(key, value)
                if taken and _fold(key, taken, *keys[key]):
                    moved += taken
    return moved


def _count_candidates() -> list[tuple[int, str]]:
    """(revision, disposition key) of every pathway revision that may have been counted in the cache's lifetime."""
    since = timezone.now() - datetime.timedelta(days=OUTCOME_COUNT_DAYS)
    counted = Q(revision__state__in=[RevisionState.PUBLISHED, RevisionState.SCHEDULED]) | Q(
        revision__state__in=[RevisionState.SUPERSEDED, RevisionState.WITHDRAWN],
        revision__article__public_updated_at__gte=since,
    )
    return list(
        Disposition.objects.filter(counted, revision__article__kind=PATHWAY)
        .values_list("revision_id", "key")
        .order_by("revision_id", "key")
    )


def _take_count(key: str, seen: int) -> int:
    """Take ``seen`` counts (below zero: counts taken back, ``outcome_take_back``) from the cache atomically;
    what took the counter past zero (another flush took some first) is given back."""
    try:
        left = cache.decr(key, seen)
    except ValueError:  # expired since it was read
        return 0
    if seen > 0 > left:
        back = min(seen, -left)
        cache.incr(key, back)
        return seen - back
    if seen < 0 < left:
        back = min(-seen, left)
        cache.decr(key, back)
        return seen + back
    return seen


def _fold(key: str, taken: int, revision_id: int, disposition_key: str, day: datetime.date) -> bool:
    """Add ``taken`` to the row; whether it went in. What did not is given back to the cache for a later flush:
    a failure, or counts taken back (below zero) that the row does not hold yet. Those are seen when a flush
    reads a counter another has just over-taken (``_take_count``) while the flush that took them has not folded
    them yet: dropped, that flush's counts would land twice."""
    try:
        with transaction.atomic():
            folded = _add_to_count(revision_id, disposition_key, day, taken)
    except Exception:
        cache.incr(key, taken)  # give them back for the next flush
        raise
    if not folded:
        cache.incr(key, taken)
    return folded


def _add_to_count(revision_id: int, disposition_key: str, day: datetime.date, n: int) -> bool:
    """Add ``n`` to the day's row (making it); below zero, only to a row holding at least that many. Whether added."""
    counts = OutcomeCount.objects.filter(revision_id=revision_id, disposition_key=disposition_key, day=day)
    if n < 0:  # counts taken back after a flush: from the row they went to (never below zero, never a new row)
        return bool(counts.filter(count__gte=-n).update(count=F("count") + n))
    if counts.update(count=F("count") + n):
        return True
    try:
        with transaction.atomic():
            OutcomeCount.objects.create(revision_id=revision_id, disposition_key=disposition_key, day=day, count=n)
    except IntegrityError:  # another request or flush created the row first
        counts.update(count=F("count") + n)
    return True
