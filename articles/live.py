"""What is live at each public address, known from the cache without a query.

Every public read starts here. ``live_identity(slug, kind=...)`` answers which
revision is live at an address (or that the address is gone, or was never
public), with the article's place on the public clock, its ``Last-Modified``
and an ``ETag`` maker. ``site_identity()`` answers the same for everything that
lists many articles (home, sitemap, API lists). Both are read from a cache
pointer, so a cache hit of a page needs no query; on a miss they are worked out
from the database in a few small indexed queries and put back.

Freshness does not rest on expiry. Every transaction that changes what readers
or partners see calls ``public_change`` inside it: that moves the public clock
(``ChangeFeedLock.public_version``, the last row any transaction locks) and
stamps the articles, drops their pointers, and on commit drops them again and
purges the proxy.
A reader that worked out a pointer from the database just before such a
commit could put back the old one after the drop; so after putting a pointer
back, a reader reads the stamp once more and drops what it put if the stamp
moved. Whichever order the two sides run in, the pointer that stays agrees with
the database. A scheduled publication changes what is live without a commit:
the pointer carries its time and is not used from then on. The drops and
purges are written into the change's transaction (``contentsite.invalidation``)
and kept until the cache and proxy take them, so a cache that fails at that
moment (Redis restarting, or refusing writes after a failover) or a process that
dies before the drop cannot leave the old pointer for long: it is dropped again
on the next change's commit or by ``manage.py retry_invalidations``. The
pointers' own lifetime (``LIVE_POINTER_SECONDS``) bounds what is left if even
that never runs.

Lists count live articles from tallies (``LiveTally``, ``LiveSymptomTally``) that
``public_change`` moves in the same transaction, so the home page reads counts,
and the symptom list and pages read which symptoms are shown, not articles.

A cache that fails is a miss: the answer comes from the database.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, FilteredRelation, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.dispatch import Signal
from django.http import Http404
from django.utils import timezone

from contentsite import proxy
from contentsite.cache import decoded_once, drop, forget_prefetched, keep_prefetched, take_prefetched
from contentsite.compiled import CompiledValues
from contentsite.invalidation import invalidate_on_commit
from contentsite.outages import log_outage

from .kinds import linked_from_articles
from .models import (
    Article,
    ArticleKind,
    ChangeFeedLock,
    LiveSymptomTally,
    LiveTally,
    Medication,
    Revision,
    RevisionState,
    Symptom,
    Withdrawn,
    symptoms_by_revision,
)
from .models.pages import identity_holds
from .search import index_vocabulary_change

logger = logging.getLogger(__name__)

POINTER_FORMAT = 2
SITE_POINTER = f"live:{POINTER_FORMAT}:site"
# Above this many articles in one change, the proxy is purged by the caller's keys
# (a medication's, a symptom's) instead of one key per article.
MAX_ARTICLE_KEYS_PER_PURGE = 100
# What a pointer holds from a public change until its commit's drop (``public_change``): not an identity, so every
# reader works the address out from the database meanwhile, and the key being taken, none can put back what it read
# before the commit. Kept at most ``CHANGING_SECONDS`` (a change rolled back leaves it that long: its addresses are
# worked out on each request until then); a change committing later than that is back to the drop alone.
CHANGING = "changing"  # and the transaction's token (``_held_by_this_transaction``)
CHANGING_SECONDS = 120


# The longest address an article can have: a longer one is nothing, known without asking anyone.
SLUG_MAX_LENGTH = Article._meta.get_field("slug").max_length


def _may_exist(slug: str) -> bool:
    return len(slug) <= SLUG_MAX_LENGTH


def _pointer_key(kind: str, slug: str) -> str:
    return f"live:{POINTER_FORMAT}:{kind}:{slug}"


def identity_cache_key(slug: str, *, kind: str) -> str:
    """The cache key under which ``live_identity(slug, kind=kind)`` keeps what it worked out (what tests look for).
    A partner's request reads it ahead through ``identity_cache_keys``."""
    return _pointer_key(kind, slug)


def identity_cache_keys(slug: str, *, kind: str) -> tuple[str, ...]:
    """What ``live_identity(slug, kind=kind)`` reads from the cache, for a partner's request to read ahead: its key,
    or nothing for an address no article can have (which it does not read)."""
    return (_pointer_key(kind, slug),) if _may_exist(slug) else ()


