"""The caching reverse proxy: the headers the app sends it, the purges, the settings' checks, and
Varnish itself (deploy/varnish/default.vcl) in front of a live server.

Varnish is Debian's ``varnish`` with ``varnish-modules`` (xkey). Without it the Varnish tests
skip locally, but fail under ``CI=true``, as the browser tests do without Chromium.
"""

from __future__ import annotations

import datetime
import http.client
import http.server
import json
import logging
import math
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.utils.http import http_date

from articles import services
from contentsite import proxy
from contentsite.checks import check_proxy_settings
from deploy.servers import free_port
from tests.factories import article_document, changed, demo_document

ROOT = Path(__file__).resolve().parent.parent
VCL = ROOT / "deploy" / "varnish" / "default.vcl"
VARNISHD = os.environ.get("VARNISHD_PATH", "/usr/sbin/varnishd")
# The one line of the VCL an operator edits (deploy/README.md); the tests point it at their server.
BACKEND_LINES = '    .host = "127.0.0.1";\n    .port = "8000";\n'
# Only to wait for processes to come up or go away; no assertion is about time.
START_TIMEOUT_SECONDS = 60

# --- tag() and the middleware -----------------------------------------------------------------


def test_tag_names_the_keys_once_and_lets_only_the_proxy_keep_the_page():
    response = proxy.tag(HttpResponse("page"), [proxy.article_key(7), proxy.INDEX_KEY, "article-7"])
    assert response[proxy.SURROGATE_HEADER] == "article-7 index"
    assert response["Cache-Control"] == (
        "public, max-age=0, s-maxage=300, stale-while-revalidate=30, stale-if-error=86400"
    )


@override_settings(PROXY_PAGE_MAX_AGE=60, PROXY_STALE_WHILE_REVALIDATE=5, PROXY_STALE_IF_ERROR=600)
def test_tag_follows_the_settings_and_a_callers_s_maxage():
    response = proxy.tag(HttpResponse("page"), [proxy.medication_key(3), proxy.symptom_key(4)])
    assert response["xkey"] == "medication-3 symptom-4"
    assert response["Cache-Control"] == "public, max-age=0, s-maxage=60, stale-while-revalidate=5, stale-if-error=600"
    response = proxy.tag(HttpResponse("page"), ["index"], s_maxage=10)
    assert "s-maxage=10," in response["Cache-Control"]


@pytest.mark.parametrize(
    ("seconds_left", "s_maxage", "stale_while_revalidate"),
    [
        (None, 300, 30),  # nothing scheduled
        (10_000, 300, 30),  # too far off to matter
        (320.5, 300, 20),  # kept its whole s-maxage, but stale for only what is left of it
        (100.5, 100, 0),
        (0.5, 0, 0),
        (-5, 0, 0),  # already due
    ],
)
def test_a_page_that_changes_at_a_scheduled_time_is_kept_by_the_proxy_no_later(
    seconds_left, s_maxage, stale_while_revalidate
):
    """A scheduled publication is live from its time on every page, with no job and no purge: the proxy keeps a page
    (stale copies included) no longer than until the next scheduled change it shows."""
    from django.utils import timezone

    until = None if seconds_left is None else timezone.now() + datetime.timedelta(seconds=seconds_left)
    response = proxy.tag(HttpResponse("page"), ["article-7"], until=until)
    assert response["Cache-Control"] == (
        f"public, max-age=0, s-maxage={s_maxage}, stale-while-revalidate={stale_while_revalidate}, stale-if-error=86400"
    )
    # The copy kept for errors is bounded by the VCL, from the time itself (the same for every response until then).
    if until is None:
        assert proxy.UNTIL_HEADER not in response
    else:
        assert response[proxy.UNTIL_HEADER] == http_date(math.floor(until.timestamp()))


@pytest.mark.parametrize(
    "keys",
    [
        [f"article-{n}" for n in range(1000)],  # too long for one header
        ["article-1", "two words"],  # not a token
        ["article-1", "line\nbreak"],
    ],
)
def test_keys_that_cannot_be_sent_tag_the_page_index_which_every_change_purges(keys):
    response = proxy.tag(HttpResponse("page"), keys)
    assert response["xkey"] == proxy.INDEX_KEY
    assert "s-maxage=300" in response["Cache-Control"]


def test_tag_leaves_a_response_that_sets_a_cookie_alone():
    response = HttpResponse("page")
    response.set_cookie("chosen", "1")
    response["Cache-Control"] = "no-cache"
    proxy.tag(response, ["index"])
    assert "xkey" not in response
    assert response["Cache-Control"] == "no-cache"


def run_middleware(request: Any, status: int = 200, keys: Any = ("article-1",)) -> HttpResponse:
    response = HttpResponse("page", status=status)
    response["Cache-Control"] = "public, no-cache"
    if keys is not None:
        response.surrogate_keys = keys
    return proxy.SurrogateKeyMiddleware(lambda request: response)(request)


