"""Django's Redis cache, failing soft, with one client object per connection pool.

A cache that cannot be reached is a miss, never an error: while Redis is down or
slow (beyond the socket timeouts in ``CACHES["default"]["OPTIONS"]``), reads return
their default, writes are dropped and deletes report nothing deleted, so every page
is worked out from the database instead. The outage is logged at WARNING at most
once a minute per process (``contentsite.outages``). ``incr``/``decr`` raise
``CacheUnavailable``, a ``ValueError`` as for a missing key: there is no count to move.
Only connection failures and timeouts are softened; any other Redis error is a bug
and still raises.

``count_hit`` counts hits on a key in a window, atomically across app servers on
Redis (the partner rate limit counts with it); it answers ``None`` when the cache is
down, so that the caller can count some other way.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every
operation; building one copies its table of response callbacks, which cost more
than the round trip itself on a page served from the cache (profiled: about a
tenth of a millisecond per call, several calls per request). A ``redis.Redis`` is
safe to share between threads (each command takes a connection from the pool),
so one per pool is kept. Nothing else changes: same pools, servers and options.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .outages import log_outage

logger = logging.getLogger(__name__)

# What "Redis cannot be reached" looks like (refused, reset, DNS, timeouts, still loading).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class CacheUnavailable(ValueError):
    """``incr``/``decr`` on a cache that cannot be reached: like a missing key, nothing to count on."""


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        if len(self._servers) > 1:  # replicas: Django picks a pool per call
            return super().get_client(key, write=write)
        index = 0
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


def _soft(miss: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Answer ``miss(*args)`` instead of raising when Redis cannot be reached, and say so (rate-limited)."""

    def decorate(operation: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(operation)
        def soft(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
            try:
                return operation(self, *args, **kwargs)
            except UNREACHABLE as error:
                log_outage(
                    logger, "cache", "Redis cache unavailable (%s): every call is a miss until it answers again.", error
                )
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

    add = _soft(lambda *a, **k: False)(DjangoRedisCache.add)
    get = _soft(_default)(DjangoRedisCache.get)
    set = _soft(lambda *a, **k: None)(DjangoRedisCache.set)
    touch = _soft(lambda *a, **k: False)(DjangoRedisCache.touch)
    delete = _soft(lambda *a, **k: False)(DjangoRedisCache.delete)
    get_many = _soft(lambda *a, **k: {})(DjangoRedisCache.get_many)
    has_key = _soft(lambda *a, **k: False)(DjangoRedisCache.has_key)
    incr = _soft(_unavailable)(DjangoRedisCache.incr)
    # Django's own answer for "nothing failed"; which keys were lost is unknown, so none are named.
    set_many = _soft(lambda *a, **k: [])(DjangoRedisCache.set_many)
    delete_many = _soft(lambda *a, **k: None)(DjangoRedisCache.delete_many)
    clear = _soft(lambda *a, **k: False)(DjangoRedisCache.clear)

    def count_hit(self, key: str, seconds: int) -> tuple[int, float] | None:
        """One more hit on ``key``: (hits so far in its window, seconds left), or ``None`` if Redis is down.

        The window starts at the key's first hit and lasts ``seconds``. One MULTI/EXEC
        round trip: create the counter with its expiry if absent, increment it, read
        the time left, so the count is exact however many servers count at once.
        """
        redis_key = self.make_and_validate_key(key)
        try:
            pipeline = self._cache.get_client(redis_key, write=True).pipeline(transaction=True)
            pipeline.set(redis_key, 0, ex=seconds, nx=True)
            pipeline.incr(redis_key)
            pipeline.pttl(redis_key)
            _, count, left_ms = pipeline.execute()
            if left_ms < 0:  # a counter without an expiry (written by something else) would never reset
                self._cache.get_client(redis_key, write=True).expire(redis_key, seconds)
                left_ms = seconds * 1000
        except UNREACHABLE as error:
            log_outage(
                logger, "cache", "Redis cache unavailable (%s): every call is a miss until it answers again.", error
            )
            return None
        return int(count), left_ms / 1000


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
