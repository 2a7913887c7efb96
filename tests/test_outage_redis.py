"""Redis down: every page and API endpoint still answers (never a 500), and rate limits still apply.

A failing cache is a miss: reads come from the database, writes are dropped, and the
outage is logged at most once a minute per process. The partner rate limit counts in
Redis while it is up and in the process's memory while it is not.
"""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache

from articles.live import SITE_POINTER
from contentsite.cache import forget_failures
from partners.models import Partner, PartnerAPIKey
from partners.services import partner_key_create
from partners.throttling import PartnerKeyRateThrottle
from tests.conftest import PartnerClient
from tests.outages import REDIS_PORTS, RedisServer, free_port, redis_cache
from tests.test_reads_never_write import library, public_examples

pytestmark = pytest.mark.django_db
__all__ = ["library"]  # a fixture, used by name


@pytest.fixture
def dead_redis(settings: Any) -> None:
    """The cache points at a loopback port nothing listens on."""
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port(REDIS_PORTS)}/0")


def walk(client: Any, api_key: str, urls: dict[str, str]) -> dict[str, int]:
    """Every public URL (the API with the key), and the evaluate POST; the status of each."""
    statuses = {}
    for name, url in urls.items():
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"} if url.startswith("/api/") else {}
        statuses[name] = client.get(url, **headers).status_code
    evaluate = urls["pathway-evaluate"]
    statuses["pathway-evaluate POST"] = client.post(
        evaluate, {"answers": {}}, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api_key}"
    ).status_code
    statuses["admin login"] = client.get("/admin/login/").status_code
    return statuses


def assert_no_errors(statuses: dict[str, int]) -> None:
    errors = {name: status for name, status in statuses.items() if status >= 500}
    assert errors == {}, errors


@pytest.fixture
def urls(library, published_article, published_pathway) -> dict[str, str]:
    return public_examples(library, published_article, published_pathway)


def test_with_redis_unreachable_every_page_and_endpoint_answers(client, api_key, urls, dead_redis):
    statuses = walk(client, api_key, urls)
    assert_no_errors(statuses)
    assert statuses["detail"] == statuses["article-detail"] == statuses["home"] == 200


@pytest.mark.outage
def test_redis_stopped_mid_test_then_back(client, api_key, urls, own_redis):
    assert_no_errors(walk(client, api_key, urls))  # warm: pointers and pages in Redis
    assert cache.get(SITE_POINTER) is not None
    own_redis.stop()
    statuses = walk(client, api_key, urls)
    assert_no_errors(statuses)
    assert statuses["detail"] == 200
    own_redis.start()  # the same port: the pool reconnects, no restart of the app
    forget_failures()  # REDIS_RETRY_AFTER_SECONDS have passed: this process asks Redis again
    assert_no_errors(walk(client, api_key, urls))
    assert cache.get(SITE_POINTER) is not None, "the cache is used again once Redis is back"


