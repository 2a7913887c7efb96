from __future__ import annotations

import contextlib
import copy
import datetime
import http.server
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.test import Client

from articles import services
from articles.content_checks import check_revision
from articles.interchange.export import revision_content
from articles.interchange.importer import load_document
from articles.memo import forget_all as forget_memos
from articles.models import ReviewerProfile, Revision
from contentsite import proxy
from contentsite.cache import forget_failures
from contentsite.handlers import get_wsgi_application
from contentsite.logs import forget_repeated_warnings
from contentsite.outages import forget_outage_logs
from feedback.throttling import fallback as feedback_fallback_counts
from partners.admission import forget_counters
from partners.models import Partner
from partners.services import partner_key_create
from partners.throttling import fallback as fallback_counts
from tests.factories import article_document, demo_document
from tests.outages import RedisServer, redis_cache


@pytest.fixture(autouse=True)
def _postgresql_only(request: pytest.FixtureRequest) -> None:
    """Tests marked ``postgresql`` need real row locks and concurrent connections."""
    if request.node.get_closest_marker("postgresql") and connection.vendor != "postgresql":
        message = "needs PostgreSQL: run with DATABASE_URL=postgres://..."
        if os.environ.get("EXPECT_DATABASE_VENDOR") == "postgresql":
            pytest.fail(message)
        pytest.skip(message)