@pytest.fixture
def anonymous() -> Any:
    def build(method: str = "get", path: str = "/articles/a/") -> Any:
        request = getattr(RequestFactory(), method)(path)
        request.user = AnonymousUser()
        return request

    return build


@pytest.mark.parametrize("status", [200, 304, 404, 410])
@pytest.mark.parametrize("method", ["get", "head"])
def test_middleware_tags_anonymous_public_reads_whose_view_named_keys(anonymous, method, status):
    response = run_middleware(anonymous(method), status=status)
    assert response["xkey"] == "article-1"
    assert "no-cache" not in response["Cache-Control"]


@pytest.mark.parametrize(
    ("method", "path", "status", "keys"),
    [
        ("get", "/articles/a/", 200, None),  # the view named no keys
        ("get", "/articles/a/", 200, []),
        ("post", "/articles/a/", 200, ("article-1",)),
        ("get", "/articles/a/", 500, ("article-1",)),
        ("get", "/articles/a/", 302, ("article-1",)),
        ("get", "/admin/articles/", 200, ("article-1",)),
        ("get", "/api/v1/articles/", 200, ("article-1",)),
    ],
)
def test_middleware_leaves_everything_else_as_the_view_made_it(anonymous, method, path, status, keys):
    response = run_middleware(anonymous(method, path), status=status, keys=keys)
    assert "xkey" not in response
    assert response["Cache-Control"] == "public, no-cache"


def test_middleware_never_tags_a_logged_in_readers_page(anonymous, django_user_model, db):
    request = anonymous()
    request.user = django_user_model.objects.create_user("reader")
    response = run_middleware(request)
    assert "xkey" not in response
    assert response["Cache-Control"] == "public, no-cache"


def test_the_middleware_sit_where_they_see_what_they_must():
    """Tagging just inside conditional GET (a 304 copies the tagged Cache-Control) and outside CSRF
    (its cookie); the guard outside every middleware that sets a cookie."""
    middleware = settings.MIDDLEWARE
    tagging = middleware.index("contentsite.proxy.SurrogateKeyMiddleware")
    assert middleware[tagging - 1] == "contentsite.middleware.ConditionalGetMiddleware"
    assert middleware.index("django.middleware.csrf.CsrfViewMiddleware") > tagging
    guard = middleware.index("contentsite.proxy.ProxyCookieGuardMiddleware")
    for setting_cookies in (
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ):
        assert middleware.index(setting_cookies) > guard, setting_cookies


def test_the_guard_keeps_a_tagged_response_that_sets_a_cookie_from_shared_caches():
    response = proxy.tag(HttpResponse("page"), ["article-1"])
    response.set_cookie("sessionid", "x")
    response = proxy.ProxyCookieGuardMiddleware(lambda request: response)(RequestFactory().get("/"))
    assert "xkey" not in response
    assert response["Cache-Control"] == "private, no-cache"
    untouched = proxy.tag(HttpResponse("page"), ["article-1"])
    assert proxy.ProxyCookieGuardMiddleware(lambda request: untouched)(RequestFactory().get("/")) is untouched
    assert "s-maxage" in untouched["Cache-Control"]


@override_settings(ROOT_URLCONF="tests.proxy_urls")
def test_a_page_that_names_keys_is_tagged_through_the_whole_stack(client, db):
    response = client.get("/proxy-test/article-9/")
    assert response["xkey"] == "article-9 index"
    assert response["Cache-Control"].startswith("public, max-age=0, s-maxage=")
    response = client.get("/proxy-test-cookie/article-9/")
    assert "xkey" not in response


