"""What a committed change makes out of date is dropped from the shared cache and purged from the proxy, never lost.

A change that readers or partners must see on their next request (a publication, a
withdrawal, a review, a key revoked) drops what the shared cache holds for it and
purges the proxy once it commits. The cache can fail to take that drop: Redis
restarting, refusing writes after a failover, cut off. It then answers again holding
the old values (a restarted Redis loads what it saved; a promoted replica holds what
it copied), and every app server would read them until they expire. The process can
also die between the commit and the drop.

So ``invalidate_on_commit`` writes what to drop and purge into the change's own
transaction (``PendingInvalidation``): it exists exactly when the change does. On
commit it is sent, with a few quick retries, and deleted once the cache and every
proxy took it. What is left is sent again by the next change's commit and by
``manage.py retry_invalidations`` (cron, every minute, on every app server: sending
twice is harmless), and logged at ERROR until then. And a process that saw Redis fail
or refuse drops those keys (``owed_cache_keys``) before it reads from Redis again, as does
every new connection to Redis (``contentsite.cache.RedisCache._connected``: a process that
saw nothing fail, because it made no request meanwhile or started since, connects anew
after a restart or a failover closed its connection), so that the first read after a
restart or a failover is already the new state in every process. A drop the cache took is
remembered for as long as what it dropped can live in the cache (``TakenInvalidation``,
``remembered_seconds``), and dropped again likewise: a Redis that took it can come back
with older data (a failover to a replica that had not copied it yet, a restart from a save
made before it), and would otherwise serve the superseded revision or accept a revoked key
until it expired.

What no other process can learn of is a drop that Redis did not take while their
connections to it stayed open: Redis hung (and then answered again) or cut off from the
writer only, for a process that made no request meanwhile; Redis turned read-only by hand
(a failover's Sentinel closes the connections); or a process that died between its
commit and its drop. There the old values are read until the next change's commit or
the retry (every minute) takes the drop, or they expire. A change that must not be reported
done while that lasts (a key revoked) asks its commit to keep trying (``keep_trying_seconds``):
until the cache takes the drop, or for as long as what it drops is kept in the cache, after
which nothing cached before the commit is left (Redis expires a value by its own clock, which
runs on while it hangs, and a save or a replica keeps the time it expires at).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import time
from collections.abc import Iterable
from time import monotonic

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from . import proxy
from .cache import drop
from .models import MAX_KEYS_PER_ROW, PendingInvalidation, TakenInvalidation
from .outages import log_outage

logger = logging.getLogger(__name__)

# The cache is asked this many times on commit before the drop is left for a retry; the proxy has its own.
ATTEMPTS = 3
BACKOFF_SECONDS = 0.2
# The longest pause between two tries of a drop a commit keeps trying (``keep_trying_seconds``).
LONGEST_BACKOFF_SECONDS = 1.0
# How many earlier changes' invalidations a change's commit sends again after its own (the rest: the command).
RETRIED_ON_COMMIT = 20
# Beyond the longest a value dropped here lives in the cache: the app servers' clocks and Redis's may differ.
CLOCK_MARGIN_SECONDS = 60


def remembered_seconds() -> int:
    """How long the drops the cache took are remembered (``TakenInvalidation``): the longest a value dropped here
    is kept in the cache, so that a Redis back with older data may hold it that long after the drop. That is a live
    pointer (``LIVE_POINTER_SECONDS``; a partner key's row, ``partners.models.KEY_CACHE_SECONDS``, lives less),
    and a margin for the clocks."""
    return settings.LIVE_POINTER_SECONDS + CLOCK_MARGIN_SECONDS


def invalidate_on_commit(
    cache_keys: Iterable[str], proxy_keys: Iterable[str] = (), *, keep_trying_seconds: float = 0
) -> None:
    """Drop ``cache_keys`` from the cache now, and drop them and purge ``proxy_keys`` once this transaction commits,
    until the cache and proxy take them. Call it inside the transaction that makes the change.

    On commit the cache is asked ``ATTEMPTS`` times, or, with ``keep_trying_seconds``, until it takes the drop or that
    long has passed since the commit, before the commit returns: a change that must not be reported done while
    another process may still read what it drops (a revoked key) passes how long the cache keeps those values, so
    that once it returns none cached before the commit is left (the module's docstring)."""
    cache_keys = list(dict.fromkeys(cache_keys))
    proxy_keys = list(dict.fromkeys(proxy_keys))
    if not cache_keys and not proxy_keys:
        return
    drop(cache_keys)  # now as well, so that later reads in this transaction work out the new state
    rows = PendingInvalidation.objects.bulk_create(
        PendingInvalidation(
            cache_keys=cache_keys[start : start + MAX_KEYS_PER_ROW],
            proxy_keys=proxy_keys[start : start + MAX_KEYS_PER_ROW],
        )
        for start in range(0, max(len(cache_keys), len(proxy_keys)), MAX_KEYS_PER_ROW)
    )
    if keep_trying_seconds:
        transaction.on_commit(lambda: _settle(rows, until=monotonic() + keep_trying_seconds))  # never raises
    else:
        transaction.on_commit(lambda: _settle(rows))  # never raises


def retry_pending() -> tuple[int, int]:
    """Send again what earlier changes' commits could not, oldest first: (how many were taken, how many are left).

    Stops at the first one not taken (the cache or a proxy still fails: the rest would fail too, each
    after its timeout). Safe to run on several servers at once.
    """
    taken = _retry(None)
    return taken, PendingInvalidation.objects.count()


def owed_cache_keys(*, taken_too: bool = True) -> list[str] | None:
    """The cache keys that committed changes could not drop yet, and (``taken_too``) those the cache took in the last
    ``remembered_seconds()`` (``contentsite.cache.before_asking_again``): a Redis back with older data (a replica
    that had not copied the drop, promoted by a failover; a restart from a save made before it) holds those again.
    A Redis that took them and has not restarted since does not (``contentsite.cache.RedisCache._connected``).

    A read, in one query: the rows stay for the retry, which purges the proxy too. ``None`` if the database cannot
    say: then Redis is not read from (``contentsite.cache``), since it may hold any of them.
    """
    inside = transaction.get_connection().in_atomic_block
    owed: dict[str, None] = {}
    since = timezone.now() - datetime.timedelta(seconds=remembered_seconds())
    pending = PendingInvalidation.objects.values_list("cache_keys", flat=True)
    taken = TakenInvalidation.objects.filter(taken_at__gte=since).values_list("cache_keys", flat=True)
    try:
        # Inside a transaction, a savepoint: a failure here leaves the transaction usable.
        with transaction.atomic() if inside else contextlib.nullcontext():
            for keys in pending.union(taken, all=True) if taken_too else pending:
                owed.update(dict.fromkeys(keys))
    except (OperationalError, InterfaceError) as error:  # the database unreachable, restarting or too slow
        # Asked by every request that connects to Redis while it lasts: logged as the other outages are, once a
        # minute in one line, not a traceback per request.
        log_outage(logger, "database", "Could not read the cache keys owed by committed changes (%s).", error)
        return None
    except Exception:
        logger.warning("Could not read the cache keys owed by committed changes.", exc_info=True)
        return None
    return list(owed)


def _settle(rows: list[PendingInvalidation], *, until: float | None = None) -> None:
    """On commit: send each row (trying the cache again until ``until``, a ``monotonic`` time, if given), forget those
    taken, log those left; then, if all went, send earlier ones left."""
    try:
        left = [row for row in rows if not _send(row, attempts=ATTEMPTS, until=until)]
        _forget([row for row in rows if row not in left])
        for row in left:
            logger.error(
                "Cache drop or proxy purge of a committed change failed, left for a retry "
                "(manage.py retry_invalidations): pending invalidation %s, cache keys %.300s, proxy keys %.300s",
                row.pk,
                " ".join(row.cache_keys),
                " ".join(row.proxy_keys),
                extra={"event": "invalidation", "result": "left", "pending_invalidation": row.pk},
            )
        if not left:
            _retry(RETRIED_ON_COMMIT)
    except Exception:  # the change has committed: never raise, the rows stay for the retry
        logger.exception("Invalidation after a commit failed unexpectedly; left for a retry.")


def _retry(limit: int | None) -> int:
    """Send the oldest ``limit`` rows (all: None) until one is not taken; how many were."""
    taken: list[PendingInvalidation] = []
    for row in PendingInvalidation.objects.order_by("pk")[:limit]:
        if not _send(row, attempts=1):
            break
        taken.append(row)
        waited = (timezone.now() - row.created_at).total_seconds()
        logger.info(
            "Pending invalidation %s taken on a retry, %.0f s after its change.",
            row.pk,
            waited,
            extra={"event": "invalidation", "result": "retried", "pending_invalidation": row.pk, "waited_s": waited},
        )
    _forget(taken)  # once: sent twice, if this process dies first, is harmless
    return len(taken)


def _send(row: PendingInvalidation, *, attempts: int, until: float | None = None) -> bool:
    """Drop the row's cache keys (``attempts`` times at most, or until ``until``, a ``monotonic`` time, if later),
    then purge its proxy keys (after: a proxy fetching again must not get the old page from the cache); whether both
    were taken."""
    dropped = drop(row.cache_keys)
    attempt = 1
    while not dropped and (attempt < attempts or (until is not None and monotonic() < until)):
        pause = min(BACKOFF_SECONDS * attempt, LONGEST_BACKOFF_SECONDS)
        time.sleep(pause if until is None else max(0.0, min(pause, until - monotonic())))
        dropped = drop(row.cache_keys)
        attempt += 1
    purged = proxy.purge(row.proxy_keys) if row.proxy_keys else True
    return dropped and purged


def _forget(rows: list[PendingInvalidation]) -> None:
    """The cache and the proxy took ``rows``: they are no longer pending, and their cache keys are remembered
    (``TakenInvalidation``) for ``remembered_seconds()``; what was remembered longer is forgotten."""
    if not rows:
        return
    now = timezone.now()
    with transaction.atomic():
        TakenInvalidation.objects.bulk_create(
            TakenInvalidation(cache_keys=row.cache_keys, taken_at=now) for row in rows if row.cache_keys
        )
        PendingInvalidation.objects.filter(pk__in=[row.pk for row in rows]).delete()
        TakenInvalidation.objects.filter(taken_at__lt=now - datetime.timedelta(seconds=remembered_seconds())).delete()