# The fixtures through which a test reaches the suite's database: ``live_server`` asks for it only as it runs (not
# through ``django_db_setup``). (``django_db_blocker`` is every test's, through pytest-django's own autouse fixtures.)
_SUITE_DATABASE_FIXTURES = frozenset({"django_db_setup", "db", "transactional_db", "live_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test marked ``own_servers`` runs in only one of CI's two passes (.ci/run), which is right only while it
    never touches the suite's own database: refuse one that asks for it (``db``, ``live_server``, ``django_db``)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("own_servers") and (
            item.get_closest_marker("django_db") or fixtures & _SUITE_DATABASE_FIXTURES
        ):
            raise pytest.UsageError(
                f"{item.nodeid} is marked own_servers but uses the suite's database: CI would run it on one "
                "database only"
            )


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    # With REDIS_URL set the cache outlives a test's transaction; start each test clean.
    # So does the per-process memo of rendered content parts, keyed by revision id, and what
    # each process remembers of outages (the rate limit's fallback counts, the last outage lines).
    cache.clear()
    forget_memos()
    forget_outages()
    forget_counters()
    yield
    cache.clear()
    forget_memos()
    forget_outages()
    forget_counters()


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    """A redis-server of the test's own (``tests.outages``) as the cache: stop it, start it, count its commands."""
    server = RedisServer().start()
    settings.CACHES = redis_cache(server.url)
    yield server
    server.stop()


@pytest.fixture
def wsgi_app(db: Any) -> Iterator[Any]:
    """The app servers' WSGI application (``contentsite.handlers``, as ``contentsite.wsgi`` builds it, without
    its start-up checks), answering on the test's database connection.

    ``WSGIHandler`` closes "old" connections when a request starts and ends, which
    inside the test's transaction would throw the fixture data away; Django's test
    client disconnects that handler for the same reason.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _api_responses_match_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every partner API response any test receives through Django's test client is one the served
    schema describes: status, content type, headers and body (``tests/api/strict.py``)."""
    from tests.api import strict

    original = Client.request

    def request(self: Client, **environ: Any) -> Any:
        response = original(self, **environ)
        strict.check(
            response,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", ""),
            accept=environ.get("HTTP_ACCEPT", ""),
        )
        return response

    monkeypatch.setattr(Client, "request", request)


def forget_outages() -> None:
    fallback_counts.clear()
    feedback_fallback_counts.clear()
    forget_outage_logs()
    forget_repeated_warnings()
    forget_failures()


DAY = datetime.timedelta(days=1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Let time pass: ``clock.advance(timedelta)`` moves ``timezone.now()`` forward for all the code;
    ``clock.freeze()`` stops it at the start of the next second, so that only ``advance`` moves it (steps that must
    fall within one second do)."""
    from django.utils import timezone

    real_now = timezone.now

    class Clock:
        offset = datetime.timedelta()
        frozen: datetime.datetime | None = None

        def advance(self, delta: datetime.timedelta) -> None:
            self.offset += delta

        def freeze(self) -> None:
            self.frozen = real_now().replace(microsecond=0) + datetime.timedelta(seconds=1)

        def settle(self) -> None:
            """Let what changed last settle: a response is dated (``Last-Modified``) only once no later version can
            share its second (``contentsite.early.Validators.settled``). Stays within the day, which pages name."""
            from contentsite.early import last_modified_settles_after

            span = last_modified_settles_after() + datetime.timedelta(seconds=1)
            self.keep_within_one_day(span)
            self.advance(span)

        def keep_within_one_day(self, span: datetime.timedelta) -> None:
            """Move on to just after the next midnight if ``span`` from now would pass it: a page's identity names
            the day (``articles.views._live_validators``), so a test that lets time pass while a page stays the
            same would otherwise fail when run shortly before midnight."""
            now = timezone.localtime(timezone.now())
            midnight = timezone.make_aware(datetime.datetime.combine(now.date() + DAY, datetime.time.min))
            if now + span >= midnight:
                self.advance(midnight - now + datetime.timedelta(seconds=1))

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: (clock.frozen or real_now()) + clock.offset)
    return clock


@pytest.fixture
def roles(db: Any) -> None:
    """The role groups, which a data migration creates.

    Tests that need real transactions end by flushing the database, groups
    included; the browser tests cannot use serialised rollback (Playwright's
    sync API gives the test its own database connection), so the groups are
    put back the way the migration made them.
    """
    if not Group.objects.exists():
        import_module("articles.migrations.0004_roles").create_roles(django_apps, None)
        import_module("articles.migrations.0014_grant_vocabulary_permissions_to_clinical_reviewers").forwards(
            django_apps, None
        )
        import_module("feedback.migrations.0003_grant_feedback_permissions").forwards(django_apps, None)


def make_user(username: str, *groups: str, profile: bool = False, **fields: Any) -> Any:
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw", is_staff=True, **fields)
    user.groups.add(*Group.objects.filter(name__in=groups))
    if profile:
        ReviewerProfile.objects.create(
            user=user,
            display_name=f"Dr {username.title()}",
            credentials="MBBS, MRCP, test physician",
            registration_body="Test Medical Council",
            registration_number=f"T{user.pk:05d}",
        )
    return user


@pytest.fixture
def author(roles: Any) -> Any:
    return make_user("author", "Authors")


@pytest.fixture
def second_author(roles: Any) -> Any:
    return make_user("second-author", "Authors")


@pytest.fixture
def reviewer(roles: Any) -> Any:
    return make_user("reviewer", "Clinical reviewers", profile=True)


@pytest.fixture
def publisher(roles: Any) -> Any:
    return make_user("publisher", "Publishers")


@pytest.fixture
def author_reviewer(roles: Any) -> Any:
    """Someone who is both an author and a clinical reviewer."""
    return make_user("author-reviewer", "Authors", "Clinical reviewers", profile=True)


@pytest.fixture
def admin_user_account(db: Any) -> Any:
    return get_user_model().objects.create_superuser("admin-test", "admin@example.org", "pw")


def approve(revision: Revision, reviewer: Any, **kwargs: Any) -> Revision:
    """Approve, acknowledging whatever warnings the content checks raise."""
    current = Revision.objects.with_content().get(pk=revision.pk)
    kwargs.setdefault("content_hash_seen", current.content_hash)  # the reviewer read it as it is
    warnings = check_revision(current).warning_codes
    return services.revision_approve(revision=revision, actor=reviewer, acknowledged_warnings=warnings, **kwargs)


def take_live(revision: Revision, author: Any, reviewer: Any, publisher: Any, **publish: Any) -> Revision:
    """Submit, approve and publish a draft the way the workflow requires."""
    revision = services.revision_submit(
        revision=revision, actor=author, change_summary=revision.change_summary or "First version."
    )
    revision = approve(revision, reviewer)
    return services.revision_publish(revision=revision, actor=publisher, **publish)


@pytest.fixture
def workflow(author: Any, reviewer: Any, publisher: Any) -> Any:
    """Helpers bound to the role fixtures: ``workflow.draft(...)``, ``workflow.live(...)``."""

    class Workflow:
        def draft(self, document: dict[str, Any] | None = None, **kwargs: Any) -> Revision:
            return services.article_import(document=document or article_document(**kwargs), actor=author)

        def live(self, document: dict[str, Any] | None = None, **kwargs: Any) -> Revision:
            return take_live(self.draft(document, **kwargs), author, reviewer, publisher)

        def next_draft(self, live: Revision) -> Revision:
            return services.revision_create_draft(article=live.article, actor=author, based_on=live)

        def take_live(self, revision: Revision, **publish: Any) -> Revision:
            return take_live(revision, author, reviewer, publisher, **publish)

        def edited_draft(self, live: Revision, **edits: Any) -> Revision:
            """The next draft of ``live``'s article with ``edits`` to its content (``title``, ``topic``, ...)."""
            draft = self.next_draft(live)
            content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
            content.update(edits)
            services.revision_update_content(
                revision=draft, actor=draft.created_by, expected_lock_version=0, content=content
            )
            return Revision.objects.get(pk=draft.pk)

    return Workflow()


@pytest.fixture
def published_article(workflow: Any) -> Revision:
    """The demo article, taken through the whole workflow."""
    return workflow.live(demo_document())


@pytest.fixture
def publish_document(workflow: Any) -> Any:
    return workflow.live


PATHWAY_FILE = Path(__file__).resolve().parent.parent / "triage" / "demo" / "numbness-tingling-weakness-amlodipine.json"


def pathway_document() -> dict[str, Any]:
    return load_document(PATHWAY_FILE.read_bytes())


# Pathways' safety reports by their content, for the fixtures that take the same demo pathways through the workflow
# in test after test (``safety_reports_remembered``).
_SAFETY_REPORTS: dict[str, Any] = {}


@contextlib.contextmanager
def safety_reports_remembered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within it, a pathway's safety report (``triage.kind.safety_report``: the exhaustive check over every answer
    combination, run at each workflow step) is a copy of the one first worked out for the same content in this run.
    It is a pure function of the content and the combination limit (``triage.engine.check_safety``,
    ``triage.wording``), so the answer is the same; only a fixture's own setup uses this, never a test's steps."""
    from django.conf import settings

    from triage import kind

    real = kind.safety_report

    def safety_report(revision: Revision) -> Any:
        key = json.dumps([kind._content(revision), settings.TRIAGE_MAX_ANSWER_COMBINATIONS], sort_keys=True)
        if key not in _SAFETY_REPORTS:
            _SAFETY_REPORTS[key] = real(revision)
        return copy.deepcopy(_SAFETY_REPORTS[key])

    with monkeypatch.context() as patched:
        patched.setattr(kind, "safety_report", safety_report)
        yield


@pytest.fixture
def published_pathway(
    published_article: Revision, author: Any, reviewer: Any, publisher: Any, monkeypatch: pytest.MonkeyPatch
) -> Revision:
    """The demo triage pathway, taken through the whole workflow (it links to the demo article)."""
    from triage.interchange import PATHWAY_FORMAT

    with safety_reports_remembered(monkeypatch):
        draft = services.article_import(document=pathway_document(), actor=author, fmt=PATHWAY_FORMAT)
        return take_live(draft, author, reviewer, publisher)


# --- Partners ---------------------------------------------------------------------------------


@pytest.fixture
def partner(db: Any) -> Partner:
    return Partner.objects.create(name="Example clinic portal")


@pytest.fixture
def api_key(partner: Partner) -> str:
    _, key = partner_key_create(partner=partner, name="test key")
    return key


def headers_of(response: Any) -> list[tuple[str, str]]:
    """A response's headers, in order, but the values that differ from one request to the next (where the rate limit
    stands, the request's id): for holding two answers to each other."""
    return [(name, "" if name in {"RateLimit", "X-Request-ID"} else value) for name, value in response.items()]


def note_requests(monkeypatch: pytest.MonkeyPatch, method: str, mark: str) -> None:
    """Set ``mark`` on each Django request that DRF's ``APIView.<method>`` is called with."""
    from rest_framework.views import APIView

    original = getattr(APIView, method)

    def noting(self: APIView, request: Any, *args: Any, **kwargs: Any) -> Any:
        setattr(request, mark, True)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, method, noting)