def site_identity_cache_keys() -> tuple[str, ...]:
    """What ``site_identity()`` reads from the cache, for a request to read ahead (``contentsite.early.read_ahead``)."""
    return (SITE_POINTER,)


def _etag(*parts: object) -> str:
    return '"' + hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()[:32] + '"'


@decoded_once
@dataclass(frozen=True)
class Live:
    """What is at one public address now."""

    kind: str
    slug: str
    # None: no article of this kind at this slug.
    article_id: int | None
    # The live revision, or None: nothing live (``gone`` says whether it was withdrawn).
    revision_id: int | None
    gone: bool
    # The public clock at the article's last public change: any change moves it.
    version: int
    last_modified: datetime.datetime | None
    # A scheduled publication's time, of this or of content its page links to: from then on this is out of date.
    expires_at: datetime.datetime | None
    # The latest scheduled publication gone live (recorded or not) of content of another kind that an article's page
    # links to by a symptom it shows, or did until then (``articles.kinds``): the page changed then, with no change to
    # the article.
    linked_due: datetime.datetime | None = None
    # An article's medication and the symptoms its live revision shows: what its pages show besides the revision.
    medication_id: int | None = None
    symptom_ids: tuple[int, ...] = ()

    @property
    def is_live(self) -> bool:
        return self.revision_id is not None

    def require(self) -> Live:
        """This, if something is live; else ``Withdrawn`` (410 Gone) or ``Http404``, as ``get_live`` does."""
        if self.revision_id is not None:
            return self
        if self.gone:
            raise Withdrawn(self.slug)
        raise Http404("Nothing is published at this address.")

    def etag(self, *salt: object) -> str:
        """A strong validator for one representation (``salt``) of what is live here."""
        linked = self.linked_due.isoformat() if self.linked_due else ""
        return _etag(self.kind, self.article_id, self.version, self.revision_id, linked, *salt)

    @property
    def surrogate_keys(self) -> tuple[str, ...]:
        return (proxy.article_key(self.article_id),) if self.article_id else ()

    @property
    def page_keys(self) -> tuple[str, ...]:
        """The proxy's surrogate keys of an article's pages (the page, its history, their 304s alike): the article,
        its medication and the symptoms its live revision shows, whose changes those pages show, purged by these
        keys when they touch too many articles to name each (``public_change``)."""
        return (
            *self.surrogate_keys,
            *((proxy.medication_key(self.medication_id),) if self.medication_id else ()),
            *(proxy.symptom_key(symptom_id) for symptom_id in self.symptom_ids),
        )


@decoded_once
@dataclass(frozen=True)
class Site:
    """The public clock: whatever lists many articles changes when ``version`` or ``due`` does."""

    version: int
    last_modified: datetime.datetime | None
    # The latest scheduled publication that has gone live (recorded or not), and the next one.
    due: datetime.datetime | None
    expires_at: datetime.datetime | None

    def etag(self, *salt: object) -> str:
        return _etag("site", self.version, self.due.isoformat() if self.due else "", *salt)


# --- Reading ---------------------------------------------------------------------------


def live_identity(slug: str, *, kind: str) -> Live:
    """What is live at ``slug`` for content of ``kind``: one cache read, or a few small indexed queries on a miss.

    An address longer than any article's is nothing, at once: neither looked up nor kept (a
    stranger's made-up addresses would otherwise each leave a key as long in the shared cache).
    """
    # The kind as a plain string, as the pointer keeps it: a member of ``ArticleKind`` is unpickled by looking up and
    # calling its class, half of the CPU of reading the pointer back on every request (profiled: 26 us against 14).
    kind = str(kind)
    if not _may_exist(slug):
        return _nothing(kind, slug)
    key = _pointer_key(kind, slug)
    cached = cache_get(key)
    if isinstance(cached, Live):
        if cached.expires_at is None or cached.expires_at > timezone.now():
            keep_prefetched({key: cached})  # the request's next read of it (the view's, after the early answer's)
            return cached
        drop([key])  # a scheduled publication's time has come
    held = _held_elsewhere(key, cached)
    live = _work_out(slug, kind)
    if held:  # a change to it is committing: worked out each time until its commit drops the marker
        return live
    if cache_add(key, live, _seconds_until(live.expires_at)):
        current = next(iter(_STAMP.rows(kind, slug=slug)), None)
        if current != ((live.article_id, live.version) if live.article_id else None):
            drop([key])  # a change committed meanwhile: let the next reader work it out
            return live
    # Kept for the rest of this request, whatever the cache took: its next read of this address (the view's, after
    # the early answer's validators) is this one, not a second work-out when the cache keeps nothing (Redis down).
    # A change in the request drops it (``drop``, ``hold_until_commit``).
    keep_prefetched({key: live})
    return live