@override_settings(ROOT_URLCONF="tests.proxy_urls")
def test_a_revalidated_page_keeps_its_proxy_policy(client, db):
    """ConditionalGetMiddleware gives the page its ETag and answers 304 below the tagging."""
    response = client.get("/proxy-test-unchanging/article-9/")
    assert response["xkey"] == "article-9"
    revalidated = client.get("/proxy-test-unchanging/article-9/", headers={"if-none-match": response["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated["Cache-Control"] == response["Cache-Control"]
    assert "no-cache" not in revalidated["Cache-Control"]


# --- purge() ------------------------------------------------------------------------------


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proxy, "PURGE_BACKOFF_SECONDS", 0)


def test_purge_without_a_proxy_does_nothing(recording_proxy, caplog):
    caplog.set_level(logging.INFO, logger="contentsite.proxy")
    assert settings.PROXY_PURGE_URLS == []
    proxy.purge(["article-1"])
    assert recording_proxy.requests == []
    assert caplog.records == []


def test_purge_sends_every_proxy_one_purge_with_the_keys(recording_proxy, settings, caplog):
    caplog.set_level(logging.INFO, logger="contentsite.proxy")
    settings.PROXY_PURGE_URLS = [recording_proxy.url, recording_proxy.url + "/"]
    proxy.purge(["article-1", "index", "article-1"])
    assert recording_proxy.requests == [("PURGE", "/", "article-1 index")] * 2
    assert [(r.levelname, recording_proxy.url in r.getMessage()) for r in caplog.records] == [("INFO", True)] * 2


def test_purge_splits_many_keys_over_several_requests(recording_proxy, settings):
    settings.PROXY_PURGE_URLS = [recording_proxy.url]
    keys = [proxy.article_key(n) for n in range(1500)]
    proxy.purge(keys)
    sent = [header.split(" ") for _, _, header in recording_proxy.requests]
    assert len(sent) > 1
    assert all(len(" ".join(chunk)) <= proxy.MAX_HEADER_CHARS for chunk in sent)
    assert [key for chunk in sent for key in chunk] == keys


def test_purge_of_a_key_that_is_not_a_token_purges_index_too(recording_proxy, settings, caplog):
    settings.PROXY_PURGE_URLS = [recording_proxy.url]
    proxy.purge(["article-1", "two words"])
    assert recording_proxy.requests == [("PURGE", "/", "article-1 index")]
    assert any(r.levelname == "ERROR" and "two words" in r.getMessage() for r in caplog.records)


def test_a_dead_proxy_is_retried_logged_and_never_raised(recording_proxy, settings, caplog, no_backoff):
    dead = f"http://127.0.0.1:{free_port()}"
    settings.PROXY_PURGE_URLS = [dead, recording_proxy.url]
    proxy.purge(["article-5"])
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert dead in errors[0]
    assert "article-5" in errors[0]
    assert f"after {proxy.PURGE_ATTEMPTS} attempts" in errors[0]
    # The proxy that answers still gets its purge.
    assert recording_proxy.requests == [("PURGE", "/", "article-5")]


def test_a_proxy_that_refuses_is_retried_then_logged(recording_proxy, settings, caplog, no_backoff):
    recording_proxy.status = 403
    settings.PROXY_PURGE_URLS = [recording_proxy.url]
    proxy.purge(["article-5"])
    assert len(recording_proxy.requests) == proxy.PURGE_ATTEMPTS
    assert any(r.levelname == "ERROR" and "HTTP 403" in r.getMessage() for r in caplog.records)


def test_purge_runs_on_commit_and_never_raises(settings, caplog, no_backoff, django_capture_on_commit_callbacks, db):
    settings.PROXY_PURGE_URLS = [f"http://127.0.0.1:{free_port()}", "http://[not-a-url"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        transaction.on_commit(lambda: proxy.purge(["article-1"]))
    assert len(callbacks) == 1
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == 2


# --- The settings' system checks ---------------------------------------------------------------


def check_ids(**overrides: Any) -> list[str]:
    with override_settings(**overrides):
        return [message.id for message in check_proxy_settings(None)]


def test_the_default_proxy_settings_pass_the_checks():
    assert check_ids() == []
    assert check_ids(PROXY_PURGE_URLS=["http://127.0.0.1:6081", "https://cache.internal/"]) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"PROXY_PURGE_URLS": ["127.0.0.1:6081"]}, "contentsite.E001"),
        ({"PROXY_PURGE_URLS": ["ftp://cache"]}, "contentsite.E001"),
        ({"PROXY_PURGE_URLS": ["http://"]}, "contentsite.E001"),
        ({"PROXY_PURGE_URLS": ["http://cache:99999"]}, "contentsite.E001"),
        ({"PROXY_PURGE_URLS": ["http://cache/?x=1"]}, "contentsite.E001"),
        ({"PROXY_PURGE_URLS": "http://cache"}, "contentsite.E001"),
        ({"PROXY_PURGE_TIMEOUT_SECONDS": 0}, "contentsite.E002"),
        ({"PROXY_PURGE_TIMEOUT_SECONDS": -1}, "contentsite.E002"),
        ({"PROXY_PURGE_TIMEOUT_SECONDS": 600}, "contentsite.E002"),
        ({"PROXY_PAGE_MAX_AGE": -1}, "contentsite.E003"),
        ({"PROXY_STALE_WHILE_REVALIDATE": -1}, "contentsite.E004"),
        ({"PROXY_STALE_IF_ERROR": -1}, "contentsite.E005"),
        ({"PROXY_STALE_IF_ERROR": "1d"}, "contentsite.E005"),
    ],
)
def test_the_checks_refuse_bad_proxy_settings(overrides, expected):
    assert check_ids(**overrides) == [expected]


def test_manage_check_reports_a_bad_proxy_setting_from_the_environment():
    from tests.test_settings import manage

    result = manage("check", PROXY_PURGE_URLS="cache.internal:6081", PROXY_PAGE_MAX_AGE="-5")
    assert result.returncode != 0
    assert "contentsite.E001" in result.stderr
    assert "contentsite.E003" in result.stderr


# --- Varnish ----------------------------------------------------------------------------------