@pytest.fixture
def drf_requests_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mark each request DRF made a request of (its request cycle ran): ``by_drf``."""
    note_requests(monkeypatch, "initialize_request", "drf_request_made")


def by_drf(response: Any) -> bool:
    """Whether DRF made a request of ``response``'s (``drf_requests_noted``)."""
    return getattr(response.wsgi_request, "drf_request_made", False)


class PartnerClient:
    """Speaks to the API the way a partner does: with the key header on every request."""

    def __init__(self, client: Client, key: str) -> None:
        self.client, self.key = client, key

    def get(self, url: str, data: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(url, data, HTTP_AUTHORIZATION=f"Api-Key {self.key}", **headers)

    def json(self, url: str, data: dict[str, Any] | None = None) -> Any:
        response = self.get(url, data)
        assert response.status_code == 200, (response.status_code, response.content[:500])
        return response.json()


@pytest.fixture
def api(client: Client, api_key: str) -> PartnerClient:
    return PartnerClient(client, api_key)


@dataclass
class RecordingProxy:
    """A stand-in proxy on a free loopback port that records the PURGE requests it gets."""

    status: int = 200
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def recording_proxy() -> Iterator[RecordingProxy]:
    recorded = RecordingProxy()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PURGE(self) -> None:
            recorded.requests.append((self.command, self.path, self.headers.get(proxy.PURGE_HEADER)))
            self.send_response(recorded.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorded
    finally:
        server.shutdown()
        server.server_close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """After every fixture's teardown, the test's transaction rolled back: vacuum what it loaded in bulk
    (``tests.api.bulk.vacuum_loaded``), so that no later test pays for its dead rows."""
    try:
        return (yield)
    finally:
        from tests.api.bulk import AUTOVACUUM_HELD, LOADED, vacuum_loaded

        if nextitem is None:  # the last test: its teardown dropped the test database, and no test comes after
            LOADED.clear()
            AUTOVACUUM_HELD.clear()
        elif connection.vendor == "postgresql":
            from pytest_django.plugin import blocking_manager_key

            with item.config.stash[blocking_manager_key].unblock():
                vacuum_loaded()
