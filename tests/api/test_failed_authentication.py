"""Failed authentications are throttled per client address, shared across app servers, never at a valid key's cost.

Found reading the admission (``partners.admission``): every made-up key cost the database one indexed
query by its prefix and was answered 401, however many one address sent. Now each failure counts on its
client address (behind ``TRUSTED_PROXY_COUNT`` proxies, as for log-ins) in the shared cache, under a keyed
hash of the address; past ``PARTNER_API_FAILED_AUTH_RATE`` that address's failures are a 429 with
``Retry-After``, and a key it makes up is refused without a query.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.admission import KnownPrefixes
from partners.models import PartnerAPIKey, key_cache_key, known_key_cache_key
from partners.services import partner_key_create
from tests.outages import REDIS_PORTS, free_port, redis_cache

pytestmark = pytest.mark.django_db

URL = "/api/v1/articles/"
ATTACKER, PARTNER = "203.0.113.7", "198.51.100.20"


@pytest.fixture(autouse=True)
def _three_failures_a_minute(settings: Any) -> None:
    settings.PARTNER_API_FAILED_AUTH_RATE = "3/minute"


def made_up(n: int) -> str:
    return f"Madeup{n:02d}.{'x' * 32}"


def get(client: Any, key: str, address: str = ATTACKER, **headers: str) -> Any:
    return client.get(URL, HTTP_AUTHORIZATION=f"Api-Key {key}", REMOTE_ADDR=address, **headers)


def test_past_the_limit_an_address_making_up_keys_gets_a_429_problem_with_retry_after(client, published_article):
    statuses = [get(client, made_up(n)).status_code for n in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    refused = get(client, made_up(9))
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["status"], problem["code"]) == (429, "throttled")
    assert "failed" in problem["detail"].lower()
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Policy"] == '"failed-authentication";q=3;w=60'
    assert refused["RateLimit"].startswith('"failed-authentication";r=0;t=')


def test_past_the_limit_a_made_up_key_costs_no_query(client, published_article):
    for n in range(4):
        get(client, made_up(n))
    with CaptureQueriesContext(connection) as queries:
        assert get(client, made_up(7)).status_code == 429
    assert not [query for query in queries if "partners_partnerapikey" in query["sql"]], queries.captured_queries


def test_a_valid_key_is_never_refused_for_failures_from_another_address_or_its_own(
    client, published_article, partner, api_key
):
    for n in range(6):
        get(client, made_up(n))
    assert get(client, made_up(8)).status_code == 429
    assert get(client, api_key, address=PARTNER).status_code == 200
    assert get(client, api_key, address=ATTACKER).status_code == 200, "a valid key from the address itself"
    fresh = partner_key_create(partner=partner, name="never used yet")[1]
    assert get(client, fresh, address=ATTACKER).status_code == 200, "not in the cache yet: asked of the database"
    wrong_secret = f"{api_key.partition('.')[0]}.{'y' * 32}"
    assert get(client, wrong_secret, address=ATTACKER).status_code == 429


def test_each_client_behind_the_proxy_counts_on_its_own_address(client, published_article, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        assert get(client, made_up(n), address="10.0.0.2", HTTP_X_FORWARDED_FOR=ATTACKER).status_code in (401, 429)
    assert get(client, made_up(6), address="10.0.0.2", HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    other = get(client, made_up(7), address="10.0.0.2", HTTP_X_FORWARDED_FOR=PARTNER)
    assert other.status_code == 401, "another client behind the same proxy is not throttled for the first one"


def test_with_the_cache_down_failures_are_still_throttled_in_the_process_never_a_500(
    client, published_article, partner, api_key, settings
):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port(REDIS_PORTS)}/0")
    statuses = [get(client, made_up(n)).status_code for n in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert get(client, api_key, address=ATTACKER).status_code == 200


def test_a_revoked_key_counts_as_a_failure(client, published_article, partner, api_key):
    from partners.services import partner_key_revoke

    partner_key_revoke(key=PartnerAPIKey.objects.get(partner=partner))
    assert [get(client, api_key).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_a_valid_key_the_cache_forgot_is_not_refused_at_an_address_past_its_failures(
    client, published_article, partner, api_key, monkeypatch
):
    """Found from outside (gunicorn, Redis at ``maxmemory 2mb`` with ``allkeys-lru``, readers and partners filling
    it): a partner's valid key used once, then idle while its row and the note that it exists were evicted, was
    refused (429, 5 of 5 tries over 5 s) once its address had sent 20 wrong keys: a key the cache does not know was
    taken for made up. A Redis restarted without its data, or flushed, forgets them the same way. So long as the
    address kept failing, the partner was locked out."""
    # However slow the run, the prefixes read are this process's copy until the test's end (its last step asserts no
    # query: read again after 10 s, they would be one).
    monkeypatch.setattr(KnownPrefixes, "REFRESH_SECONDS", 3600.0)
    assert get(client, api_key, address=PARTNER).status_code == 200
    prefix = api_key.partition(".")[0]
    cache.delete_many([key_cache_key(prefix), known_key_cache_key(prefix)])  # evicted, or a restart lost them
    for n in range(4):
        get(client, made_up(n))
    assert get(client, made_up(8)).status_code == 429
    assert get(client, api_key).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert get(client, made_up(9)).status_code == 429
    assert not [query for query in queries if "partners_partnerapikey" in query["sql"]], "made up: still no query"