def require_varnishd() -> None:
    if not Path(VARNISHD).exists():
        message = (
            f"varnishd not found at {VARNISHD}: install Debian's varnish and varnish-modules "
            "(apt-get install -y varnish varnish-modules)."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def render_vcl(directory: Path, host: str, port: int) -> Path:
    """The deployed VCL with its backend pointed at ``host:port``."""
    text = VCL.read_text()
    assert text.count(BACKEND_LINES) == 1, "deploy/varnish/default.vcl's backend lines moved; update the tests"
    path = directory / "default.vcl"
    path.write_text(text.replace(BACKEND_LINES, f'    .host = "{host}";\n    .port = "{port}";\n'))
    return path


def test_the_vcl_compiles(tmp_path):
    require_varnishd()
    vcl = render_vcl(tmp_path, "127.0.0.1", 8000)
    result = subprocess.run(
        [VARNISHD, "-C", "-j", "none", "-n", str(tmp_path / "instance"), "-f", str(vcl)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_vcl_reads_as_large_a_body_as_the_app_takes():
    """The VCL reads a request's body whole, up to ``proxy.MAX_REQUEST_BODY_BYTES``, and refuses a larger one: its
    two spellings of that limit are the constant's, and the app's own limits fit under it."""
    text = VCL.read_text()
    mebibytes = proxy.MAX_REQUEST_BODY_BYTES // (1024 * 1024)
    assert mebibytes * 1024 * 1024 == proxy.MAX_REQUEST_BODY_BYTES
    assert f"std.cache_req_body({mebibytes}MB)" in text
    assert f"std.integer(req.http.Content-Length, 0) > {proxy.MAX_REQUEST_BODY_BYTES}" in text
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < proxy.MAX_REQUEST_BODY_BYTES
    assert settings.ARTICLE_IMPORT_MAX_BYTES < proxy.MAX_REQUEST_BODY_BYTES


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def cache(self) -> str | None:
        return self.headers.get("X-Cache")


class Varnish:
    """varnishd in the foreground, in its own process group, in front of one backend."""

    def __init__(self, directory: Path, backend_url: str) -> None:
        backend = urlsplit(backend_url)
        host = "127.0.0.1" if backend.hostname == "localhost" else backend.hostname
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "varnishd.log"
        vcl = render_vcl(directory, host, backend.port)
        command = [
            VARNISHD,
            "-F",  # foreground: the process we start is the one we stop
            "-j",  # no privilege separation: the tests run as whoever they run as (root in CI)
            "none",
            "-n",
            str(directory / "instance"),
            "-a",
            f"127.0.0.1:{self.port}",
            "-f",
            str(vcl),
            "-s",
            "malloc,32m",
            "-p",
            "vsl_space=1M",
        ]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"varnishd exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if self.get("/robots.txt").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"varnishd did not answer in time:\n{self.log.read_text()[-3000:]}")

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read().decode("utf-8", "replace"))
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, {name.replace("_", "-"): value for name, value in headers.items()})

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=START_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def varnish(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Varnish]:
    """Varnish with the deployed VCL in front of pytest-django's live server (which shares the test database)."""
    require_varnishd()
    instance = Varnish(tmp_path_factory.mktemp("varnish"), live_server.url)
    try:
        instance.wait_until_ready()
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def proxied(varnish: Varnish, settings: Any, transactional_db: Any) -> Varnish:
    """The proxy, with the app purging it; each test uses addresses of its own (the cache outlives a test)."""
    settings.PROXY_PURGE_URLS = [varnish.url]
    settings.ROOT_URLCONF = "tests.proxy_urls"
    return varnish


def test_a_tagged_page_is_kept_until_its_key_is_purged(proxied):
    first = proxied.get("/proxy-test/article-101/")
    second = proxied.get("/proxy-test/article-101/")
    assert (first.status, first.cache, second.status, second.cache) == (200, "MISS", 200, "HIT")
    assert second.body == first.body
    assert "xkey" not in second.headers  # the keys are for the proxy, not for readers
    assert second.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")

    proxy.purge([proxy.article_key(101)])
    third = proxied.get("/proxy-test/article-101/")
    assert (third.status, third.cache) == (200, "MISS")
    assert third.body != first.body


def test_a_page_on_its_way_to_the_proxy_when_its_key_is_purged_is_not_kept(proxied):
    """Found from outside (gunicorn, Varnish, a medication changed while readers asked for its articles): a page the
    app rendered before the change committed reached Varnish after the change's purge, so the purge found nothing to
    drop and Varnish kept the old page, served as a HIT 1.9 s and 7 s after the change had returned to its writer
    (for up to s-maxage, 300 s, had nothing purged it again). The page may go to the readers who asked for it while
    it was live; it must not be kept."""
    from tests import proxy_urls

    key = "article-160"
    path = f"/proxy-test-held/{key}/"
    proxy_urls.held[key], proxy_urls.released[key] = threading.Event(), threading.Event()
    answers: list[Reply] = []
    reader = threading.Thread(target=lambda: answers.append(proxied.get(path)))
    reader.start()
    try:
        assert proxy_urls.held[key].wait(timeout=START_TIMEOUT_SECONDS), "the app never rendered the page"
        proxy.purge([proxy.article_key(160)])  # the change commits while the old page is on its way
    finally:
        proxy_urls.released[key].set()
        reader.join(timeout=START_TIMEOUT_SECONDS)
    (first,) = answers
    assert (first.status, first.cache) == (200, "MISS")

    after = proxied.get(path)
    assert after.status == 200
    assert (after.cache, after.body) != ("HIT", first.body), "the proxy kept the page the purge should have dropped"


def test_purging_index_drops_every_page_that_lists_articles(proxied):
    for key in ("article-102", "article-103"):
        proxied.get(f"/proxy-test/{key}/")
        assert proxied.get(f"/proxy-test/{key}/").cache == "HIT"
    proxy.purge([proxy.INDEX_KEY])
    assert [proxied.get(f"/proxy-test/{key}/").cache for key in ("article-102", "article-103")] == ["MISS", "MISS"]


def test_only_the_app_servers_may_purge(proxied):
    reply = proxied.request("PURGE", "/", {"xkey-purge": "index"})
    assert (reply.status, reply.body) == (200, f"Purged {reply.body.split()[-1]}\n")
    assert proxied.request("PURGE", "/", {}).status == 400


def test_static_files_are_kept(proxied):
    first, second = proxied.get("/static/css/site.css"), proxied.get("/static/css/site.css")
    assert (first.status, first.cache, second.status, second.cache) == (200, "MISS", 200, "HIT")
    assert second.body == first.body


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/admin/login/", {}),
        ("/api/v1/articles/", {"Authorization": "Api-Key not-a-real-key"}),
        ("/api/v1/articles/", {}),
        ("/proxy-test/article-104/", {"Authorization": "Basic eDp5"}),
        ("/proxy-test/article-105/", {"Cookie": "sessionid=abc; other=1"}),
        ("/healthz", {}),
        ("/readyz", {}),
    ],
)
def test_the_admin_the_api_and_logged_in_readers_are_never_cached(proxied, path, headers):
    replies = [proxied.get(path, **headers) for _ in range(2)]
    assert [reply.cache for reply in replies] == ["PASS", "PASS"], [reply.status for reply in replies]