def _nothing(kind: str, slug: str) -> Live:
    return Live(kind, slug, None, None, False, 0, None, None)


def stored_page_key(live: Live) -> str:
    """The request-scope key under which ``live_identity`` keeps the stored page (``StoredPage``) it read with
    ``live`` (``StoredHTML``), for the page's view to take instead of rendering."""
    return _stored_key(live.article_id, live.version, live.revision_id)


def _stored_key(article_id: int | None, version: int, revision_id: int | None) -> str:
    return f"stored-page:{article_id}:{version}:{revision_id}"


@dataclass(frozen=True)
class StoredHTML:
    """A stored page read with the live identity: good for ``live`` as long as its format is the page's current one
    and ``changes_at`` has not come, and it is recent enough (the view judges: ``articles.views``)."""

    page_format: str
    changes_at: datetime.datetime | None
    stored_at: datetime.datetime
    html: str


# What ``_work_out`` reads of an article's stored page beside its revisions (``StoredPage``).
_STORED = (
    "stored_page__version",
    "stored_page__revision_id",
    "stored_page__symptom_ids",
    "stored_page__linked_due",
    "stored_page__expires_at",
    "stored_page__page_format",
    "stored_page__changes_at",
    "stored_page__stored_at",
    "stored_page__html",
)


def _public_rows(shape: tuple[str, tuple[str, ...], bool], *, slug: str) -> QuerySet[Article]:
    """The article of ``kind`` at ``slug`` with each of its public revisions, one row each (``_work_out``), and
    whether content of ``linked_kinds`` has a publication scheduled; with its stored page's columns if
    ``with_stored``."""
    kind, linked_kinds, with_stored = shape
    public = FilteredRelation(
        "revisions",
        condition=Q(revisions__state__in=[RevisionState.PUBLISHED, RevisionState.SCHEDULED, RevisionState.WITHDRAWN]),
    )
    scheduled = Revision.objects.filter(state=RevisionState.SCHEDULED).of_kinds(*linked_kinds)
    return (
        Article.objects.filter(slug=slug, kind=kind)
        .annotate(
            public=public,
            # Whether any such content has a publication scheduled at all (one probe, the same for every address):
            # as a rule none has, and then what the page links to needs no statement of its own
            # (``_shown_and_linked``).
            linked_scheduled=Exists(scheduled) if linked_kinds else Value(False),
        )
        .values_list(
            "pk",
            "public_version",
            "public_updated_at",
            "medication_id",
            "linked_scheduled",
            "public__pk",
            "public__state",
            "public__publish_at",
            "public__published_at",
            *(_STORED if with_stored else ()),
        )
        .order_by()
    )


# Built and compiled once per connection and shape: building it in the ORM was most of a shared-cache miss's CPU
# (``contentsite.compiled``).
_PUBLIC_ROWS = CompiledValues(Article, _public_rows)


def _stamp_query(kind: str, *, slug: str) -> QuerySet[Article]:
    return Article.objects.filter(slug=slug, kind=kind).values_list("pk", "public_version").order_by("pk")[:1]


# The article's place on the public clock now, read again after a work-out is put back (``live_identity``).
_STAMP = CompiledValues(Article, _stamp_query)


def work_out_afresh(slug: str, *, kind: str) -> Live:
    """What is live at ``slug`` from the database alone: neither the cache nor a stored page
    (``articles.stored_pages``, which renders the page that is stored)."""
    return _work_out(slug, str(kind), stored=False)


