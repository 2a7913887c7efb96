"""Logs: one JSON line per request (who, what, how long), workflow transitions and purges, 429s sampled."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from articles import services
from articles.models import Revision
from contentsite import proxy
from contentsite.logs import JsonFormatter, RepeatedWarningFilter, RequestIdFilter, TextFormatter, query_keys
from partners.models import Partner
from partners.services import partner_key_create
from tests.conftest import PartnerClient
from tests.test_settings import PRODUCTION_ENV, manage

LOGGERS = ("contentsite.requests", "articles.workflow", "contentsite.proxy")


class Lines(list[dict[str, Any]]):
    """The JSON lines logged, parsed, as production's handler writes them."""

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self if line["logger"] == "contentsite.requests"]

    def text(self) -> str:
        return "\n".join(json.dumps(line) for line in self)


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """Production's JSON formatter and filters on a handler at the root, INFO from our loggers."""
    lines = Lines()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    json_settings = {k: v for k, v in django_settings.LOGGING["formatters"]["json"].items() if k != "()"}
    handler = Collect()
    handler.setFormatter(JsonFormatter(**json_settings))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RepeatedWarningFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_production_writes_json_lines():
    assert django_settings.LOGGING["handlers"]["console"]["filters"] == ["request_id", "repeated_warnings"]
    script = (
        "import logging, django; django.setup(); "
        "logging.getLogger('contentsite.requests').warning('hello %s', 'there', extra={'status': 418})"
    )
    result = manage("shell", "-c", script, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello there"
    assert line["level"] == "WARNING"
    assert line["logger"] == "contentsite.requests"
    assert line["status"] == 418
    assert "time" in line


def test_a_public_page_request_line(client, published_article, log_lines):
    slug = published_article.article.slug
    response = client.get(f"/articles/{slug}/", {"q": "my private worry", "utm_source": "x"})
    assert response.status_code == 200
    (line,) = log_lines.requests()
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert response["X-Request-ID"] == line["request_id"]
    assert line["method"] == "GET"
    assert line["path"] == f"/articles/{slug}/"
    assert line["query_keys"] == ["q", "utm_source"]
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["partner_id"] is None
    assert line["staff_user_id"] is None
    assert line["level"] == "INFO"
    assert "private worry" not in log_lines.text()
    assert "sample_key" not in line and "_sampled" not in line


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("", []),
        ("q=chest+pain&page=2&q=again", ["page", "q"]),
        ("my+private+symptoms", ["?"]),
        ("someone%40example.org=1&updated_since=2020", ["?", "updated_since"]),
        ("mainSearchCriteria.v.c=17767", ["mainSearchCriteria.v.c"]),
        ("a=%00&&=x", ["?", "a"]),
        ("&".join(f"k{n}=1" for n in range(5000)), sorted(f"k{n}" for n in range(20))),
    ],
)
def test_only_parameter_names_of_the_query_are_logged(rf, query, keys):
    assert query_keys(rf.get("/search/", QUERY_STRING=query)) == keys


def test_a_query_django_refuses_still_gets_its_request_line(client, db, log_lines):
    response = client.get("/search/?" + "&".join(f"k{n}=1" for n in range(2000)))  # over DATA_UPLOAD_MAX_NUMBER_FIELDS
    assert response.status_code == 400
    (line,) = log_lines.requests()
    assert line["status"] == 400
    assert len(line["query_keys"]) == 20


def test_a_well_formed_request_id_is_kept_and_any_other_replaced(client, db, log_lines):
    response = client.get("/robots.txt", HTTP_X_REQUEST_ID="lb-4f1c2a9e-0001")
    assert response["X-Request-ID"] == "lb-4f1c2a9e-0001"
    response = client.get("/robots.txt", HTTP_X_REQUEST_ID="evil\nline injected")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert [line["request_id"] for line in log_lines.requests()] == ["lb-4f1c2a9e-0001", response["X-Request-ID"]]


def test_an_api_request_line_names_the_partner_never_the_key(api, api_key, partner, published_article, log_lines):
    assert api.get("/api/v1/articles/").status_code == 200
    (line,) = log_lines.requests()
    assert line["partner_id"] == partner.pk
    assert line["path"] == "/api/v1/articles/"
    assert line["staff_user_id"] is None
    assert api_key not in log_lines.text()
    assert api_key.split(".")[-1] not in log_lines.text()


def test_an_admin_request_line_names_the_staff_member_never_the_session(client, admin_user_account, log_lines):
    client.force_login(admin_user_account)
    assert client.get("/admin/").status_code == 200
    (line,) = log_lines.requests()
    assert line["staff_user_id"] == admin_user_account.pk
    assert line["partner_id"] is None
    assert client.cookies["sessionid"].value not in log_lines.text()


def test_a_refused_log_in_logs_no_password(client, db, log_lines):
    client.post("/admin/login/", {"username": "someone", "password": "hunter2-secret"})
    assert log_lines.requests()[0]["method"] == "POST"
    assert "hunter2-secret" not in log_lines.text()


def test_a_transition_is_logged_once_committed(workflow, author, django_capture_on_commit_callbacks, log_lines):
    draft = workflow.draft(slug="logged-article", medication="loggamol")
    log_lines.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.revision_submit(revision=draft, actor=author, change_summary="Logged.")
    (line,) = [line for line in log_lines if line.get("event") == "transition"]
    assert line["logger"] == "articles.workflow"
    assert line["article_id"] == draft.article_id
    assert line["revision_id"] == draft.pk
    assert (line["from_state"], line["to_state"], line["action"]) == ("draft", "in_review", "submit")
    assert line["user_id"] == author.pk