def test_a_page_that_sets_a_cookie_is_never_kept(proxied):
    replies = [proxied.get("/proxy-test-cookie/article-106/") for _ in range(2)]
    assert [(reply.status, reply.cache) for reply in replies] == [(200, "MISS"), (200, "MISS")]
    assert replies[1].body != replies[0].body  # rendered again


def test_a_response_the_app_did_not_mark_cacheable_is_never_kept(proxied):
    replies = [proxied.get("/robots.txt") for _ in range(2)]
    assert [(reply.status, reply.cache) for reply in replies] == [(200, "MISS"), (200, "MISS")]


def test_every_reply_carries_its_own_request_id(proxied):
    first = proxied.get("/proxy-test/article-108/")
    second = proxied.get("/proxy-test/article-108/", X_Request_ID="lb-0042")
    assert second.cache == "HIT"
    assert first.headers["X-Request-ID"].startswith("varnish-")
    assert second.headers["X-Request-ID"] == "lb-0042"


def test_other_cookies_do_not_split_or_bypass_the_cache(proxied):
    first = proxied.get("/proxy-test/article-107/", Cookie="csrftoken=abc")
    second = proxied.get("/proxy-test/article-107/", Cookie="_ga=1")
    assert (first.cache, second.cache) == ("MISS", "HIT")


def test_past_its_s_maxage_a_kept_page_is_still_served_while_the_app_answers_503(proxied, settings):
    """stale-if-error: while the app servers fail (a database outage is a 503), readers get the old page."""
    from tests import proxy_urls

    settings.PROXY_PAGE_MAX_AGE, settings.PROXY_STALE_WHILE_REVALIDATE = 1, 0
    url = "/proxy-test-failing/article-108/"
    kept = proxied.get(url)
    assert (kept.status, kept.cache) == (200, "MISS")
    proxy_urls.failing.add("article-108")
    try:
        deadline = time.monotonic() + 30
        while True:  # until Varnish has had to ask the failing app again
            reply = proxied.get(url)
            assert (reply.status, reply.body) == (200, kept.body)
            if int(reply.headers.get("Age", "0")) >= 3 and "article-108" in proxy_urls.failed:
                break
            assert time.monotonic() < deadline, "Varnish never asked the failing app again"
            time.sleep(0.2)
    finally:
        proxy_urls.failing.discard("article-108")


