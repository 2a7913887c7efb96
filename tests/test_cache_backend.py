"""The Redis cache backend: Django's, with one client object holding one connection of its own."""

from __future__ import annotations

import os
from typing import Any

import pytest
from redis import exceptions as errors

from contentsite.cache import RedisCache, forget_failures, refusal


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
    forget_failures()  # REDIS_RETRY_AFTER_SECONDS have passed: this process asks Redis again
    cache.set("a", 2)
    assert cache.get("a") == 2
    assert cache._cache.get_client() is client


def test_replicas_still_get_a_pool_per_call():
    cache = RedisCache("redis://127.0.0.1:1/0,redis://127.0.0.1:2/0", {})
    assert cache._cache.get_client(write=True).connection_pool is cache._cache.get_client(write=True).connection_pool


def test_a_read_and_count_goes_straight_to_the_clients_own_connection(own_redis: Any, monkeypatch: Any):
    """The partner API's one round trip (``read_and_count``) is one EVALSHA written on the client's own
    connection and its reply read back: not through redis-py's command layer (``Script`` and
    ``Redis.execute_command``), whose bookkeeping cost more CPU than the round trip itself."""
    import redis

    cache = RedisCache(own_redis.url, {})
    cache.set("ahead", {"a": 1})
    assert cache.read_and_count(["ahead"], [("counter", 60)])[1][0][0] == 1  # the script is known to this Redis now
    through_the_client: list[Any] = []
    original = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis, "execute_command", lambda self, *a, **k: through_the_client.append(a) or original(self, *a, **k)
    )
    values, [counted] = cache.read_and_count(["ahead", "unset"], [("counter", 60)])
    assert values == {"ahead": {"a": 1}}
    assert counted[0] == 2 and 0 < counted[1] <= 60
    assert through_the_client == []


def test_a_value_read_ahead_of_a_type_nothing_changes_is_unpickled_once_per_process(own_redis: Any):
    """A partner's request reads the same live identity on every call: the same bytes are unpickled once and that
    value (frozen: ``decoded_once``) is read again; a new value, and any value of another type, is unpickled anew."""
    import datetime
    import pickle

    from articles.live import Live, Site

    cache = RedisCache(own_redis.url, {})
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    live = Live("article", "a", 1, 2, False, 3, moment, None, symptom_ids=(4, 5))
    cache.set_many({"live": live, "site": Site(7, moment, None, None), "plain": {"a": [1]}})
    first, _ = cache.read_and_count(["live", "site", "plain"], [])
    unpickled: list[Any] = []
    original = pickle.loads
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pickle, "loads", lambda raw: unpickled.append(raw) or original(raw))
        second, _ = cache.read_and_count(["live", "site", "plain"], [])
        assert second == first == {"live": live, "site": Site(7, moment, None, None), "plain": {"a": [1]}}
        assert second["live"] is first["live"] and second["site"] is first["site"]
        assert second["plain"] is not first["plain"]  # a dict may be changed by whoever reads it: its own copy
        assert len(unpickled) == 1
        moved = Live("article", "a", 1, 9, False, 4, moment, None)
        cache.set("live", moved)
        third, _ = cache.read_and_count(["live"], [])
        assert third["live"] == moved


def test_a_read_and_count_after_redis_restarted_reconnects_and_loads_its_script_again(own_redis: Any):
    cache = RedisCache(own_redis.url, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})
    assert cache.read_and_count([], [("counter", 60)])[1][0][0] == 1
    own_redis.stop()
    assert cache.read_and_count([], [("counter", 60)]) is None  # failing soft: the caller counts some other way
    own_redis.start()  # a new server: no script, no counter, and the old connection is dead
    assert cache.read_and_count([], [("counter", 60)]) is None, "not asked again before REDIS_RETRY_AFTER_SECONDS"
    forget_failures()  # they have passed
    assert cache.read_and_count([], [("counter", 60)])[1][0][0] == 1
    assert cache.read_and_count([], [("counter", 60)])[1][0][0] == 2


def test_a_read_and_count_that_redis_refuses_is_an_error_not_an_outage(own_redis: Any):
    """Only a Redis that cannot answer is softened; a command Redis refuses as wrong is a bug and raises."""
    import redis

    cache = RedisCache(own_redis.url, {})
    cache._cache.get_client(write=True).lpush(cache.make_and_validate_key("counter"), "x")  # not a number
    with pytest.raises(redis.ResponseError):
        cache.read_and_count([], [("counter", 60)])


def test_with_replicas_a_read_and_count_still_loads_its_script_again(own_redis: Any):
    cache = RedisCache(f"{own_redis.url},{own_redis.url}", {})  # two servers: Django's pool per call
    assert cache._cache.get_client(write=True).connection is None
    assert cache.read_and_count([], [("counter", 60)])[1][0][0] == 1
    cache._cache.get_client(write=True).script_flush()
    assert cache.read_and_count([], [("counter", 60)])[1][0][0] == 2


def test_redis_keys_are_not_checked_against_memcacheds_rules(own_redis: Any):
    """Redis takes any key; Django's default check (memcached's rules) only warns, character by character, on every
    operation: Django's documentation says to override ``validate_key`` for a backend with other rules."""
    import warnings

    from django.core.cache import CacheKeyWarning

    cache = RedisCache(own_redis.url, {})
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        cache.set("a key with spaces " + "x" * 300, 1)
        assert cache.get("a key with spaces " + "x" * 300) == 1


@pytest.mark.parametrize(
    ("error", "code"),
    [
        # As redis-py raises them: the codes it knows kept apart, the others at the start of the message.
        (errors.OutOfMemoryError("command not allowed when used memory > 'maxmemory'.", status_code="OOM"), "OOM"),
        (errors.ReadOnlyError("You can't write against a read only replica.", status_code="READONLY"), "READONLY"),
        (errors.ResponseError("MISCONF Redis is configured to save RDB snapshots, but it is unable to"), "MISCONF"),
        (errors.ResponseError("BUSY Redis is busy running a script."), "BUSY"),
        (errors.ResponseError("Command # 1 (MSET k 1) of pipeline caused error: MISCONF Redis is"), "MISCONF"),
        (errors.ResponseError("NOREPLICAS Not enough good replicas to write."), "NOREPLICAS"),
        # Wrong commands, wrong values: bugs, never softened.
        (errors.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"), None),
        (errors.ResponseError("ERR value is not an integer or out of range"), None),
        (errors.ResponseError("Command # 1 (INCR k) of pipeline caused error: WRONGTYPE Operation"), None),
        (errors.ResponseError("OOMPH is not a code"), None),
        (errors.NoScriptError("No matching script.", status_code="NOSCRIPT"), None),
        (errors.DataError("Invalid input of type: NoneType."), None),
    ],
    ids=repr,
)
def test_a_refusal_is_told_from_a_bug_by_its_code(error: errors.RedisError, code: str | None):
    assert refusal(error) == code