def _work_out(slug: str, kind: str, *, stored: bool = True) -> Live:
    """What is live at ``slug``, from the database: the article's public revisions in one statement, and the symptoms
    its live revision shows and the schedules of the content its page links to by them in one or two more
    (``_shown_and_linked``), unless its stored page (``StoredPage``), read in the first, was worked out at the
    article's version for the same live revision and no moment it named has come: then that statement is all, and
    the page is kept for the request (``stored_page_key``)."""
    # An article's page links to content of these kinds by the symptoms it shows (``articles.kinds``).
    linked_kinds = tuple(linked.name for linked in linked_from_articles()) if kind == ArticleKind.ARTICLE else ()
    # Only an article's page is stored; the page (and what it is worked out from) read with the revisions: as a rule
    # one revision is public, so one row.
    with_stored = stored and kind == ArticleKind.ARTICLE and settings.STORED_ARTICLE_PAGES
    rows = _PUBLIC_ROWS.rows((kind, linked_kinds, with_stored), slug=slug)
    if not rows:
        return _nothing(kind, slug)
    article_id, version, updated_at, medication_id, linked_scheduled = rows[0][:5]
    now = timezone.now()
    published = due = next_time = None
    withdrawn = False
    for pk, state, publish_at, published_at in (row[5:9] for row in rows):
        if pk is None:
            continue
        if state == RevisionState.SCHEDULED and publish_at <= now:
            due = (pk, publish_at)  # live from its time, and it hides the published one
        elif state == RevisionState.SCHEDULED:
            next_time = publish_at
        elif state == RevisionState.PUBLISHED:
            published = (pk, published_at)
        else:
            withdrawn = True
    live = due or published
    symptoms: tuple[int, ...] = ()
    linked_due = linked_next = None
    page = rows[0][9:] if with_stored and live else None
    if page and identity_holds(page[0], page[1], page[4], article_version=version, live_revision_id=live[0], now=now):
        # Worked out at this version for this revision, and no scheduled publication's time it knew of has come:
        # nothing the identity adds to the revision has changed since (every change moves the version:
        # ``public_change``, which a new schedule, of the article or of content linked to it, goes through).
        symptoms, linked_due, linked_next = tuple(page[2]), page[3], page[4]
        keep_prefetched({_stored_key(article_id, version, live[0]): StoredHTML(*page[5:])})
    elif live and kind == ArticleKind.ARTICLE:  # what an article's page shows besides its revision
        symptoms, linked_due, linked_next = _shown_and_linked(
            live[0], now, list(linked_kinds) if linked_scheduled else []
        )
    moments = [moment for moment in (updated_at, live[1] if live else None, linked_due) if moment]
    expiries = [moment for moment in (next_time, linked_next) if moment]
    return Live(
        kind=kind,
        slug=slug,
        article_id=article_id,
        revision_id=live[0] if live else None,
        gone=live is None and withdrawn,
        version=version,
        last_modified=max(moments) if moments else None,
        expires_at=min(expiries) if expiries else None,
        linked_due=linked_due,
        medication_id=medication_id,
        symptom_ids=symptoms,
    )


def _shown_and_linked(
    revision_id: int, now: datetime.datetime, scheduled_kinds: list[str]
) -> tuple[tuple[int, ...], datetime.datetime | None, datetime.datetime | None]:
    """The symptoms revision ``revision_id`` shows, and the latest scheduled publication gone live and the next one to
    come of the content of ``scheduled_kinds`` an article's page links to by them (``articles.kinds``): one query, and
    a second when content of those kinds has a publication scheduled.

    The content is ``Article.objects.sharing_symptoms_with`` (a revision of it, published or scheduled, shows
    one of the symptoms), so a scheduled revision counts whether it shows them or replaces one that does. Such a
    publication changes the page at its time with no commit, as the article's own would (a new title under a
    heading such as "Check your symptoms", or the link gone); recorded (``publish_scheduled``), it moves the
    article's version like any change (``services``), and is no longer counted here.
    """
    shown = tuple(Symptom.objects.shown_by_revision(revision_id).order_by("pk").values_list("pk", flat=True))
    if not shown or not scheduled_kinds:
        return shown, None, None
    # Two small statements, not one: the symptoms, known, are a list of ids in the second, which is built once for
    # every kind (the one statement nested the symptoms' subquery in each kind's, twice over, for each moment: 20 ms
    # of the work-out's 25 in Python, profiled, building it; PostgreSQL planned it on every request). The second is
    # asked only when content of those kinds has a publication scheduled (``scheduled_kinds``, from ``_work_out``).
    linked = Article.objects.showing_any_of(shown, kinds=scheduled_kinds)
    moments = (
        Revision.objects.filter(state=RevisionState.SCHEDULED, article__in=linked)
        .order_by()
        .aggregate(
            due=Max("publish_at", filter=Q(publish_at__lte=now)),
            upcoming=Min("publish_at", filter=Q(publish_at__gt=now)),
        )
    )
    return shown, moments["due"], moments["upcoming"]