def test_a_kept_page_is_not_served_past_the_scheduled_change_it_shows_even_while_the_app_fails(proxied, settings):
    """Found from outside (helper): a page showing an article with a scheduled revision was kept past the revision's
    time when the app failed then (stale-if-error, a day), so during a database outage readers got the revision a
    clinician had scheduled to be replaced. README: such a page is kept "(stale copies included) no later than that
    time"."""
    from django.utils import timezone

    from tests import proxy_urls

    url = "/proxy-test-failing/article-109/"
    at = timezone.now() + datetime.timedelta(seconds=3)
    proxy_urls.changes_at["article-109"] = at
    try:
        kept = proxied.get(url)
        assert (kept.status, kept.cache, proxied.get(url).cache) == (200, "MISS", "HIT")
        assert proxy.UNTIL_HEADER not in kept.headers  # for the proxy only
        proxy_urls.failing.add("article-109")
        while timezone.now() < at + datetime.timedelta(milliseconds=300):
            time.sleep(0.1)
        reply = proxied.get(url)
        assert reply.status == 503, (reply.status, reply.headers.get("Age"), reply.body[:200])
        assert "article-109" in proxy_urls.failed  # asked, and it failed: the kept page was not served instead
    finally:
        proxy_urls.failing.discard("article-109")
        proxy_urls.changes_at.pop("article-109", None)


@pytest.fixture(scope="module")
def varnish_without_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Varnish]:
    """Varnish with the deployed VCL in front of an app server that does not answer (stopped, every one of them)."""
    require_varnishd()
    instance = Varnish(tmp_path_factory.mktemp("varnish-no-app"), f"http://127.0.0.1:{free_port()}")
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert instance.process.poll() is None, instance.log.read_text()[-3000:]
            try:
                instance.get("/robots.txt")
                break
            except OSError:
                assert time.monotonic() < deadline, instance.log.read_text()[-3000:]
                time.sleep(0.2)
        yield instance
    finally:
        instance.stop()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/articles/?limit=5", None),
        ("GET", "/api/v1/articles/a-slug/", None),
        ("POST", "/api/v1/pathways/a-pathway/evaluate/", '{"answers": {}}'),
    ],
)
def test_with_no_app_server_answering_the_api_is_its_documented_503_problem(varnish_without_app, method, path, body):
    """Found as a partner through the shipped VCL with every app server stopped: the partner API answered Varnish's
    HTML "Guru Meditation" page, where the schema promises every error as an RFC 9457 problem detail (503: `code`
    `unavailable`, `Retry-After`)."""
    connection = http.client.HTTPConnection("127.0.0.1", varnish_without_app.port, timeout=30)
    headers = {"Authorization": "Api-Key abcdefgh.not-a-real-key", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
    finally:
        connection.close()
    assert response.status == 503, text
    assert response.headers["Content-Type"] == "application/problem+json", text
    assert response.headers["Retry-After"].isdigit()
    assert "no-store" in response.headers["Cache-Control"]
    problem = json.loads(text)
    assert problem == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The service is temporarily unavailable. Please try again later (see Retry-After).",
        "instance": path.partition("?")[0],
        "code": "unavailable",
    }


@pytest.mark.parametrize("byte_range", ["bytes=0-10", "bytes=99999-", "bytes=-5"])
def test_the_api_answers_a_range_through_the_proxy_as_it_does_directly(proxied, live_server, api_key, byte_range):
    """Found as a partner sending `Range` through the shipped VCL: Varnish cut the API's 200 itself, a `206` with a
    piece of the JSON or a `416`, neither in the schema, where the app (and so a partner talking to it directly)
    answers the whole document. The API's answers are the app's, whatever the proxy could do with them."""
    headers = {"Authorization": f"Api-Key {api_key}", "Range": byte_range}
    reply = proxied.get("/api/v1/medications/", **headers)
    direct = http.client.HTTPConnection("127.0.0.1", urlsplit(live_server.url).port, timeout=30)
    try:
        direct.request("GET", "/api/v1/medications/", headers=headers)
        answer = direct.getresponse()
        body = answer.read().decode()
    finally:
        direct.close()
    assert (answer.status, reply.status) == (200, 200), reply.body
    assert reply.body == body
    assert json.loads(reply.body)["results"] == []


class _BodyRecordingHandler(http.server.BaseHTTPRequestHandler):
    """An app server that notes each request when it starts reading it and when it has its whole body."""

    def do_GET(self) -> None:  # the probe (/healthz) and /robots.txt
        self._answer(b"")

    def do_POST(self) -> None:
        self.server.started.append(self.path)  # type: ignore[attr-defined]
        self._answer(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def _answer(self, body: bytes) -> None:
        self.server.bodies.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def varnish_before_a_recording_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Varnish, Any]]:
    require_varnishd()
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BodyRecordingHandler)
    app.started, app.bodies = [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=app.serve_forever, daemon=True)
    thread.start()
    instance = Varnish(tmp_path_factory.mktemp("varnish-recording"), f"http://127.0.0.1:{app.server_address[1]}")
    try:
        instance.wait_until_ready()
        yield instance, app
    finally:
        instance.stop()
        app.shutdown()
        app.server_close()


