"""Django's Redis cache, failing soft, with one client object per connection pool.

A cache that cannot be reached is a miss, never an error: while Redis is down or
slow (beyond the socket timeouts in ``CACHES["default"]["OPTIONS"]``), reads return
their default, writes are dropped and deletes report nothing deleted, so every page
is worked out from the database instead. The outage is logged at WARNING at most
once a minute per process (``contentsite.outages``). ``incr``/``decr`` raise
``CacheUnavailable``, a ``ValueError`` as for a missing key: there is no count to move.
A Redis that answers but refuses to write (``REFUSALS``: full with no eviction, a
replica after a failover, failing to save to its disk...) is the same outage for what
it refuses. A Redis that does not answer (down, or hung: a timeout) is not asked again by
this process for ``REDIS_RETRY_AFTER_SECONDS``: until then every call is a miss at once,
instead of each waiting out the timeout (a page makes several), except a drop (``delete``,
``delete_many``, ``clear``), which is always tried, because what it fails to drop is served
from Redis by the other processes once it answers again. Before the process reads from it
again (or after it refused a command, unless only for being full: a full Redis refuses no
drop), it drops what changes committed meanwhile could not (``before_asking_again``); while
Redis does not take that, the process does not read from it. Every new connection drops them
too before anything is read on it (``_connected``).
Only those refusals and connection failures and timeouts are softened; any other Redis
error (a command that is wrong, a value of the wrong type) is a bug and still raises.

``count_hit`` counts hits on a key in a window, atomically across app servers on
Redis (the partner rate limit counts with it); it answers ``None`` when the cache is
down, so that the caller can count some other way. ``read_and_count`` reads some keys
in the same round trip: a partner's request costs one (its key's row, its count, and
what the view reads first), and the values read are kept for the rest of that request
(``request_scope``, ``keep_prefetched``, ``take_prefetched``), each for one read.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every
operation; building one copies its table of response callbacks, which cost more
than the round trip itself on a page served from the cache (profiled: about a
tenth of a millisecond per call, several calls per request). So one client is kept,
and it holds one connection of its own (redis-py's ``single_connection_client``)
instead of taking one from the pool and giving it back for every command: taking
and returning cost more CPU than the round trip itself (redis-py 8.1 on loopback,
interleaved: a GET 98-110 us through the pool, 61-68 us on its own connection, 34 us
as bytes on a bare socket). Django keeps one cache object per thread, so each
thread has its own client and connection; a client made before a fork is never
used after it (the process id is part of its name). Nothing else changes: same
servers, options, timeouts and retries; a connection that fails is dropped and
made again by redis-py, and the failure is softened as below.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from time import monotonic
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ReadOnlyError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .outages import log_outage

logger = logging.getLogger(__name__)

# What "Redis cannot be reached" looks like (refused, reset, DNS, timeouts, still loading).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# The error codes with which a working Redis refuses a command for a while, whatever the command: full with
# ``maxmemory-policy noeviction`` (OOM), a replica, as a primary becomes after a failover (READONLY), unable to
# save with ``stop-writes-on-bgsave-error`` (MISCONF), held by a slow script (BUSY), short of replicas
# (NOREPLICAS), its primary lost (MASTERDOWN), a cluster not serving (CLUSTERDOWN, TRYAGAIN), its ACL
# refusing the cache's user (NOPERM). https://redis.io/docs/latest/develop/reference/protocol-spec/#simple-errors
REFUSALS = frozenset(
    {"OOM", "READONLY", "MISCONF", "BUSY", "NOREPLICAS", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "NOPERM"}
)


def refusal(error: RedisError) -> str | None:
    """The code (one of ``REFUSALS``) with which ``error`` says Redis refuses for now, or None. redis-py keeps the
    code apart for the errors it knows (``status_code``); the others start with it, after the failed command
    when a pipeline's (``annotate_exception``)."""
    if not isinstance(error, ResponseError) or isinstance(error, NoScriptError):
        return None
    message = str(error)
    _, annotated, reply = message.partition(" of pipeline caused error: ")
    code = error.status_code or (reply if annotated else message).partition(" ")[0]
    return code if code in REFUSALS else None


class CacheUnavailable(ValueError):
    """``incr``/``decr`` on a cache that cannot be reached: like a missing key, nothing to count on."""


