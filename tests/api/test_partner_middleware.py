"""The partner API's own middleware (``settings.PARTNER_API_MIDDLEWARE``, ``contentsite.early``).

A partner's program never has a session, a CSRF token, a log-in or messages, and reads
JSON, not pages: its requests pass the middleware above ``EarlyAnswerMiddleware`` (health,
the request log, security headers) and then only the API's own list, not the browser's
session, CSRF, authentication, messages and page-policy middleware. What a partner gets
is unchanged: the same answers and problem details, a lock conflict still a 409 and a
database outage still a 503, and headers that suit JSON (a CSP that allows nothing).
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import OperationalError
from django.middleware.csrf import CsrfViewMiddleware
from django.test import Client

from tests.api import strict
from tests.conftest import PartnerClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_pathway")]

DETAIL = "/api/v1/articles/amlodipine-peripheral-neuropathy/"
EVALUATE = "/api/v1/pathways/numbness-tingling-weakness-amlodipine/evaluate/"
BROWSER_ONLY = (
    (SessionMiddleware, "process_request"),
    (CsrfViewMiddleware, "process_view"),
    (AuthenticationMiddleware, "process_request"),
    (MessageMiddleware, "process_request"),
)


def browser_middleware_refused() -> Any:
    """Every browser-only middleware fails the request if it runs (the schema the tests check against, a page
    of the full stack, is read first)."""
    strict.served_schema()
    stack = mock.patch.multiple  # one patch per class
    patches = [
        stack(cls, **{method: mock.Mock(side_effect=AssertionError(f"{cls.__name__} ran"))})
        for cls, method in BROWSER_ONLY
    ]
    for patch in patches:
        patch.start()
    return patches


@pytest.fixture
def no_browser_middleware() -> Any:
    patches = browser_middleware_refused()
    yield
    for patch in patches:
        patch.stop()


def answers(client: Client, key: str) -> dict[str, str]:
    from articles.models import Revision
    from triage.models import PATHWAY

    revision = Revision.objects.published().of_kind(PATHWAY).get(article__slug=EVALUATE.split("/")[4])
    return {question.key: "no" for question in revision.triage_questions.all()}


@pytest.mark.parametrize(
    "url", [DETAIL, "/api/v1/articles/", "/api/v1/medications/", "/api/v1/changes/", "/api/v1/pathways/", "/api/v1/"]
)
def test_partner_reads_pass_only_the_api_middleware(api: PartnerClient, no_browser_middleware: Any, url: str) -> None:
    response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    assert not hasattr(response.wsgi_request, "session")
    assert not response.cookies


def test_evaluate_passes_only_the_api_middleware(client: Client, api_key: str) -> None:
    body = {"answers": answers(client, api_key)}
    patches = browser_middleware_refused()
    try:
        response = client.post(EVALUATE, body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    finally:
        for patch in patches:
            patch.stop()
    assert response.status_code == 200, response.content[:300]
    assert response.json()["complete"] is True
    assert not response.cookies


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"HTTP_AUTHORIZATION": "Api-Key nope.nope"}, 401), ({"HTTP_ACCEPT": "text/csv"}, 406)],
)
def test_refusals_are_the_same_problem_details(
    client: Client, api_key: str, no_browser_middleware: Any, headers: dict[str, str], status: int
) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}", **headers} if status == 406 else headers
    response = client.get(DETAIL, **headers)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_unknown_api_address_is_still_the_full_stacks_404(api: PartnerClient) -> None:
    response = api.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_json_gets_headers_that_suit_json(api: PartnerClient) -> None:
    response = api.get(DETAIL)
    assert response["Content-Security-Policy"] == settings.PARTNER_API_CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Content-Length"] == str(len(response.content))


def test_the_interactive_docs_page_keeps_the_sites_policy(client: Client) -> None:
    """The docs are an HTML page for people (not a partner view): the full stack and the site's CSP."""
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] != settings.PARTNER_API_CONTENT_SECURITY_POLICY
    assert "script-src" in response["Content-Security-Policy"]


def test_a_database_outage_is_still_a_503_problem(api: PartnerClient) -> None:
    with mock.patch("contentsite.api.views.PartnerView.initial", side_effect=OperationalError("connection refused")):
        response = api.get("/api/v1/articles/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["code"] == "unavailable"


def test_a_lock_conflict_is_still_a_409_problem(api: PartnerClient) -> None:
    with mock.patch("contentsite.api.views.PartnerView.initial", side_effect=OperationalError("database is locked")):
        response = api.get("/api/v1/articles/")
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "conflict"


def test_a_host_outside_allowed_hosts_is_refused_before_anything(api: PartnerClient) -> None:
    first = api.get(DETAIL)
    for headers in ({}, {"HTTP_IF_NONE_MATCH": first["ETag"]}):
        response = api.get(DETAIL, HTTP_HOST="evil.example", **headers)
        assert response.status_code == 400


def test_a_middleware_that_opts_out_is_left_out_as_django_leaves_it(settings: Any) -> None:
    """``MiddlewareNotUsed`` at start: skipped, as Django's own loader skips it, never a crash."""
    from contentsite.early import PartnerAPIHandler

    settings.PARTNER_API_MIDDLEWARE = ["tests.api.test_partner_middleware.OptsOut", *settings.PARTNER_API_MIDDLEWARE]
    handler = PartnerAPIHandler()
    handler.load_middleware()
    assert handler._middleware_chain is not None


class OptsOut:
    def __init__(self, get_response: Any) -> None:
        from django.core.exceptions import MiddlewareNotUsed

        raise MiddlewareNotUsed
