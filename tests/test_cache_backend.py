"""The Redis cache backend: Django's, with one client object per pool."""

from __future__ import annotations

from contentsite.cache import RedisCache


def test_one_client_object_serves_every_call():
    cache = RedisCache("redis://127.0.0.1:1/0", {})  # nothing is connected until a command runs
    assert cache._cache.get_client("a") is cache._cache.get_client("b", write=True)


def test_replicas_still_get_a_pool_per_call():
    cache = RedisCache("redis://127.0.0.1:1/0,redis://127.0.0.1:2/0", {})
    assert cache._cache.get_client(write=True).connection_pool is cache._cache.get_client(write=True).connection_pool