class RepliesInOrder:
    """A redis-py connection on which a command's reply may be read later (``send_ahead``), mixed into the connection
    class of whichever kind the cache's address names (TCP, TLS, a Unix socket).

    Redis answers a connection's commands in the order they were sent. So before any other command is sent on it,
    every reply still owed to a command sent ahead is read first and handed to whoever sent it, in order: no command
    ever reads another's reply, whoever uses the connection in between. A connection that closes (a failure, a
    timeout, a reconnection) hands each reply still owed the error instead; nothing is read from it again.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owed_replies: list[Callable[[Any], None]] = []

    def send_ahead(self, args: Sequence[Any], take: Callable[[Any], None]) -> None:
        """Send the command ``args`` now; its reply (or the error instead of it) goes to ``take`` when it is read:
        by ``take_replies``, or before the next command sent on this connection."""
        self.send_command(*args)
        self._owed_replies.append(take)

    def take_replies(self) -> None:
        """Read every reply owed to a command sent ahead, in order, and hand each to its taker."""
        while self._owed_replies:
            take = self._owed_replies.pop(0)
            try:
                reply = self.read_response()
            except ResponseError as error:  # an error reply (a script Redis no longer keeps): the connection is in step
                take(error)
                continue
            except Exception as error:  # redis-py closed the connection: the rest are handed the error too
                self.disconnect()
                take(error)
                return
            take(reply)

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self._owed_replies:
            self.take_replies()
        super().send_packed_command(command, check_health)  # type: ignore[misc]

    def disconnect(self, *args: Any, **kwargs: Any) -> None:
        owed, self._owed_replies = self._owed_replies, []
        super().disconnect(*args, **kwargs)  # type: ignore[misc]
        for take in owed:
            take(RedisConnectionError("The connection closed before its reply was read."))


@functools.cache
def _replies_in_order(connection_class: type) -> type:
    if issubclass(connection_class, RepliesInOrder):
        return connection_class
    return type(f"RepliesInOrder{connection_class.__name__}", (RepliesInOrder, connection_class), {})


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # This process's client (by process id), holding its own connection.
        self._clients: dict[int, Any] = {}

    def existing_client(self) -> Any:
        """This process's client if it has made one (``get_client``), else None; None with replicas."""
        return self._clients.get(os.getpid()) if len(self._servers) == 1 else None

    def _get_connection_pool(self, write: bool) -> Any:
        pool = super()._get_connection_pool(write)
        pool.connection_class = _replies_in_order(pool.connection_class)  # a read ahead (``RedisCache.read_ahead``)
        return pool

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        if len(self._servers) > 1:  # replicas: Django picks a pool per call
            return super().get_client(key, write=write)
        pid = os.getpid()
        client = self._clients.get(pid)
        if client is None:
            self._clients.clear()  # made before a fork: its connection is the parent's
            pool = self._get_connection_pool(write)
            client = self._clients[pid] = self._client(connection_pool=pool, single_connection_client=True)
        return client


# Keys dropped per command.
DROP_BATCH = 1000
# Per process, per Redis (its servers): until when (``monotonic``) it is not asked, after it did not answer.
_not_asked_until: dict[tuple[str, ...], float] = {}
# Where a process learns which keys to drop before it asks a Redis that did not answer again (``before_asking_again``).
_owed: list[Callable[..., Sequence[str] | None]] = []


def before_asking_again(owed_keys: Callable[..., Sequence[str] | None]) -> None:
    """Have ``owed_keys()`` name the keys to drop before a Redis that did not answer is asked anything again: what
    changes committed meanwhile could not drop, which it may still hold (hung, cut off) or hold again (restarted
    with what it saved). ``contentsite.invalidation`` registers it (``ContentsiteConfig.ready``). ``None``: it cannot
    say now (the database does not answer), and Redis is not read from until it can (``_owed_keys``), unless what
    was owed was dropped on it since it started (``_cleared_since_it_started``: one rule for a new connection and for
    a process asking again)."""
    if owed_keys not in _owed:
        _owed.append(owed_keys)


class OwedUnknown(RedisConnectionError):
    """What is owed cannot be learnt now (``before_asking_again``): a connection to Redis is not used, as if Redis
    did not answer, since it may hold anything that should have been dropped."""


# Under this key a Redis holds the run id it had when what was owed was last dropped on it (``RedisCache._connected``).
CLEARED_KEY = "cache:owed-cleared-on"


def _run_id(info: Any) -> str | None:
    """The ``run_id`` in the reply to ``INFO server``: a new one each time a Redis starts."""
    text = info.decode() if isinstance(info, bytes) else str(info)
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == "run_id":
            return value.strip() or None
    return None


def _owed_keys(*, taken_too: bool = True) -> list[str]:
    """Every key owed (``before_asking_again``), with or without the drops a Redis took lately (``taken_too``);
    ``OwedUnknown`` if one of them cannot say."""
    owed: list[str] = []
    for owed_keys in _owed:
        keys = owed_keys(taken_too=taken_too)
        if keys is None:
            raise OwedUnknown("the keys owed by committed changes are unknown: not read from until they are known")
        owed.extend(keys)
    return owed


def forget_failures() -> None:
    """Ask every Redis again at once (tests: the time for it has passed)."""
    _not_asked_until.clear()


