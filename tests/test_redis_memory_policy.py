"""A Redis that is full: it costs no query per cache call, and the deploy check refuses an eviction policy that
defeats the rate limits.

Found from outside (gunicorn, three workers, Redis filled, then its ``maxmemory`` set below what it held, with
``noeviction``; readers and partners for 30 s): the two tables of owed drops were scanned 11.5 times per request
(2,481 scans for 216 requests; none under ``volatile-lru``). Each write a full Redis refused marked it as refusing,
and the next cache call asked the database what was owed to drop before reading it again, though a full Redis
refuses no drop (DEL frees memory). Now an ``OOM`` is a miss for what it refused and nothing more.

Found from outside (gunicorn, three workers, a Redis of its own with ``maxmemory 2mb``, readers, partners and
writers at once for a minute per policy): one partner sending about one request a second on a limit of
40/minute got 40 answers in the minute under ``volatile-lru``, ``allkeys-lru``, ``volatile-lfu`` and
``allkeys-lfu``, but 59 of 59 under ``volatile-ttl`` (its counter, which lives a minute at most, is the key
nearest its expiry, evicted first: never throttled), 65 under ``allkeys-random`` (its counter evicted
mid-window) and 57 of 57 under ``noeviction`` (every write refused: each process counts for itself). The
deployment doc named no policy, and Redis's default is ``noeviction``. ``manage.py check --deploy`` now reads
the policy (``INFO memory``, else ``CONFIG GET``) and refuses those (``contentsite.E106``), warns on the
``allkeys-`` ones, which may evict the few keys the app keeps without an expiry (``contentsite.W107``), and
only notes (``contentsite.I108``) a Redis it cannot ask (down, or ``INFO`` and ``CONFIG`` not allowed to the
cache's user): a deploy is not failed for what it cannot see.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contentsite.checks import check_deployment
from tests.outages import REDIS_PORTS, free_port, redis_cache

pytestmark = pytest.mark.outage


@pytest.mark.django_db
def test_a_full_redis_costs_no_query_per_cache_call(own_redis):
    cache.set("kept", 1)
    own_redis.refuse_writes("OOM")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert cache.set("page", 1) is None, "refused: a miss"
            assert cache.get("kept") == 1, "what it holds is still read"
    assert not [query["sql"] for query in queries if "invalidation" in query["sql"]]
    assert cache.delete("kept") is True, "and it takes every drop"


def memory_messages(settings: Any) -> list[Any]:
    return [m for m in check_deployment(None) if m.id in ("contentsite.E106", "contentsite.W107", "contentsite.I108")]


def configure(server: Any, *, policy: str, maxmemory: str) -> None:
    client = redis.Redis(port=server.port)
    client.config_set("maxmemory-policy", policy)
    client.config_set("maxmemory", maxmemory)


@pytest.mark.parametrize("policy", ["noeviction", "volatile-ttl", "allkeys-random", "volatile-random"])
def test_a_policy_that_defeats_the_rate_limits_fails_the_deploy_check(own_redis, settings, policy):
    settings.REDIS_URL = own_redis.url
    configure(own_redis, policy=policy, maxmemory="64mb")
    messages = memory_messages(settings)
    assert [m.id for m in messages] == ["contentsite.E106"], messages
    assert policy in messages[0].msg and "volatile-lru" in messages[0].hint


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu"])
def test_a_policy_that_may_evict_the_keys_kept_without_expiry_is_a_warning(own_redis, settings, policy):
    settings.REDIS_URL = own_redis.url
    configure(own_redis, policy=policy, maxmemory="64mb")
    assert [m.id for m in memory_messages(settings)] == ["contentsite.W107"]


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu"])
def test_the_recommended_policies_pass(own_redis, settings, policy):
    settings.REDIS_URL = own_redis.url
    configure(own_redis, policy=policy, maxmemory="64mb")
    assert memory_messages(settings) == []


def test_without_maxmemory_the_policy_is_never_used(own_redis, settings):
    settings.REDIS_URL = own_redis.url
    configure(own_redis, policy="noeviction", maxmemory="0")
    assert memory_messages(settings) == []


def test_a_redis_that_refuses_info_is_asked_its_configuration(own_redis, settings):
    """A managed Redis may refuse one of the two to the cache's user (ACL): the other one answers."""
    client = redis.Redis(port=own_redis.port)
    configure(own_redis, policy="volatile-ttl", maxmemory="64mb")
    client.acl_setuser("cache", enabled=True, nopass=True, keys=["*"], commands=["+@all", "-info"])
    settings.CACHES = redis_cache(f"redis://cache@127.0.0.1:{own_redis.port}/0")
    settings.REDIS_URL = settings.CACHES["default"]["LOCATION"]
    assert [m.id for m in memory_messages(settings)] == ["contentsite.E106"]


def test_a_redis_that_refuses_both_is_noted_not_failed(own_redis, settings):
    client = redis.Redis(port=own_redis.port)
    configure(own_redis, policy="noeviction", maxmemory="64mb")
    client.acl_setuser("cache", enabled=True, nopass=True, keys=["*"], commands=["+@all", "-info", "-config"])
    settings.CACHES = redis_cache(f"redis://cache@127.0.0.1:{own_redis.port}/0")
    settings.REDIS_URL = settings.CACHES["default"]["LOCATION"]
    messages = memory_messages(settings)
    assert [m.id for m in messages] == ["contentsite.I108"], messages
    assert "volatile-lru" in messages[0].hint


def test_a_redis_that_does_not_answer_is_noted_not_failed(settings):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port(REDIS_PORTS)}/0")
    settings.REDIS_URL = settings.CACHES["default"]["LOCATION"]
    assert [m.id for m in memory_messages(settings)] == ["contentsite.I108"]