def site_identity() -> Site:
    """The public clock for everything that lists many articles: one cache read, or two queries on a miss."""
    cached = cache_get(SITE_POINTER)
    if isinstance(cached, Site):
        if cached.expires_at is None or cached.expires_at > timezone.now():
            keep_prefetched({SITE_POINTER: cached})  # as ``live_identity``: one read per request
            return cached
        drop([SITE_POINTER])
    held = _held_elsewhere(SITE_POINTER, cached)
    clock = ChangeFeedLock.objects.filter(pk=1).values_list("public_version", "public_updated_at").first()
    version, updated_at = clock or (0, None)
    now = timezone.now()
    scheduled = Revision.objects.filter(state=RevisionState.SCHEDULED).aggregate(
        due=Max("publish_at", filter=Q(publish_at__lte=now)), next=Min("publish_at", filter=Q(publish_at__gt=now))
    )
    moments = [moment for moment in (updated_at, scheduled["due"]) if moment]
    site = Site(version, max(moments) if moments else None, scheduled["due"], scheduled["next"])
    if held:
        return site
    if cache_add(SITE_POINTER, site, _seconds_until(site.expires_at)):
        current = ChangeFeedLock.objects.filter(pk=1).values_list("public_version", flat=True).first()
        if (current or 0) != version:
            drop([SITE_POINTER])
            return site
    keep_prefetched({SITE_POINTER: site})
    return site


# --- Writing ---------------------------------------------------------------------------


# Sent once a public change has committed, with the ids of the articles it named (None: too many to name, a query).
public_changed = Signal()


def lock_public_clock() -> ChangeFeedLock:
    """Take the public clock's row lock (made if missing), which every public change and the change feed take,
    after the article and revision locks: they queue on it, one at a time."""
    clock, _ = ChangeFeedLock.objects.select_for_update().get_or_create(pk=1)
    return clock


def public_change(
    articles: Iterable[int] | QuerySet[Article],
    *,
    at: datetime.datetime | None = None,
    keys: Iterable[str] = (),
    live_set_changed: bool = True,
) -> None:
    """Record, inside the writing transaction, that what the public sees of ``articles`` changes.

    Every service that publishes, replaces, withdraws or schedules a revision,
    reviews a live one or changes vocabulary that live content shows calls this,
    after the state change. It moves the public clock and stamps the articles
    (``at``, default now: the moment readers see the change), and moves the live
    tallies (``LiveTally``) of articles whose recorded live revision's topic
    changed and the live symptom tallies (``LiveSymptomTally``) of those whose
    recorded live revision changed; on commit it drops their pointers and the
    site's and purges the proxy of the articles (or of ``keys``, for a change too
    wide to name every article) and of every list.

    ``live_set_changed=False``: the change cannot have changed which revision is
    recorded live nor its topic or medication (a vocabulary entry's words), so the
    tallies are not looked at: such a change may name every article of a medication.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("public_change belongs inside the transaction that makes the change.")
    ids = articles if isinstance(articles, QuerySet) else list(articles)
    clock = lock_public_clock()
    stamped = Article.objects.filter(pk__in=ids)
    if live_set_changed:
        # After the clock's row lock: every public change (and ``rebuild_live_tallies``) takes that
        # lock first, so they move tallies one at a time, and no two can wait on each other's
        # tally rows (no deadlock, no lost update).
        _retally(stamped)
    addresses = list(stamped.values_list("pk", "kind", "slug"))
    purge = [*keys, proxy.INDEX_KEY]
    if len(addresses) <= MAX_ARTICLE_KEYS_PER_PURGE or not keys:
        purge += [proxy.article_key(pk) for pk, _, _ in addresses]
    pointers = [SITE_POINTER, *(_pointer_key(kind, slug) for _, kind, slug in addresses)]
    # Dropped now, so later reads in this transaction (and its tests) work out the new
    # state, and again on commit, after any reader that raced the commit; kept in this
    # transaction until the cache and the proxy take it, whatever fails.
    invalidate_on_commit(pointers, purge)
    # Until the commit's drop, the pointers say "being changed" (``CHANGING``). Dropped alone, a reader working one
    # out before the commit (the old state: the version it checks has not moved yet) put it back, and every app
    # server answered from it between the commit and the drop: a partner reading the feed's new event then was told
    # 304 for the revision it replaced, and polled the feed on past it (tests/api/test_sync_races.py).
    hold_until_commit(pointers)
    # Once committed, the articles' pages are stored again (``articles.stored_pages``): a few, named; a change of many
    # (named by a query) leaves them to ``manage.py store_article_pages``.
    named = None if isinstance(ids, QuerySet) else [pk for pk, _, _ in addresses]
    transaction.on_commit(lambda: public_changed.send(sender=Article, article_ids=named), robust=True)
    # Dated last, once the clock is held (the last lock: from here the transaction waits on nobody) and everything
    # else is done: a partner's ``updated_since`` finds a change by this stamp, and only once it commits, so nothing
    # but the stamping may come between the two (a lock wait, or work that grows with the articles, before the stamp
    # made it older than the commit by more than the minute partners ask back). Callers do any work of their own that
    # grows with the articles before calling this (``services._vocabulary_update``).
    at = at or timezone.now()
    clock.public_version += 1
    clock.public_updated_at = max(moment for moment in (clock.public_updated_at, at) if moment)
    clock.save(update_fields=["public_version", "public_updated_at"])
    stamped.update(
        public_version=clock.public_version,
        public_updated_at=Greatest(Coalesce(F("public_updated_at"), at), at),
    )


def hold_until_commit(keys: list[str]) -> None:
    """Mark the pointers ``keys`` as being changed (``CHANGING``) until the transaction's commit drops them."""
    forget_prefetched(keys)
    try:
        cache.set_many(dict.fromkeys(keys, _held_by_this_transaction()), CHANGING_SECONDS)
    except Exception:  # the drops, on commit and retried, still come: as before, a reader may race the commit
        _cache_failed("write")