def test_a_new_draft_is_logged_as_entering_the_workflow(
    workflow, author, django_capture_on_commit_callbacks, log_lines
):
    with django_capture_on_commit_callbacks(execute=True):
        draft = workflow.draft(slug="new-draft", medication="newamol")
    (line,) = [line for line in log_lines if line.get("event") == "transition"]
    assert (line["revision_id"], line["from_state"], line["to_state"]) == (draft.pk, "", "draft")
    assert line["action"] == "create_draft"


def test_a_transition_rolled_back_is_not_logged(workflow, author, django_capture_on_commit_callbacks, log_lines):
    draft = workflow.draft(slug="rolled-back", medication="rollamol")
    log_lines.clear()

    def submit_then_fail() -> None:
        with transaction.atomic():
            services.revision_submit(revision=draft, actor=author, change_summary="Undone.")
            raise RuntimeError("the request failed after the step")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        submit_then_fail()
    assert [line for line in log_lines if line.get("event") == "transition"] == []
    assert Revision.objects.get(pk=draft.pk).state == "draft"


def test_a_purge_is_logged_with_keys_and_result(recording_proxy, settings, monkeypatch, log_lines):
    purge_target = recording_proxy.url
    settings.PROXY_PURGE_URLS = [purge_target, "http://127.0.0.1:9"]  # the second refuses connections
    monkeypatch.setattr(proxy, "PURGE_BACKOFF_SECONDS", 0)
    proxy.purge(["article-7", "index"])
    purged, failed = [line for line in log_lines if line.get("event") == "purge"]
    assert (purged["proxy"], purged["keys"], purged["result"], purged["level"]) == (
        purge_target,
        ["article-7", "index"],
        "purged",
        "INFO",
    )
    assert (failed["keys"], failed["result"], failed["level"]) == (["article-7", "index"], "failed", "ERROR")


def test_a_hundred_429s_give_a_handful_of_lines(api, partner, published_article, settings, log_lines):
    settings.PARTNER_API_RATE = "1/minute"
    statuses = [api.get("/api/v1/articles/").status_code for _ in range(101)]
    assert statuses == [200] + [429] * 100
    assert len(log_lines) <= 5, log_lines
    (limited,) = [line for line in log_lines.requests() if line["status"] == 429]
    assert limited["partner_id"] == partner.pk
    assert limited["level"] == "WARNING"
    # Another partner's first 429 is its own line.
    other = Partner.objects.create(name="Other partner", rate_limit="1/minute")
    _, key = partner_key_create(partner=other, name="other key")
    other_client = PartnerClient(api.client, key)
    assert [other_client.get("/api/v1/articles/").status_code for _ in range(3)] == [200, 429, 429]
    assert [line["partner_id"] for line in log_lines.requests() if line["status"] == 429] == [partner.pk, other.pk]


def test_repeated_warnings_are_let_through_once_an_interval_with_a_count():
    now = [0.0]
    sampler = RepeatedWarningFilter(interval=60, clock=lambda: now[0])

    def warning(*args: Any, **extra: Any) -> logging.LogRecord:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "Cache down: %s", args, None)
        record.__dict__.update(extra)
        return record

    kept = [sampler.filter(warning("redis")) for _ in range(50)]
    assert kept == [True] + [False] * 49
    assert sampler.filter(warning("another message"))  # different arguments: a different warning
    now[0] = 61.0
    record = warning("redis")
    assert sampler.filter(record)
    assert record.repeated == 49
    assert record.getMessage() == "Cache down: redis"  # shared by every handler: never rewritten
    assert TextFormatter("%(message)s").format(record) == "Cache down: redis (and 49 more like it)"
    assert json.loads(JsonFormatter("%(message)s").format(record))["repeated"] == 49
    error = logging.LogRecord("x", logging.ERROR, __file__, 1, "Cache down: %s", ("redis",), None)
    assert all(sampler.filter(error) for _ in range(3))  # errors are never sampled
    assert sampler.filter(warning("a", sample_key=("limited", 1)))
    assert not sampler.filter(warning("b", sample_key=("limited", 1)))  # same key, other text: one run


def test_the_sampler_forgets_the_oldest_runs_past_its_bound():
    sampler = RepeatedWarningFilter(max_keys=10)
    for n in range(100):
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "warning %s", (n,), None)
        assert sampler.filter(record)
    assert len(sampler._runs) <= 10


def test_every_api_request_line_names_the_partner_whichever_path_answered_it(
    client, api, partner, published_pathway, log_lines
):
    """A 304 decided before (``PartnerView.not_modified_early``) and an evaluation decided before
    (``PathwayEvaluate.answer_as_decided``) make no DRF request, which is what names the partner on the Django
    request: their lines name the partner as every other line does."""
    detail = "/api/v1/articles/amlodipine-peripheral-neuropathy/"
    etag = api.get(detail)["ETag"]
    assert [api.get(detail, HTTP_IF_NONE_MATCH=etag).status_code for _ in range(3)] == [304] * 3
    evaluate = f"/api/v1/pathways/{published_pathway.article.slug}/evaluate/"
    body = {"answers": {"stroke": "no"}}
    for _ in range(3):
        response = client.post(evaluate, body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api.key}")
        assert response.status_code == 200
    lines = log_lines.requests()
    assert [line["status"] for line in lines] == [200, 304, 304, 304, 200, 200, 200]
    assert [line["partner_id"] for line in lines] == [partner.pk] * 7
