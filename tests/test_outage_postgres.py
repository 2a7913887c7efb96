"""PostgreSQL down: cached article pages are still served, everything else is a 503 that says when to retry.

Realistic on purpose: a PostgreSQL and a Redis of the test's own, gunicorn with the
production settings in front of them. The pages are warmed, PostgreSQL is stopped
(immediately, as a crash looks), and then started again: the app servers recover
without a restart.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from bench.servers import Gunicorn, Response, request, server_environment
from tests.outages import NetworkCut, PostgresServer, RedisServer, manage, wait_until

pytestmark = [pytest.mark.outage, pytest.mark.own_servers]

API = "/api/v1/articles/"
# How long the server waits to connect to PostgreSQL (DATABASE_CONNECT_TIMEOUT_SECONDS), and the test's client for an
# answer while PostgreSQL hangs.
CONNECT_TIMEOUT_S = 2
HUNG_CLIENT_TIMEOUT_S = 60


@dataclass
class Site:
    server: Gunicorn
    database: PostgresServer
    article: str
    key: str

    def get(self, path: str, **headers: str) -> Response:
        return request(self.server.port, path, headers=headers)

    def api(self, path: str) -> Response:
        return self.get(path, Authorization=f"Api-Key {self.key}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("outage-site")
    database = PostgresServer().start()
    redis = RedisServer().start()
    try:
        environment = server_environment(
            database_url=database.url, redis_url=redis.url, cache_prefix="outage", bytes_dir=directory
        )
        environment.pop("DEBUG", None)
        environment["OUTAGE_RETRY_AFTER_SECONDS"] = "17"
        environment["DATABASE_CONNECT_TIMEOUT_SECONDS"] = str(CONNECT_TIMEOUT_S)
        environment["DATABASE_TCP_USER_TIMEOUT_MS"] = "3000"
        # The demo library, published (outside production load_demo takes it through the workflow).
        local = {**environment, "DEBUG": "true"}
        manage(local, "migrate", "--noinput", "-v0", settings="contentsite.settings.base")
        loaded = manage(local, "load_demo", settings="contentsite.settings.base")
        article = next(
            line.split()[2].rstrip(":")
            for line in loaded.splitlines()
            if line.startswith("Demo content") and "published" in line and "numbness" not in line
        )
        key = manage(
            local, "create_partner_key", "Demo partner (demonstration)", settings="contentsite.settings.base"
        ).splitlines()[-1]
        manage(environment, "collectstatic", "--noinput", "-v0", settings="contentsite.settings.production")
        server = Gunicorn("outage", environment, settings="contentsite.settings.production", log=directory / "log")
        server.start(timeout=90)
        try:
            yield Site(server, database, article, key)
        finally:
            server.stop()
    finally:
        redis.stop()
        database.remove()


def test_with_postgresql_down_cached_articles_are_served_and_the_rest_is_503(site):
    article = f"/articles/{site.article}/"
    for _ in range(4):  # both workers, and the page is in Redis
        assert site.get(article).status == 200
    assert site.get("/search/?q=amlodipine").status == 200
    assert site.api(API).status == 200

    site.database.stop()
    try:
        cached = site.get(article)
        assert cached.status == 200, cached.body[:300]

        page = site.get("/search/?q=amlodipine")
        assert page.status == 503, page.body[:300]
        assert page.headers["retry-after"] == "17"
        assert page.headers["content-type"].startswith("text/html")
        assert b"<h1>" in page.body and b"try again" in page.body.lower()
        assert "no-store" in page.headers["cache-control"]

        api = site.api(API)
        assert api.status == 503, api.body[:300]
        assert api.headers["retry-after"] == "17"
        assert api.headers["content-type"].startswith("application/problem+json")
        assert b'"code":"unavailable"' in api.body.replace(b" ", b"")

        # Whatever needs the database (a session to look up, a log-in) is a 503 too, wherever it is met.
        for path, headers in [
            ("/admin/login/", {}),
            ("/admin/", {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}),
            (article, {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}),
            ("/", {}),
            ("/triage/", {}),
            ("/api/v1/medications/", {"Authorization": f"Api-Key {site.key}"}),
        ]:
            answer = site.get(path, **headers)
            assert answer.status in (200, 302, 503), (path, answer.status, answer.body[:300])
            if answer.status == 503:
                assert answer.headers["retry-after"] == "17"
    finally:
        site.database.start()

    # Recovery without a restart: each worker's broken connection is replaced.
    wait_until(lambda: site.get("/search/?q=amlodipine").status == 200, "the site to recover", timeout=30)
    assert all(site.get("/search/?q=amlodipine").status == 200 for _ in range(6))
    assert all(site.api(API).status == 200 for _ in range(6))
    assert site.server.process.poll() is None


TRIAGE = "/triage/numbness-tingling-weakness-amlodipine/"


def test_with_postgresql_down_a_symptom_check_answered_yes_to_a_warning_sign_still_says_call_now(site):
    """A frightened reader, on the first question (in the cache), answers yes to the signs of a stroke while
    PostgreSQL is down: the result, "Call the emergency number now", not the outage page's "contact your doctor
    or pharmacist" (the articles to read after it are what needs the database, and are left out)."""
    first = site.get(TRIAGE)
    assert first.status == 200, first.body[:300]
    cookie = first.headers["set-cookie"].split(";")[0]
    fields = dict(re.findall(rb'<input type="hidden" name="([^"]+)" value="([^"]*)">', first.body))
    form = {**{k.decode(): v.decode() for k, v in fields.items()}, "stroke": "yes", "action": "next"}
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    site.database.stop()
    try:
        result = request(site.server.port, TRIAGE, method="POST", headers=headers, body=urlencode(form).encode())
    finally:
        site.database.start()
    assert result.status == 200, result.body[:600]
    assert b"Call the emergency number now" in result.body
    assert b"Read more" not in result.body
    wait_until(lambda: site.get("/search/?q=amlodipine+after+triage").status == 200, "the site to recover", timeout=30)
    again = request(site.server.port, TRIAGE, method="POST", headers=headers, body=urlencode(form).encode())
    assert again.status == 200 and b"Read more" in again.body, again.body[:600]