@pytest.mark.parametrize("path", ["/api/v1/pathways/a-pathway/evaluate/", "/triage/a-pathway/"])
def test_an_app_server_is_not_asked_until_the_whole_body_has_come(varnish_before_a_recording_app, path):
    """Found as a hostile client through the shipped VCL, against gunicorn's 2 sync workers: two POSTs (with any
    `Authorization: Api-Key ...`, valid or not) that declared a body and sent it one byte a second held both workers
    reading it, so every other request waited 30 s for a 503, the health probe too, and then the app server was
    sick for everyone. Varnish now reads a request's whole body before it asks an app server."""
    varnish, app = varnish_before_a_recording_app
    body = b'{"answers": {}}'
    connection = socket.create_connection(("127.0.0.1", varnish.port), timeout=30)
    try:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Api-Key not.real\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:5]
        )
        for byte in body[5:-1]:  # a slow client: the rest of the body comes a byte at a time
            time.sleep(0.2)
            connection.sendall(bytes([byte]))
        assert path not in app.started, "the app server was asked before the body had come"
        connection.sendall(body[-1:])
        reply = connection.recv(65536)
    finally:
        connection.close()
    assert reply.startswith(b"HTTP/1.1 200 "), reply[:300]
    assert app.started.count(path) == 1
    assert body in app.bodies


def test_a_body_too_large_to_read_is_the_apis_413_problem_before_an_app_server_is_asked(varnish_before_a_recording_app):
    varnish, app = varnish_before_a_recording_app
    path = "/api/v1/pathways/a-large-body/evaluate/"
    connection = socket.create_connection(("127.0.0.1", varnish.port), timeout=30)
    try:
        connection.sendall(
            f"POST {path}?x=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Api-Key not.real\r\n"
            "Content-Type: application/json\r\nContent-Length: 4000000\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        reply = b""
        while b"}" not in reply:
            received = connection.recv(65536)
            assert received, reply
            reply += received
    finally:
        connection.close()
    head, _, body = reply.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), reply[:300]
    assert b"\r\nContent-Type: application/problem+json\r\n" in head
    assert json.loads(body) == {
        "type": "about:blank",
        "title": "Request Entity Too Large",
        "status": 413,
        "detail": "The request body is larger than 2,000,000 bytes.",
        "instance": path,
        "code": "request_too_large",
    }
    assert path not in app.started


def test_a_published_article_is_kept_then_replaced_on_publish_and_gone_on_withdrawal(proxied, workflow, publisher):
    """The acceptance test: the workflow's on-commit hook purges the article's keys (articles/live.py)."""
    document = demo_document()
    live = workflow.live(document)
    url = f"/articles/{live.article.slug}/"
    first, second = proxied.get(url), proxied.get(url)
    assert (first.status, second.status) == (200, 200)
    assert (first.cache, second.cache) == ("MISS", "HIT")
    assert document["revision"]["title"] in second.body

    title = "Amlodipine and nerve damage: updated advice"
    replacement = workflow.live(changed(document, **{"revision.title": title, "revision.change_summary": "New title."}))
    after_publish = proxied.get(url)
    assert after_publish.status == 200
    assert title in after_publish.body

    services.revision_withdraw(revision=replacement, actor=publisher, reason="Under review.")
    assert proxied.get(url).status == 410


def test_a_scheduled_revision_is_shown_through_the_proxy_from_its_time_without_any_job(proxied, workflow):
    """README: "A scheduled revision is live from its time on every page ... even if no job runs". The proxy kept the
    page for its whole s-maxage (300 s), past the scheduled time, until ``publish_scheduled`` purged it."""
    from django.utils import timezone

    document = article_document(slug="proxy-scheduled")  # an address of its own: the proxy outlives a test
    live = workflow.live(document)
    url = f"/articles/{live.article.slug}/"
    title = "Testamol and nerve damage: scheduled advice"
    at = timezone.now() + datetime.timedelta(seconds=4)
    edited = changed(document, **{"revision.title": title, "revision.change_summary": "Scheduled."})
    scheduled = workflow.take_live(workflow.draft(edited), publish_at=at)
    before, kept = proxied.get(url), proxied.get(url)
    assert (before.status, kept.status, kept.cache) == (200, 200, "HIT")
    assert title not in kept.body
    while timezone.now() < at + datetime.timedelta(milliseconds=300):
        time.sleep(0.1)
    after = proxied.get(url)
    assert after.status == 200
    assert title in after.body
    scheduled.refresh_from_db()
    assert scheduled.state == "scheduled"  # nothing recorded it and nothing purged