def _held_by_this_transaction() -> str:
    """The marker this transaction leaves on the pointers it changes: ``CHANGING`` and a token of the transaction,
    forgotten once it commits (kept if it rolls back: its markers are stale then, whoever reads them)."""
    connection = transaction.get_connection()
    token = getattr(connection, "live_hold_token", None)
    if token is None:
        token = secrets.token_hex(8)
        connection.live_hold_token = token
        transaction.on_commit(lambda: setattr(connection, "live_hold_token", None))
    return f"{CHANGING}:{token}"


def _held_elsewhere(key: str, cached: Any) -> bool:
    """Whether ``cached`` (read at ``key``) marks a change another transaction has not committed yet. One this
    transaction made is dropped: what it reads is its own change, as after the commit."""
    if not (isinstance(cached, str) and cached.startswith(CHANGING)):
        return False
    token = getattr(transaction.get_connection(), "live_hold_token", None)
    if token is not None and cached == f"{CHANGING}:{token}":
        drop([key])
        return False
    return True


def _retally(articles: QuerySet[Article]) -> None:
    """Move the live tallies of ``articles`` whose recorded live topic is not the one they are counted under, and the
    live symptom tallies of those whose recorded live revision is not the one they are counted by.

    Set-wise: one read of the articles that moved, one read of the symptom rows of the revisions they were and are
    counted by, one write per tally touched and per new topic, and one per thousand articles whose live revision
    changed, however many articles there are. A repeated change finds nothing moved, and moves nothing.
    """
    live = Revision.objects.filter(article_id=OuterRef("pk"), state=RevisionState.PUBLISHED)
    rows = (
        articles.annotate(live_topic=Subquery(live.values("topic")[:1]), live_revision=Subquery(live.values("pk")[:1]))
        .filter(Q(tallied_topic__isnull=False) | Q(tallied_revision__isnull=False) | Q(live_revision__isnull=False))
        .values_list(
            "pk", "kind", "medication_id", "tallied_topic", "live_topic", "tallied_revision_id", "live_revision"
        )
    )
    changes: Counter[tuple[str, int, str]] = Counter()
    moved: dict[str | None, list[int]] = defaultdict(list)
    recounted: dict[int, tuple[str, int | None, int | None]] = {}
    for pk, kind, medication_id, tallied, topic, tallied_revision, live_revision in rows:
        if tallied_revision != live_revision:
            recounted[pk] = (kind, tallied_revision, live_revision)
        if tallied == topic:
            continue
        if tallied is not None:
            changes[(kind, medication_id, tallied)] -= 1
        if topic is not None:
            changes[(kind, medication_id, topic)] += 1
        moved[topic].append(pk)
    LiveTally.objects.move(changes)
    for topic, pks in moved.items():
        for start in range(0, len(pks), 1000):
            Article.objects.filter(pk__in=pks[start : start + 1000]).update(tallied_topic=topic)
    _retally_symptoms(recounted)


