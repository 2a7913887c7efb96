"""The Redis cache backend: Django's, with one client object holding one connection of its own."""

from __future__ import annotations

import os
from typing import Any

from contentsite.cache import RedisCache


def test_one_client_object_serves_every_call(own_redis: Any):
    cache = RedisCache(own_redis.url, {})
    assert cache._cache.get_client("a") is cache._cache.get_client("b", write=True)


def test_the_client_keeps_one_connection_of_its_own_for_every_command(own_redis: Any):
    cache = RedisCache(own_redis.url, {})
    cache.set("a", 1)
    client = cache._cache.get_client()
    connection = client.connection
    assert connection is not None  # not taken from the pool and given back for each command
    assert cache.get("a") == 1
    cache.incr("a")
    assert cache.get_many(["a", "b"]) == {"a": 2}
    assert client.connection is connection


def test_a_client_made_before_a_fork_is_not_used_after_it(own_redis: Any, monkeypatch: Any):
    cache = RedisCache(own_redis.url, {})
    before = cache._cache.get_client()
    monkeypatch.setattr(os, "getpid", lambda: -1)  # what the child of a fork sees: another process id
    after = cache._cache.get_client()
    assert after is not before and after.connection is not before.connection
    cache.set("a", 1)
    assert cache.get("a") == 1


def test_a_restarted_redis_is_asked_again_on_the_same_client(own_redis: Any):
    cache = RedisCache(own_redis.url, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    cache.set("a", 1)
    client = cache._cache.get_client()
    own_redis.stop()
    assert cache.get("a", "miss") == "miss"  # failing soft, as with the pool
    own_redis.start()
    cache.set("a", 2)
    assert cache.get("a") == 2
    assert cache._cache.get_client() is client


def test_replicas_still_get_a_pool_per_call():
    cache = RedisCache("redis://127.0.0.1:1/0,redis://127.0.0.1:2/0", {})
    assert cache._cache.get_client(write=True).connection_pool is cache._cache.get_client(write=True).connection_pool