def test_a_withdrawn_article_republished_at_a_scheduled_time_is_shown_through_the_proxy_from_its_time(
    proxied, workflow, publisher
):
    """Found from outside: the 410 of a withdrawn article said s-maxage=300 whatever was scheduled, so the proxy went
    on answering "withdrawn" for up to five minutes after a republication's time."""
    from django.utils import timezone

    document = article_document(slug="proxy-republished")  # an address of its own: the proxy outlives a test
    live = workflow.live(document)
    url = f"/articles/{live.article.slug}/"
    services.revision_withdraw(revision=live, actor=publisher, reason="Under review.")
    title = "Testamol and nerve damage: back again"
    at = timezone.now() + datetime.timedelta(seconds=4)
    edited = changed(document, **{"revision.title": title, "revision.change_summary": "Back."})
    workflow.take_live(workflow.draft(edited), publish_at=at)
    gone, kept = proxied.get(url), proxied.get(url)
    assert (gone.status, kept.status, kept.cache) == (410, 410, "HIT")
    while timezone.now() < at + datetime.timedelta(milliseconds=300):
        time.sleep(0.1)
    back = proxied.get(url)
    assert back.status == 200
    assert title in back.body


@pytest.mark.parametrize(
    ("condition", "slug"),
    [
        ({"If-Match": '"not-this-version"'}, "proxy-if-match"),
        ({"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, "proxy-if-unmodified-since"),
        ({"If-None-Match": "*", "If-Match": '"not-this-version"'}, "proxy-if-match-and-none-match"),
    ],
)
def test_a_precondition_is_judged_by_the_app_never_answered_from_the_kept_copy(proxied, workflow, condition, slug):
    """Varnish judges only If-None-Match and If-Modified-Since against a kept page: it answered a hit's 200 (or
    304) to a precondition that the page refuses, where the app answers 412 (RFC 9110, 13.1.1 and 13.1.4)."""
    live = workflow.live(article_document(slug=slug))  # an address of its own: the proxy outlives a test
    url = f"/articles/{live.article.slug}/"
    assert [proxied.get(url).cache, proxied.get(url).cache] == ["MISS", "HIT"]

    refused = proxied.request("GET", url, condition)

    assert refused.status == 412
    assert proxied.get(url).cache == "HIT", "the kept page is still served to everyone else"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_with_no_app_server_answering_a_reader_gets_the_sites_own_503_with_the_numbers_to_call(
    varnish_without_app, method
):
    """A frightened reader on a phone, the app servers all down and the page not kept: not Varnish's "Guru
    Meditation" page (no language, no viewport, no advice) but a page in plain words that says when to come back,
    that an answer sent was not received, and whom to call in an emergency; never kept, with ``Retry-After``."""
    reply = varnish_without_app.request(method, "/triage/", {"Content-Length": "0"} if method == "POST" else {})
    assert reply.status == 503
    assert reply.headers["Retry-After"] == str(settings.OUTAGE_RETRY_AFTER_SECONDS)
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Guru Meditation" not in reply.body and "Backend fetch failed" not in reply.body
    assert '<html lang="en-GB">' in reply.body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in reply.body
    assert "<h1>This page is temporarily unavailable</h1>" in reply.body
    assert "Nothing is wrong with your device or connection." in reply.body
    emergency = settings.TRIAGE_EMERGENCY_NUMBER
    assert f'In an emergency, call <a href="tel:{emergency}">{emergency}</a>.' in reply.body
    assert 'a[href^="tel:"] { padding: 0.75rem 0.5rem;' in reply.body  # 44 px to tap, as static/css/site.css
    urgent = settings.TRIAGE_URGENT_ADVICE_NUMBER
    assert f'call {settings.TRIAGE_URGENT_ADVICE_NAME} on <a href="tel:{urgent}">{urgent}</a>' in reply.body
    not_received = "What you sent has not been received"
    assert (not_received in reply.body) == (method == "POST")


@pytest.mark.parametrize(
    "if_none_match",
    ["*", '"another", {etag}', 'W/{etag}, "another"', '"a", "b", {etag}'],
    ids=["star", "list", "weak-first", "last"],
)
def test_a_kept_page_is_a_304_to_every_if_none_match_the_app_answers_304(proxied, workflow, if_none_match):
    """Found from outside: Varnish compares If-None-Match with a kept page's ETag as one string, so a list of ETags that
    named the page's, or "*", was answered with the whole page (200) where the app answers 304 (RFC 9110, 13.1.2)."""
    live = workflow.live(article_document(slug=f"proxy-none-match-{len(if_none_match)}"))
    url = f"/articles/{live.article.slug}/"
    first, kept = proxied.get(url), proxied.get(url)
    assert kept.cache == "HIT"
    answer = proxied.get(url, If_None_Match=if_none_match.replace("{etag}", first.headers["ETag"]))
    assert (answer.status, answer.body, answer.headers["ETag"]) == (304, "", first.headers["ETag"])
    for not_this_one in ['"another", W/"another"', f"garbage{first.headers['ETag']}", f"{first.headers['ETag']}x, *"]:
        assert proxied.get(url, If_None_Match=not_this_one).status == 200, not_this_one