def _retally_symptoms(recounted: dict[int, tuple[str, int | None, int | None]]) -> None:
    """Take each article of ``recounted`` (id: kind, the revision it is counted by, its recorded live one) off the
    symptoms the first shows and count it under those the second shows; remember the second."""
    if not recounted:
        return
    shown = symptoms_by_revision(
        sorted({revision for _, *revisions in recounted.values() for revision in revisions if revision is not None})
    )
    changes: Counter[tuple[str, int]] = Counter()
    for kind, tallied_revision, live_revision in recounted.values():
        for symptom_id in shown.get(tallied_revision, ()):
            changes[(kind, symptom_id)] -= 1
        for symptom_id in shown.get(live_revision, ()):
            changes[(kind, symptom_id)] += 1
    LiveSymptomTally.objects.move(changes)
    live = Revision.objects.filter(article_id=OuterRef("pk"), state=RevisionState.PUBLISHED).values("pk")[:1]
    pks = sorted(recounted)
    for start in range(0, len(pks), 1000):
        Article.objects.filter(pk__in=pks[start : start + 1000]).update(tallied_revision=Subquery(live))


def vocabulary_saved(sender: type[Medication | Symptom], instance: Medication | Symptom, **kwargs: Any) -> None:
    """A medication or symptom was saved: every article showing it changes (connected in ``ArticlesConfig``).

    ``services.medication_update``/``symptom_update`` are the audited way; a save from
    anywhere else (a shell, a data migration) still reaches readers at once.
    """
    if kwargs.get("raw") or kwargs.get("created"):
        return  # a fixture being loaded, or a new entry nothing shows yet
    key = proxy.medication_key(instance.pk) if isinstance(instance, Medication) else proxy.symptom_key(instance.pk)
    with transaction.atomic():
        # A name or code changes; no article's live revision, topic or medication does. Set-wise, in a fixed number
        # of statements however many articles show it (tens of thousands may). The public clock first, in the order
        # every public change takes its locks (a workflow step indexes once it holds the clock: the index's words are
        # unique rows, which two changes adding the same word would otherwise wait on in opposite orders); then the
        # search index, so that the public change, dated as it is made, is the last step before the commit.
        lock_public_clock()
        index_vocabulary_change(instance)  # the names and descriptions search finds
        public_change(Article.objects.using_vocabulary(instance), keys=[key], live_set_changed=False)


# --- The cache, failing soft -------------------------------------------------------------


def _seconds_until(moment: datetime.datetime | None) -> int:
    seconds = settings.LIVE_POINTER_SECONDS
    if moment is not None:
        seconds = min(seconds, max(1, int((moment - timezone.now()).total_seconds()) + 1))
    return seconds


# The Redis cache itself fails soft (contentsite.cache: unreachable is a miss). These name the
# calls the read path makes and keep any other backend's failure a miss too, logged at most once
# a minute.


def _cache_failed(action: str) -> None:
    log_outage(logger, "cache", "Cache %s failed: treated as a miss.", action, exc_info=True)


def cache_get(key: str) -> Any:
    """The cached value (read ahead in this request, if it was), or ``None`` (also when the cache fails)."""
    ahead = take_prefetched(key)
    if ahead is not None:
        return ahead
    try:
        return cache.get(key)
    except Exception:
        _cache_failed("read")
        return None


def cache_set(key: str, value: Any, seconds: int) -> None:
    """Keep ``value`` for ``seconds`` (dropped when the cache fails)."""
    try:
        cache.set(key, value, seconds)
    except Exception:
        _cache_failed("write")


def cache_add(key: str, value: Any, seconds: int) -> bool:
    """Keep ``value`` unless ``key`` is there already; whether it was kept."""
    try:
        return bool(cache.add(key, value, seconds))
    except Exception:
        _cache_failed("write")
        return False