def test_every_cache_operation_on_a_dead_redis_is_a_miss_logged_once(dead_redis, caplog):
    caplog.set_level(logging.WARNING)
    assert cache.get("a", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("a", 1) is False
    assert cache.set("a", 1) is None
    assert cache.set_many({"a": 1}) in ([], ["a"])
    assert cache.delete("a") is False
    assert cache.delete_many(["a"]) is None
    assert cache.has_key("a") is False
    assert cache.touch("a") is False
    assert cache.get_or_set("a", 5) == 5
    with pytest.raises(ValueError, match="unavailable"):  # like a missing key: nothing to move
        cache.incr("a")
    cache.clear()
    outage_lines = [r for r in caplog.records if "cache" in r.getMessage().lower()]
    assert len(outage_lines) == 1, [r.getMessage() for r in caplog.records]
    assert outage_lines[0].levelno == logging.WARNING


# --- A Redis that hangs ---------------------------------------------------------------------------


@pytest.fixture
def commands_sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every command the cache writes to a Redis connection from now on (each costs a timeout while it hangs)."""
    import redis.connection

    sent: list[tuple[Any, ...]] = []
    send = redis.connection.Connection.send_packed_command

    def counted(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(tuple(command) if isinstance(command, list) else (command,))
        return send(self, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counted)
    return sent


@pytest.mark.outage
def test_with_redis_hung_a_process_waits_for_it_once_not_once_per_cache_call(
    client, api_key, urls, own_redis, commands_sent, settings
):
    # Not asked again for longer than the walk takes, however slow the machine: at the default 5 s a walk on a loaded
    # CI machine outlasted the pause and asked again (3 commands, one run in many). That the pause ends is the next
    # test's.
    settings.REDIS_RETRY_AFTER_SECONDS = 300  # the most a deployment may set (contentsite.E023)
    assert_no_errors(walk(client, api_key, urls))  # warm, and connected
    commands_sent.clear()
    own_redis.hang()
    try:
        statuses = walk(client, api_key, urls)
    finally:
        own_redis.resume()
    assert_no_errors(statuses)
    assert statuses["detail"] == statuses["article-detail"] == statuses["home"] == 200
    # The first call waited out the timeout; every other call of the walk (dozens) was a miss at once.
    assert len(commands_sent) == 1


@pytest.mark.outage
def test_after_redis_retry_after_seconds_a_process_asks_redis_again(own_redis, settings, monkeypatch):
    import contentsite.cache

    settings.REDIS_RETRY_AFTER_SECONDS = 5
    cache.set("a", 1)
    own_redis.hang()
    try:
        assert cache.get("a") is None  # waited out the timeout
    finally:
        own_redis.resume()
    assert cache.get("a") is None, "not asked again yet, though it answers"
    later = contentsite.cache.monotonic() + 5
    monkeypatch.setattr(contentsite.cache, "monotonic", lambda: later)
    assert cache.get("a") == 1


@pytest.mark.outage
def test_while_redis_is_not_asked_a_drop_of_what_changed_is_still_tried(own_redis, commands_sent):
    """What this process fails to drop, the others would read from Redis once it answers again."""
    cache.set("live:pointer", 1)
    own_redis.hang()
    try:
        assert cache.get("live:pointer") is None  # waited out the timeout: Redis is not asked for a while
        commands_sent.clear()
        assert cache.set("live:pointer", 2) is None and not commands_sent
        cache.delete_many(["live:pointer"])
        assert any(b"\r\nDEL\r\n" in b"".join(command) for command in commands_sent), "tried all the same"
    finally:
        own_redis.resume()
    forget_failures()  # answering again: the drop is made (again, if the one it got while hung was kept)
    cache.delete_many(["live:pointer"])
    assert cache.get("live:pointer") is None


# --- A Redis that answers but refuses to write -----------------------------------------------------

# Each for real on the test's own server (``RedisServer.refuse_writes``): full with no eviction, a replica (as
# a primary becomes after a failover), unable to save to its disk with stop-writes-on-bgsave-error.
REFUSALS = ["OOM", "READONLY", "MISCONF"]


@pytest.mark.outage
@pytest.mark.parametrize("why", REFUSALS)
def test_with_redis_refusing_writes_every_page_and_endpoint_answers(client, api_key, urls, own_redis, why):
    assert_no_errors(walk(client, api_key, urls))  # warm: pointers and pages in Redis, which it still reads
    own_redis.refuse_writes(why)
    statuses = walk(client, api_key, urls)
    assert_no_errors(statuses)
    assert statuses["detail"] == statuses["article-detail"] == statuses["home"] == 200
    assert_no_errors(walk(client, api_key, urls))


@pytest.mark.outage
@pytest.mark.parametrize("why", REFUSALS)
def test_with_redis_refusing_writes_the_limit_still_applies(
    client, partner, published_article, settings, own_redis, why
):
    settings.PARTNER_API_RATE = "3/minute"
    first, second = (PartnerClient(client, key) for key in two_keys(partner))
    assert first.get("/api/v1/articles/").status_code == 200  # counted in Redis
    own_redis.refuse_writes(why)
    statuses = [c.get("/api/v1/articles/").status_code for c in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429], "the process counts for itself while Redis refuses to count"


@pytest.mark.outage
@pytest.mark.parametrize("why", REFUSALS)
def test_every_cache_operation_on_a_redis_refusing_writes_is_a_miss_logged_once(own_redis, why, caplog):
    assert cache.set("kept", 1) is None
    own_redis.refuse_writes(why)
    caplog.set_level(logging.WARNING)
    assert cache.get("kept") == 1, "what it still answers is used"
    assert cache.add("a", 1) is False
    assert cache.set("a", 1) is None
    assert cache.set_many({"a": 1}) in ([], ["a"])
    assert cache.get_or_set("a", 5) == 5
    with pytest.raises(ValueError, match="unavailable"):
        cache.incr("kept")
    assert cache.delete("kept") is (why == "OOM"), "a full Redis still deletes (it frees memory); the others refuse"
    outage_lines = [r for r in caplog.records if "cache" in r.getMessage().lower()]
    assert len(outage_lines) == 1, [r.getMessage() for r in caplog.records]
    assert why in outage_lines[0].getMessage(), "the log says what Redis refused with"


@pytest.mark.outage
def test_after_a_readonly_refusal_the_cache_connects_again(own_redis):
    """After a failover the server's name leads to the new primary; the connection made before does not."""
    import redis

    server = redis.Redis(port=own_redis.port)
    cache.set("a", 1)
    connections = server.info("stats")["total_connections_received"]
    own_redis.refuse_writes("READONLY")
    assert cache.set("a", 2) is None
    server.replicaof("NO", "ONE")  # the failover done: writable again
    cache.set("a", 3)
    assert cache.get("a") == 3
    assert server.info("stats")["total_connections_received"] == connections + 2  # refuse_writes's, and the cache's


# --- The partner rate limit ----------------------------------------------------------------------


def two_keys(partner: Partner) -> tuple[str, str]:
    return partner_key_create(partner=partner, name="one")[1], partner_key_create(partner=partner, name="two")[1]


def test_a_partners_keys_share_one_limit(client, partner, published_article, settings):
    settings.PARTNER_API_RATE = "4/minute"
    first, second = (PartnerClient(client, key) for key in two_keys(partner))
    statuses = [c.get("/api/v1/articles/").status_code for c in (first, second) * 3]
    assert statuses == [200] * 4 + [429] * 2
    response = second.get("/api/v1/articles/")
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 60


@pytest.mark.outage
def test_a_partners_keys_share_one_limit_in_redis(client, partner, published_article, settings, own_redis):
    test_a_partners_keys_share_one_limit(client, partner, published_article, settings)


@pytest.mark.outage
def test_exactly_the_limit_passes_under_concurrency(partner, settings, own_redis):
    """Many threads, two keys of one partner, a real Redis: exactly ``limit`` requests pass."""
    settings.PARTNER_API_RATE = "50/minute"
    keys = [PartnerAPIKey.objects.select_related("partner").get(prefix=k.partition(".")[0]) for k in two_keys(partner)]
    passed: list[bool] = []
    start = threading.Barrier(20)

    def hammer(key: PartnerAPIKey) -> None:
        start.wait()
        for _ in range(10):
            passed.append(PartnerKeyRateThrottle().allow_request(SimpleNamespace(auth=key), None))

    threads = [threading.Thread(target=hammer, args=(keys[n % 2],)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(passed) == 200
    assert passed.count(True) == 50


@pytest.mark.outage
def test_with_redis_down_the_limit_still_applies_and_says_so(client, partner, published_article, settings, caplog):
    settings.PARTNER_API_RATE = "3/minute"
    server = RedisServer().start()
    settings.CACHES = redis_cache(server.url)
    first, second = (PartnerClient(client, key) for key in two_keys(partner))
    assert first.get("/api/v1/articles/").status_code == 200  # counted in Redis
    server.stop()
    caplog.set_level(logging.WARNING)
    statuses = [c.get("/api/v1/articles/").status_code for c in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429], "the process counts for itself while Redis is down"
    assert any("rate limit" in r.getMessage().lower() and r.levelno == logging.WARNING for r in caplog.records)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("REDIS_CONNECT_TIMEOUT_MS", 0, "contentsite.E020"),
        ("REDIS_SOCKET_TIMEOUT_MS", 60_000, "contentsite.E021"),
        ("OUTAGE_RETRY_AFTER_SECONDS", 0, "contentsite.E022"),
        ("REDIS_RETRY_AFTER_SECONDS", 0, "contentsite.E023"),
        ("REDIS_RETRY_AFTER_SECONDS", 301, "contentsite.E023"),
        ("DATABASE_CONNECT_TIMEOUT_SECONDS", 1, "contentsite.E024"),
        ("DATABASE_CONNECT_TIMEOUT_SECONDS", 61, "contentsite.E024"),
        ("DATABASE_TCP_USER_TIMEOUT_MS", 999, "contentsite.E025"),
        ("DATABASE_TCP_USER_TIMEOUT_MS", 60_001, "contentsite.E025"),
        ("DATABASE_TCP_USER_TIMEOUT_MS", "5000", "contentsite.E025"),
        ("OUTAGE_RETRY_AFTER_SECONDS", "30", "contentsite.E022"),
    ],
)
def test_the_checks_refuse_outage_settings_that_stall_fail_or_mislead(settings, name, value, expected):
    from contentsite.checks import check_outage_settings

    assert check_outage_settings(None) == []
    setattr(settings, name, value)
    assert [error.id for error in check_outage_settings(None)] == [expected]


def test_manage_check_fails_on_a_bad_redis_timeout_from_the_environment():
    import os
    import subprocess
    import sys

    finished = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "contentsite.settings.test", "REDIS_SOCKET_TIMEOUT_MS": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode != 0
    assert "contentsite.E021" in finished.stderr


@pytest.mark.outage
def test_a_counter_left_without_an_expiry_is_given_one(own_redis):
    from contentsite.cache import count_hit

    raw = cache._cache.get_client(write=True)
    raw.set(cache.make_and_validate_key("throttle:stuck"), 7)  # no expiry: it would never reset
    hits, left = count_hit("throttle:stuck", 60)
    assert hits == 8
    assert 0 < left <= 60
    assert 0 < raw.ttl(cache.make_and_validate_key("throttle:stuck")) <= 60


@pytest.mark.outage
def test_counting_survives_redis_forgetting_its_scripts(own_redis):
    """The count runs as a script sent by its SHA; a restarted Redis has none, and it is loaded again."""
    from contentsite.cache import count_hit, read_and_count

    assert count_hit("throttle:scripts", 60)[0] == 1
    raw = cache._cache.get_client(write=True)
    raw.script_flush()
    cache.set("read:ahead", {"a": 1})
    values, [counted], answered = read_and_count(["read:ahead", "read:unset"], [("throttle:scripts", 60)])
    assert (values, counted[0], answered) == ({"read:ahead": {"a": 1}}, 2, True)
    assert 0 < counted[1] <= 60
    own_redis.stop()
    assert read_and_count(["read:ahead"], [("throttle:scripts", 60)]) == ({}, [None], False)
    own_redis.start()
    forget_failures()  # REDIS_RETRY_AFTER_SECONDS have passed: this process asks Redis again
    assert count_hit("throttle:scripts", 60) == (1, pytest.approx(60, abs=1))  # a new server: a new window


@pytest.mark.outage
@pytest.mark.parametrize("fault", [*REFUSALS, "hung"])
def test_a_reader_answering_a_pathway_gets_the_result_whatever_redis_does(published_pathway, own_redis, fault):
    """A frightened reader's answers need no cache: the emergency result, and every question to the end."""
    from django.test import Client

    from tests.triage.test_steps import URL, question_of, submit

    reader = Client(enforce_csrf_checks=True)
    reader.get(URL)  # warm
    if fault == "hung":
        own_redis.hang()
    else:
        own_redis.refuse_writes(fault)
    try:
        first = reader.get(URL)
        emergency = submit(reader, first, answer="yes")
        assert emergency.status_code == 200
        assert '<h1 id="result-title">Call the emergency number now</h1>' in emergency.content.decode()
        response, asked = reader.get(URL), 0
        while response.status_code == 200 and "result-title" not in response.content.decode():
            question_of(response)
            response, asked = submit(reader, response, answer="no"), asked + 1
        assert response.status_code == 200 and asked > 1
        assert "Talk to your doctor or pharmacist if you are worried" in response.content.decode()
    finally:
        own_redis.resume()