def assert_unavailable(site: Site, pages: list[str], api_path: str) -> None:
    """Each page (in no cache, so it needs the database) and the API address answer 503 with Retry-After, within
    the client's patience: never a worker held until gunicorn kills it."""
    for path in pages:
        page = request(site.server.port, path, timeout=HUNG_CLIENT_TIMEOUT_S)
        assert page.status == 503, page.body[:300]
        assert page.headers["retry-after"] == "17"
    headers = {"Authorization": f"Api-Key {site.key}"}
    api = request(site.server.port, api_path, headers=headers, timeout=HUNG_CLIENT_TIMEOUT_S)
    assert api.status == 503, api.body[:300]


def every_worker_recovered(site: Site, label: str) -> bool:
    """Each worker answers from the database again. A worker whose connection timed out tries again only once
    as long has passed (``contentsite.postgresql``): until then its requests are 503 at once."""
    paths = [f"/search/?q=amlodipine+{label}+{n}" for n in range(4 * site.server.workers_count)]
    return all(site.get(path).status == 200 for path in paths)


def test_with_postgresql_hung_what_needs_it_is_a_503_after_the_connect_timeout(site):
    """Not a worker held until gunicorn kills it (its timeout here is 300 s; the client gives up after 60)."""
    article = f"/articles/{site.article}/"
    assert site.get(article).status == 200
    site.database.hang()
    try:
        assert site.get(article).status == 200  # in the cache: no query
        # Asked for the first time: in no cache, so each needs the database.
        assert_unavailable(site, ["/search/?q=numbness+hung"], f"{API}?limit=13")
    finally:
        site.database.resume()
    # A worker whose attempt to connect timed out tries again once as long has passed (``contentsite.postgresql``).
    # Every such attempt timed out before the resume (one under way then is answered), so all have passed by now.
    time.sleep(CONNECT_TIMEOUT_S)
    wait_until(lambda: every_worker_recovered(site, "hung"), "the site to recover", timeout=30)


def test_with_postgresql_cut_off_a_kept_connection_is_a_503_not_a_held_worker(site):
    """The network drops every packet to and from PostgreSQL (its host cut off or frozen) while the workers hold
    connections (``CONN_MAX_AGE``): a query's packets are never acknowledged. libpq would wait for TCP to give up
    (about 15 minutes of retransmissions) and gunicorn kill the worker; with ``tcp_user_timeout`` the connection
    ends after ``DATABASE_TCP_USER_TIMEOUT_MS`` (3 s here) and the request is a 503 like any outage."""
    article = f"/articles/{site.article}/"
    assert site.get(article).status == 200
    for n in range(6):  # each worker queries, and keeps its connection
        assert site.get(f"/search/?q=amlodipine+kept+{n}").status == 200
    with NetworkCut(site.database.port):
        assert site.get(article).status == 200  # in the cache: no query
        assert_unavailable(site, ["/search/?q=numbness+cut+1", "/search/?q=numbness+cut+2"], f"{API}?limit=11")
    wait_until(lambda: site.get("/search/?q=amlodipine+after+cut").status == 200, "the site to recover", timeout=30)
    assert site.server.process.poll() is None


def test_nothing_in_the_log_is_a_500(site):
    log = site.server.log.read_text()
    assert "Internal Server Error" not in log, log[-3000:]
