"""PostgreSQL lost while a change is being made: the page answered says what became of it.

Realistic on purpose: a PostgreSQL and a Redis of the test's own, gunicorn with the production settings, a
member of staff signed in to the admin. A proxy that takes its purges slowly (one that accepts the connection and
never answers, as a Varnish that is stuck does) holds the request after its change has committed, while
PostgreSQL is stopped (immediately, as a crash looks).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
import requests

from bench.servers import Gunicorn, server_environment
from tests.outages import PostgresServer, RedisServer, manage

pytestmark = [pytest.mark.outage, pytest.mark.own_servers]

PASSWORD = "demo-password-local-only"  # articles.demo.loading.DEMO_PASSWORD: the demo accounts, loaded below
NOT_RECEIVED = "What you sent has not been received."
MAYBE_SAVED = "What you sent may have been saved before the failure."


class StuckProxy:
    """A listener that accepts purges and never answers them; ``asked`` is set once the first one arrives."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.asked = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)
            self.asked.set()

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


class Staff:
    """A member of staff signed in to the admin over plain http (the production cookies are ``Secure``: they are
    sent back by hand, as a browser over https would)."""

    def __init__(self, port: int, username: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        self.session.get(f"{self.base}/admin/login/", timeout=60)
        answer = self.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD})
        assert answer.status_code == 302, answer.text[:1000]

    def _cookies_sent_over_http(self) -> None:
        for cookie in list(self.session.cookies):
            if cookie.secure:
                self.session.cookies.clear(cookie.domain, cookie.path, cookie.name)
                self.session.cookies.set(cookie.name, cookie.value)

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        self._cookies_sent_over_http()
        token = self.session.cookies.get("csrftoken")
        return self.session.post(
            f"{self.base}{path}",
            data={"csrfmiddlewaretoken": token, **data},
            headers={"Referer": f"{self.base}{path}"},
            allow_redirects=False,
            timeout=120,
        )


@dataclass
class Site:
    server: Gunicorn
    database: PostgresServer
    proxy: StuckProxy

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database.url) as connection:
            return connection.execute(sql, parameters).fetchall()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("outage-writes")
    database = PostgresServer().start()
    redis = RedisServer().start()
    proxy = StuckProxy()
    try:
        environment = server_environment(
            database_url=database.url, redis_url=redis.url, cache_prefix="outage-writes", bytes_dir=directory
        )
        environment.pop("DEBUG", None)
        environment["DATABASE_CONNECT_TIMEOUT_SECONDS"] = "2"
        environment["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
        local = {**environment, "DEBUG": "true", "DEMO_ACCOUNTS_ENABLED": "true"}
        manage(local, "migrate", "--noinput", "-v0", settings="contentsite.settings.base")
        manage(local, "load_demo", settings="contentsite.settings.base")
        manage(environment, "collectstatic", "--noinput", "-v0", settings="contentsite.settings.production")
        # Only the app server purges the stuck proxy (loading the content above purged none).
        environment["PROXY_PURGE_URLS"] = f"http://127.0.0.1:{proxy.port}"
        environment["PROXY_PURGE_TIMEOUT_SECONDS"] = "2"
        server = Gunicorn(
            "outage-writes", environment, settings="contentsite.settings.production", log=directory / "log"
        )
        server.start(timeout=90)
        try:
            yield Site(server, database, proxy)
        finally:
            server.stop()
    finally:
        proxy.close()
        redis.stop()
        database.remove()


def test_a_change_that_committed_before_postgresql_went_is_not_said_not_received(site):
    """The withdrawal commits; its purge waits on the proxy; PostgreSQL stops meanwhile, and the admin's page after
    the step needs it. Found from outside: the 503 said "What you sent has not been received. ... send it again"
    about a change that was done (a scheduling, 7 s after the POST); sent again, a comment is added twice."""
    staff = Staff(site.server.port, "demo-publisher")
    [(revision,)] = site.query("SELECT id FROM articles_revision WHERE state = 'published' ORDER BY id LIMIT 1")
    withdraw = f"/admin/articles/revision/{revision}/transition/withdraw/"
    answered: dict[str, requests.Response] = {}
    sending = threading.Thread(
        target=lambda: answered.setdefault("response", staff.post(withdraw, {"withdraw-reason": "Outage test."}))
    )
    site.proxy.asked.clear()
    sending.start()
    try:
        assert site.proxy.asked.wait(120), "the withdrawal never purged the proxy"
        site.database.stop()  # committed: its purge is under way
    finally:
        sending.join(180)
        site.database.start()
    response = answered["response"]
    assert site.query("SELECT state FROM articles_revision WHERE id = %s", (revision,)) == [("withdrawn",)]
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    page = response.text
    assert NOT_RECEIVED not in page
    assert MAYBE_SAVED in page
    assert "Internal Server Error" not in site.server.log.read_text()