def _soft(
    miss: Callable[..., Any], *, always_tried: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Answer ``miss(*args)`` instead of raising when Redis cannot answer (``RedisCache.outage``), and at once while
    it is not asked (``RedisCache.resting``), unless the operation is ``always_tried``."""

    def decorate(operation: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(operation)
        def soft(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
            if not always_tried and self.resting():
                return miss(*args, **kwargs)
            try:
                return operation(self, *args, **kwargs)
            except RedisError as error:
                if not self.outage(error):
                    raise
                return miss(*args, **kwargs)

        return soft

    return decorate


def _unavailable(*args: Any, **kwargs: Any) -> Any:
    raise CacheUnavailable("The cache is unavailable.")


def _default(key: Any, default: Any = None, **kwargs: Any) -> Any:
    return default


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._servers_key = tuple(self._servers)
        # Every connection this cache makes drops what is owed before anything is read on it (``_connected``).
        self._options = {**self._options, "redis_connect_func": self._connected}

    add = _soft(lambda *a, **k: False)(DjangoRedisCache.add)
    get = _soft(_default)(DjangoRedisCache.get)
    set = _soft(lambda *a, **k: None)(DjangoRedisCache.set)
    touch = _soft(lambda *a, **k: False)(DjangoRedisCache.touch)
    # A drop is always tried: what this process fails to drop, the others read once Redis answers again.
    delete = _soft(lambda *a, **k: False, always_tried=True)(DjangoRedisCache.delete)
    get_many = _soft(lambda *a, **k: {})(DjangoRedisCache.get_many)
    has_key = _soft(lambda *a, **k: False)(DjangoRedisCache.has_key)
    incr = _soft(_unavailable)(DjangoRedisCache.incr)
    # Django's own answer for "nothing failed"; which keys were lost is unknown, so none are named.
    set_many = _soft(lambda *a, **k: [])(DjangoRedisCache.set_many)
    delete_many = _soft(lambda *a, **k: None, always_tried=True)(DjangoRedisCache.delete_many)
    clear = _soft(lambda *a, **k: False, always_tried=True)(DjangoRedisCache.clear)

    def resting(self) -> bool:
        """Whether this process is not asking Redis now: it did not answer (or would not take what is owed) in the
        last ``REDIS_RETRY_AFTER_SECONDS``. The next call after that, or after a refusal, asks it again
        (``_asked_again``)."""
        until = _not_asked_until.get(self._servers_key)
        if until is None:
            return False
        return monotonic() < until or not self._asked_again()

    def _asked_again(self) -> bool:
        """Redis did not answer a while ago, or refused a command: drop what is owed (``before_asking_again``) before
        anything is read from it, so that nothing dropped meanwhile is read back. Whether it took that; if not, it is
        not asked for another ``REDIS_RETRY_AFTER_SECONDS``."""
        try:
            owed = _owed_keys()
        except OwedUnknown as unknown:
            # The database cannot say what is owed: a new connection's rule decides (``_connected``), not another.
            if not self._may_be_read_unknowing():
                self.outage(unknown)  # not asked for another REDIS_RETRY_AFTER_SECONDS
                return False
            owed = []
        if owed and not self.drop(owed):
            _not_asked_until[self._servers_key] = monotonic() + settings.REDIS_RETRY_AFTER_SECONDS
            return False
        _not_asked_until.pop(self._servers_key, None)
        return True

    def _connected(self, connection: Any) -> None:
        """Make ``connection`` ready (redis-py's own ``on_connect``), then drop on it what is owed
        (``before_asking_again``) before anything is read on it.

        A new connection is this process's first, or one made again after Redis restarted or a failover closed
        the old one. A process that saw nothing fail (it made no request while Redis was down, or it started
        since) would otherwise read what the changes committed meanwhile could not drop: the old pointer that a
        restarted Redis loaded from what it saved, or that a promoted replica copied. This costs one query per
        connection, not per request. A Redis that refuses the drop fails the connection, and the command that
        made it is a miss, as for any outage (``outage``); so does a database that cannot say what is owed
        (``OwedUnknown``: PostgreSQL still down when Redis comes back from a restart), until it can."""
        connection.on_connect()
        # A Redis cleared since it started took every drop since on itself and holds none of them again: only the
        # drops it did not take are owed. Dropping again what it took, for a connection of any new process (a
        # deploy, a recycled worker, a second worker's first request), emptied the cache of every page changed in
        # the last minutes, which were then 503s if the database went down (tests/test_pending_invalidations.py).
        cleared = self._cleared_since_it_started(connection)
        try:
            owed = [self.make_and_validate_key(key) for key in _owed_keys(taken_too=not cleared)]
        except OwedUnknown:
            if not cleared:
                raise  # the connection fails: not read from until the database can say
            return
        for start in range(0, len(owed), DROP_BATCH):
            connection.send_command("DEL", *owed[start : start + DROP_BATCH])
            connection.read_response()
        self._mark_cleared(connection)

    def _may_be_read_unknowing(self) -> bool:
        """Whether this Redis may be read while the database cannot say what is owed: by the rule a new connection
        follows (``_connected``, ``_cleared_since_it_started``), on a connection made for the question and closed.
        A process that saw Redis not answer a moment (a timeout under load) and one that connected since then read
        the same Redis alike; before, the first did not read it for as long as the database was down, so a cached
        page was a 503 in one worker and served in the other."""
        pool = self._cache._get_connection_pool(True)
        connection = pool.connection_class(**pool.connection_kwargs)  # its own: none of the pool's counted
        try:
            connection.connect()  # runs ``_connected``: OwedUnknown unless this Redis was cleared since it started
        except RedisError:
            return False
        finally:
            connection.disconnect()
        return True

    def _cleared_since_it_started(self, connection: Any) -> bool:
        """Whether this Redis holds nothing, or what was owed has been dropped on it since it started
        (``_mark_cleared``): its data is then no older than the drops it took, and a new connection may read it while
        the database cannot say what is owed (PostgreSQL down; the process started since, or its connection closed).
        A Redis restarted since (it loads what it saved) or another one (a replica promoted) has another run id, so
        it is not read from."""
        connection.send_command("DBSIZE")
        if connection.read_response() == 0:
            return True
        connection.send_command("INFO", "server")
        run_id = _run_id(connection.read_response())
        connection.send_command("GET", self.make_and_validate_key(CLEARED_KEY))
        cleared = connection.read_response()
        return run_id is not None and cleared is not None and bytes(cleared).decode() == run_id

    def _mark_cleared(self, connection: Any) -> None:
        """Note in this Redis that what was owed has been dropped on it, by its run id (``_cleared_since_it_started``).
        A Redis refusing writes does not take the note, and is then not read from by a new connection while the
        database cannot say what is owed."""
        connection.send_command("INFO", "server")
        run_id = _run_id(connection.read_response())
        if run_id is None:
            return
        connection.send_command("SET", self.make_and_validate_key(CLEARED_KEY), run_id)
        try:
            connection.read_response()
        except ResponseError as error:
            if refusal(error) is None:
                raise

    def outage(self, error: RedisError) -> bool:
        """Whether ``error`` means the cache cannot answer for now (unreachable, or a ``refusal``), not that a command
        is wrong; if so, say so (rate-limited). Unreachable, it is not asked again for ``REDIS_RETRY_AFTER_SECONDS``;
        refusing, it is asked again at once, after what is owed is dropped (``_asked_again``), unless it is only
        full (``OOM``): that refuses no drop.
        After a READONLY the connection is dropped, so that the next command connects again: after a failover, a
        server's name leads to the new primary, while a connection made before stays with the old one."""
        code = refusal(error)
        if isinstance(error, UNREACHABLE):
            _not_asked_until[self._servers_key] = monotonic() + settings.REDIS_RETRY_AFTER_SECONDS
        elif code is None:
            return False
        elif code != "OOM":  # it may have refused a drop: what is owed is dropped before it is read from again
            _not_asked_until.setdefault(self._servers_key, monotonic())
        # Full (OOM), it refuses only what would take memory, never a drop (DEL frees it): nothing is owed for it, and
        # asking the database what is owed before every next call cost each request 5 queries while Redis was full.
        detail = f"{code} {error}" if code and code not in str(error) else str(error)
        log_outage(
            logger, "cache", "Redis cache unavailable (%s): what it cannot do is a miss until it answers again.", detail
        )
        if isinstance(error, ReadOnlyError):
            client = self._cache.get_client(None, write=True)
            if client.connection is not None:
                client.connection.disconnect()
        return True

    def drop(self, keys: Sequence[str]) -> bool:
        """Drop ``keys``, always trying (as ``delete_many``), 1,000 a command; whether Redis took it. A Redis that
        cannot answer or refuses (``outage``) is False; any other error raises."""
        try:
            for start in range(0, len(keys), DROP_BATCH):
                DjangoRedisCache.delete_many(self, keys[start : start + DROP_BATCH])
        except RedisError as error:
            if not self.outage(error):
                raise
            return False
        return True

    def read_ahead(self, keys: Sequence[str]) -> ReadAhead | None:
        """Ask Redis for the values of ``keys`` now, without waiting for its reply; the ``ReadAhead`` reads it when
        asked. None when it was not asked: it is not asked now (``resting``), it could not be (an outage), this process
        has no connection to it yet, or the cache has replicas (a connection per command: nothing is left to read
        later)."""
        redis_keys = [self.make_and_validate_key(key) for key in keys]
        return self._send_ahead(("MGET", *redis_keys), lambda connection: ReadAhead(self, list(keys), connection))

    def read_and_count_ahead(self, keys: Sequence[str], counters: Sequence[tuple[str, int]]) -> CountAhead | None:
        """Ask Redis now what ``read_and_count(keys, counters)`` asks, without waiting for its reply: the
        ``CountAhead`` is that call's answer when the same call is made (``take_count_ahead``). None when it was not
        asked, as for ``read_ahead``."""
        redis_keys, arguments = self._script_arguments(keys, counters)
        command = ("EVALSHA", _READ_AND_COUNT.sha, len(redis_keys), *redis_keys, *arguments)
        return self._send_ahead(command, lambda connection: CountAhead(self, list(keys), list(counters), connection))

    def _send_ahead(self, command: tuple[Any, ...], ahead: Callable[[RepliesInOrder], ReadAhead]) -> Any:
        """Send ``command`` on this process's connection, its reply left for the ``ahead`` made for it to read; None
        when it was not sent (``read_ahead``)."""
        if self.resting():
            return None
        # Only on a connection made already: a new one first drops what is owed, which asks the database
        # (``_connected``), and a request reads ahead before Django has closed the database connections that are
        # broken or too old (``request_started``). Made by the request's own first read instead, as before.
        client = self._cache.existing_client()
        connection = client.connection if client is not None else None
        if not isinstance(connection, RepliesInOrder) or not connection.is_connected:
            return None
        made = ahead(connection)
        try:
            with client.single_connection_lock:
                connection.send_ahead(command, made.take)
        except RedisError as error:
            if not self.outage(error):
                raise
            return None
        return made

    def validate_key(self, key: str) -> None:
        """Nothing to check: Redis takes any key. Django's default is memcached's rules (250 characters, no spaces or
        control characters), which only warn, in a loop over every character of every key on every operation;
        Django's documentation says to override this for a backend with other rules ("Cache key warnings")."""

    def count_hit(self, key: str, seconds: int) -> tuple[int, float] | None:
        """One more hit on ``key``: (hits so far in its window, seconds left), or ``None`` if Redis is down.

        The window starts at the key's first hit and lasts ``seconds``. One round trip,
        atomic (``_READ_AND_COUNT``): create the counter with its expiry if absent,
        increment it, read the time left, so the count is exact however many servers
        count at once.
        """
        answered = self.read_and_count((), [(key, seconds)])
        return None if answered is None else answered[1][0]

    def read_and_count(
        self, keys: Sequence[str], counters: Sequence[tuple[str, int]]
    ) -> tuple[dict[str, Any], list[tuple[int, float]]] | None:
        """The values of ``keys`` that are set, and one more hit on each of ``counters`` (name, window in seconds)
        as ``count_hit`` counts it: one command (``_READ_AND_COUNT``, atomic like MULTI/EXEC, with one reply to
        parse instead of one per step). ``None`` if Redis is down (or not asked now: ``resting``).

        Asked already in this request (``read_and_count_ahead``, the same keys and counters), that reply is the
        answer: no command is sent, unless Redis refused the one sent ahead as a script it no longer keeps
        (NOSCRIPT, which ran nothing)."""
        ahead = take_count_ahead(self, keys, counters)
        if ahead is not None:
            try:
                return self._counted(keys, ahead.reply())
            except NoScriptError:
                pass
            except RedisError as error:
                if not self.outage(error):
                    raise
                return None
        if self.resting():
            return None
        redis_keys, arguments = self._script_arguments(keys, counters)
        try:
            results = self._run_script(_READ_AND_COUNT, redis_keys, arguments)
        except RedisError as error:
            if not self.outage(error):
                raise
            return None
        return self._counted(keys, results)

    def _script_arguments(
        self, keys: Sequence[str], counters: Sequence[tuple[str, int]]
    ) -> tuple[list[str], tuple[int, ...]]:
        """``_READ_AND_COUNT``'s keys and arguments for reading ``keys`` and counting ``counters``."""
        redis_keys = [self.make_and_validate_key(key) for key in keys]
        redis_keys += [self.make_and_validate_key(name) for name, _ in counters]
        return redis_keys, (len(keys), *(seconds for _, seconds in counters))

    def _counted(self, keys: Sequence[str], results: Sequence[Any]) -> tuple[dict[str, Any], list[tuple[int, float]]]:
        """``_READ_AND_COUNT``'s reply as ``read_and_count`` answers it."""
        counts = results[len(keys) :]
        counted = [(int(counts[i]), int(counts[i + 1]) / 1000) for i in range(0, len(counts), 2)]
        loads = self._cache._serializer.loads
        values = {key: _decoded(raw, loads) for key, raw in zip(keys, results, strict=False) if raw is not None}
        return values, counted

    def take_back(self, counters: Sequence[str]) -> None:
        """One hit less on each of ``counters`` (names) that is still counting (``_TAKE_BACK``): one round trip. A
        Redis that cannot answer has nothing to take back from."""
        if not counters or self.resting():
            return
        try:
            self._run_script(_TAKE_BACK, [self.make_and_validate_key(name) for name in counters], ())
        except RedisError as error:
            if not self.outage(error):
                raise

    def _run_script(self, script: Script, keys: Sequence[str], args: Sequence[int]) -> Any:
        """``script``'s reply to ``keys`` and ``args``: EVALSHA written on this process's own connection and the
        reply read back, as redis-py's client does (its lock, its retries, a broken connection dropped and made
        again), without its command layer (redis-py 8.1 on loopback, one process, interleaved: 94 us of CPU per
        round trip through ``Script`` and ``execute_command``, 83 us written on the connection). A Redis that lost
        its scripts (restarted) is sent the script itself once (EVAL), which it keeps."""
        client = self._cache.get_client(None, write=True)
        connection = client.connection
        if connection is None:  # replicas: a pool per call, through the client as before
            return script.run(client.execute_command, keys, args)

        def command(*parts: Any) -> Any:
            connection.send_command(*parts)
            return connection.read_response()

        with client.single_connection_lock:
            reply = connection.retry.call_with_retry(
                lambda: script.run(command, keys, args), lambda error: connection.disconnect()
            )
            if connection.should_reconnect():  # as the client does: a server's maintenance notice
                connection.disconnect()
            return reply


class ReadAhead:
    """The values of some keys, asked of Redis ahead of their first read (``RedisCache.read_ahead``)."""

    def __init__(self, cache: RedisCache, keys: list[str], connection: RepliesInOrder) -> None:
        self._cache = cache
        self._keys = keys
        self._connection: RepliesInOrder | None = connection
        self._reply: Any = None
        self._values: dict[str, Any] | None = None

    def take(self, reply: Any) -> None:
        """Redis's reply, or the error instead of it (``RepliesInOrder``)."""
        self._connection = None
        self._reply = reply

    def reply(self) -> Any:
        """Redis's reply (or the error instead of it), read first if it has not been."""
        connection = self._connection
        if connection is not None:
            client = self._cache._cache.get_client(None, write=True)
            with client.single_connection_lock:
                connection.take_replies()
        return self._reply

    def settle(self) -> None:
        """Done with at the end of its request: its reply is read, so that it is never left owed on the connection."""
        self.values()

    def values(self) -> dict[str, Any]:
        """The values of the keys that are set, the reply read first if it has not been. A Redis that failed meanwhile
        is a miss, as for any read (``RedisCache.outage``); any other error raises, once."""
        if self._values is not None:
            return self._values
        reply, self._values = self.reply(), {}
        if isinstance(reply, BaseException):
            if not isinstance(reply, RedisError) or not self._cache.outage(reply):
                raise reply
            return self._values
        loads = self._cache._cache._serializer.loads
        self._values = {
            key: _decoded(raw, loads) for key, raw in zip(self._keys, reply or (), strict=False) if raw is not None
        }
        return self._values


class CountAhead(ReadAhead):
    """A ``read_and_count`` asked of Redis ahead of the call that makes it (``RedisCache.read_and_count_ahead``): that
    call's answer, if the same call is made in the request (``take_count_ahead``). What it counted for a call never
    made is taken back at the end of the request (``settle``), so that a request refused before it (a host the site
    does not serve, say) uses none of anyone's counts."""

    def __init__(
        self, cache: RedisCache, keys: list[str], counters: list[tuple[str, int]], connection: RepliesInOrder
    ) -> None:
        super().__init__(cache, keys, connection)
        self.counters = counters
        self._used = False

    def asks(self, cache: RedisCache, keys: Sequence[str], counters: Sequence[tuple[str, int]]) -> bool:
        """Whether this is what ``cache.read_and_count(keys, counters)`` asks."""
        return cache is self._cache and list(keys) == self._keys and list(counters) == self.counters

    def reply(self) -> Any:
        """The script's reply, for the call it answers; the error instead of it is raised."""
        self._used = True
        reply = super().reply()
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def settle(self) -> None:
        if self._used:
            return
        self._used = True
        reply = ReadAhead.reply(self)
        if isinstance(reply, list):  # the script ran, and counted for nobody
            self._cache.take_back([name for name, _ in self.counters])
        elif isinstance(reply, RedisError):  # it ran nothing; a Redis that failed meanwhile is noted as for any read
            self._cache.outage(reply)


# Values of these types, once unpickled from some bytes, are the value of those bytes for the rest of the process
# (``decoded_once``): by the bytes read ahead (``read_and_count``, ``read_ahead``), at most this many (then all are
# forgotten at once, and kept again as they are read: a live identity is a few hundred bytes).
DECODED_MEMO_ENTRIES = 4096
_decoded_once_types: set[type] = set()
_decoded_memo: dict[bytes, Any] = {}


def decoded_once(cls: type) -> type:
    """Mark ``cls`` as a value nothing ever changes (a frozen dataclass of immutable fields; or a model instance that
    nothing changes once read from the cache, ``partners.admission``): read ahead from the cache (``read_and_count``,
    ``read_ahead``), the same bytes are unpickled once per process and that value is shared. A partner's request
    reads the same live identity on every call, and unpickling it each time was a twentieth of a decided
    evaluation's instructions in the process (callgrind: 2.13 M -> 2.00 M per evaluation); a reader's 304 reads it
    too."""
    _decoded_once_types.add(cls)
    return cls


def _decoded(raw: Any, loads: Callable[[Any], Any]) -> Any:
    """``loads(raw)``, or the value these same bytes were unpickled to before if its type is ``decoded_once``."""
    value = _decoded_memo.get(raw) if isinstance(raw, bytes) else None
    if value is None:
        value = loads(raw)
        if type(value) in _decoded_once_types:
            if len(_decoded_memo) >= DECODED_MEMO_ENTRIES:
                _decoded_memo.clear()
            _decoded_memo[raw] = value
    return value


@dataclass(frozen=True)
class Script:
    """A Lua script this cache runs, with its SHA1 (how Redis names a script it keeps)."""

    source: str

    @functools.cached_property
    def sha(self) -> str:
        return hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()

    def run(self, command: Callable[..., Any], keys: Sequence[str], args: Sequence[int]) -> Any:
        """This script's reply through ``command``: by its SHA, else (a Redis that lost its scripts) by its source,
        which Redis then keeps."""
        try:
            return command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return command("EVAL", self.source, len(keys), *keys, *args)


# KEYS: the keys to read, then the counters. ARGV: how many keys to read, then each counter's window in seconds.
# Replies with the values read (nil where unset), then each counter's count and milliseconds left. A counter is
# created with its expiry if absent; one left without an expiry (written by something else) would never reset, so
# it is given one. A script runs atomically, as MULTI/EXEC did.
_READ_AND_COUNT = Script("""
local reads = tonumber(ARGV[1])
local reply = {}
for i = 1, reads do
  reply[i] = redis.call('GET', KEYS[i])
end
for i = reads + 1, #KEYS do
  local counter, seconds = KEYS[i], tonumber(ARGV[i - reads + 1])
  redis.call('SET', counter, 0, 'EX', seconds, 'NX')
  local count = redis.call('INCR', counter)
  local left = redis.call('PTTL', counter)
  if left < 0 then
    redis.call('EXPIRE', counter, seconds)
    left = seconds * 1000
  end
  reply[2 * i - reads - 1] = count
  reply[2 * i - reads] = left
end
return reply
""")


# KEYS: counters counted for a request that never used the count (``CountAhead``): each still counting counts one less,
# and one left at none is dropped, so that a window the hit opened is not left running (the next hit opens its own). A
# window that ended while the request ran and was opened again by another is one hit short: the same as the hit being
# counted in the window before.
_TAKE_BACK = Script("""
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 and redis.call('DECR', KEYS[i]) <= 0 then
    redis.call('DEL', KEYS[i])
  end
end
return #KEYS
""")


def count_hit(key: str, seconds: int, *, using: str = "default") -> tuple[int, float] | None:
    """One more hit on ``key`` in a window of ``seconds`` from its first: (hits, seconds left), or ``None``.

    Exact across servers on Redis (``RedisCache.count_hit``). On another backend (the
    local-memory cache of a developer's machine, which is one process anyway) through
    ``add``/``incr``, with the window's end kept beside the count. ``None`` means the
    cache could not count: the caller decides what to do instead.
    """
    backend: BaseCache = caches[using]
    if isinstance(backend, RedisCache):
        return backend.count_hit(key, seconds)
    now = time.time()
    try:
        backend.add(f"{key}:ends", now + seconds, seconds)
        backend.add(key, 0, seconds)
        try:
            count = backend.incr(key)
        except ValueError:  # expired between the add and the incr: a new window
            backend.set(f"{key}:ends", now + seconds, seconds)
            backend.set(key, 1, seconds)
            count = 1
        ends = backend.get(f"{key}:ends", now + seconds)
    except Exception:
        log_outage(logger, "cache", "Cache failed to count a hit: treated as unavailable.", exc_info=True)
        return None
    return count, max(0.0, ends - now)


def drop(keys: Sequence[str], *, using: str = "default") -> bool:
    """Drop ``keys`` from the cache; whether it took the drop (``False``: it failed, the keys may still be there).

    ``delete_many`` cannot tell: on Redis a failure is softened into nothing dropped. A
    drop that must not be lost goes through ``contentsite.invalidation``, which keeps it
    until this answers ``True``.
    """
    if not keys:
        return True
    forget_prefetched(keys)
    backend: BaseCache = caches[using]
    try:
        if isinstance(backend, RedisCache):
            return backend.drop(keys)
        backend.delete_many(list(keys))
    except Exception:
        log_outage(logger, "cache", "Cache failed to drop keys.", exc_info=True)
        return False
    return True


def read_and_count(
    keys: Sequence[str], counters: Sequence[tuple[str, int]], *, using: str = "default"
) -> tuple[dict[str, Any], list[tuple[int, float] | None], bool]:
    """The values of ``keys`` that are set, one more hit on each of ``counters`` (name, window in seconds) as
    ``count_hit`` counts it, and whether the cache answered.

    One round trip on Redis (``RedisCache.read_and_count``), which counts every counter or, when it is
    down, none. When the cache is down: no values, no counts (``None`` each), and ``False``, so that the
    caller counts some other way without waiting on the cache a second time.
    """
    backend: BaseCache = caches[using]
    if isinstance(backend, RedisCache):
        answered = backend.read_and_count(keys, counters)
        return ({}, [None] * len(counters), False) if answered is None else (*answered, True)
    try:
        values = backend.get_many(list(keys)) if keys else {}
    except Exception:
        log_outage(logger, "cache", "Cache failed to read: treated as a miss.", exc_info=True)
        return {}, [None] * len(counters), False
    counted = [count_hit(name, seconds, using=using) for name, seconds in counters]
    return values, counted, all(count is not None for count in counted)


# --- Values read ahead for the rest of one request ------------------------------------------------

_prefetched: ContextVar[dict[Any, Any] | None] = ContextVar("contentsite_cache_prefetched", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """Values read ahead (``keep_prefetched``, ``read_ahead``) live until the end of the request this wraps, and no
    longer; a reply asked ahead and not read by then is read then. Inside another (the app server's handler opens one
    before Django's middleware does), the outer one is the request's."""
    if _prefetched.get() is not None:
        yield
        return
    scope: dict[Any, Any] = {}
    token = _prefetched.set(scope)
    try:
        yield
    finally:
        _prefetched.reset(token)
        for value in scope.values():
            if isinstance(value, ReadAhead):
                try:
                    value.settle()  # its reply is never left owed on the connection for the next request
                except Exception:
                    log_outage(logger, "cache", "Cache failed to read: treated as a miss.", exc_info=True)


def keep_prefetched(values: dict[str, Any]) -> None:
    """Keep ``values``, read from the cache just now, for this request's next read of each key (outside a
    request: nothing is kept)."""
    scope = _prefetched.get()
    if scope is not None:
        scope.update(values)


def read_ahead(keys: Sequence[str], *, using: str = "default") -> None:
    """Ask the cache for ``keys`` now, without waiting: this request's first read of each (``take_prefetched``)
    takes the reply, by then usually arrived, so the process does not sleep waiting for it while it has other work to
    do (``contentsite.early.read_ahead``). On Redis only (elsewhere nothing is asked ahead); outside a request, or
    for a key read ahead already, nothing is asked."""
    scope = _prefetched.get()
    if scope is None:
        return
    keys = [key for key in keys if key not in scope]
    backend: BaseCache = caches[using]
    if not keys or not isinstance(backend, RedisCache):
        return
    ahead = backend.read_ahead(keys)
    if ahead is not None:
        scope.update(dict.fromkeys(keys, ahead))


# Where a request's scope keeps its ``read_and_count`` asked ahead (never a cache key: those are strings).
_COUNT_AHEAD = ("read-and-count-ahead",)


def read_and_count_ahead(keys: Sequence[str], counters: Sequence[tuple[str, int]], *, using: str = "default") -> None:
    """Ask the cache now what this request's ``read_and_count(keys, counters)`` will ask, without waiting: that call
    takes the reply (``RedisCache.read_and_count``), as ``read_ahead`` does for reads (a partner's admission,
    ``partners.admission.admit_ahead``). Once per request, on Redis only; outside a request nothing is asked. What it
    counts for a call never made is taken back by the end of the request (``CountAhead``)."""
    scope = _prefetched.get()
    backend: BaseCache = caches[using]
    if scope is None or _COUNT_AHEAD in scope or not isinstance(backend, RedisCache):
        return
    ahead = backend.read_and_count_ahead(keys, counters)
    if ahead is not None:
        scope[_COUNT_AHEAD] = ahead


def take_count_ahead(cache: RedisCache, keys: Sequence[str], counters: Sequence[tuple[str, int]]) -> CountAhead | None:
    """This request's ``read_and_count`` asked ahead, if it asks exactly this of ``cache`` (then it is taken: once)."""
    scope = _prefetched.get()
    ahead = scope.get(_COUNT_AHEAD) if scope else None
    if isinstance(ahead, CountAhead) and ahead.asks(cache, keys, counters):
        del scope[_COUNT_AHEAD]  # type: ignore[index]
        return ahead
    return None


def forget_prefetched(keys: Sequence[str]) -> None:
    """Forget what this request read or kept of ``keys``: they are being changed (``drop``), so its next read of
    each asks the cache (a reply asked ahead and not read yet is read now, never left owed on the connection)."""
    scope = _prefetched.get()
    if not scope:
        return
    for key in keys:
        value = scope.pop(key, None)
        if isinstance(value, ReadAhead):
            try:
                value.settle()
            except Exception:
                log_outage(logger, "cache", "Cache failed to read: treated as a miss.", exc_info=True)


def take_prefetched(key: str) -> Any:
    """The value of ``key`` read ahead in this request, once; ``None`` if none was (read the cache)."""
    scope = _prefetched.get()
    if not scope:
        return None
    value = scope.pop(key, None)
    if isinstance(value, ReadAhead):
        return value.values().get(key)
    return value
