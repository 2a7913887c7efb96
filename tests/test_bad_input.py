"""Bad input is a clear 4xx, never a 500 (issue 10, item 5): each case here once answered 500, 403 or 200."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from articles.models import Revision
from tests.conftest import PartnerClient

UNSAFE_METHODS = ("put", "delete", "patch", "trace")


@pytest.fixture
def csrf_client(db: Any) -> Client:
    """A client that, like a browser, gets CSRF checks (Django's test client skips them by default)."""
    return Client(enforce_csrf_checks=True)


def public_pages(article: Revision, pathway: Revision) -> dict[str, str]:
    """Every public page, by URL name, at a real address."""
    slug, medication = article.article.slug, article.article.medication.slug
    return {
        "home": reverse("articles:home"),
        "search": reverse("articles:search") + "?q=amlodipine",
        "medicine": reverse("articles:medicine", args=[medication]),
        "detail": reverse("articles:detail", args=[slug]),
        "history": reverse("articles:history", args=[slug]),
        "triage list": reverse("triage:list"),
        "triage pathway": reverse("triage:pathway", args=[pathway.article.slug]),
        "sitemap": reverse("sitemap"),
        "sitemap section": reverse("sitemap-section", args=["articles"]),
        "robots": reverse("robots"),
    }


@pytest.mark.parametrize("method", UNSAFE_METHODS)
def test_public_pages_refuse_other_methods_with_405(
    csrf_client: Client, published_article: Revision, published_pathway: Revision, method: str
) -> None:
    """405 with an Allow header, before the CSRF check (which would say 403) and never the page (200)."""
    for name, url in public_pages(published_article, published_pathway).items():
        response = csrf_client.generic(method.upper(), url)
        assert response.status_code == 405, (name, method, response.status_code)
        allowed = {part.strip() for part in response["Allow"].split(",")}
        assert {"GET", "HEAD"} <= allowed, (name, response["Allow"])
        assert allowed <= {"GET", "HEAD", "POST"}, (name, response["Allow"])


def test_public_pages_still_answer_get_and_head(
    csrf_client: Client, published_article: Revision, published_pathway: Revision
) -> None:
    for name, url in public_pages(published_article, published_pathway).items():
        assert csrf_client.get(url).status_code == 200, name
        assert csrf_client.head(url).status_code == 200, name


def test_the_triage_form_still_needs_its_csrf_token(csrf_client: Client, published_pathway: Revision) -> None:
    response = csrf_client.post(reverse("triage:pathway", args=[published_pathway.article.slug]), {})
    assert response.status_code == 403


@pytest.mark.parametrize("query", ["amlo%00dipine", "%00", "amlodipine%00"])
def test_a_nul_byte_in_the_search_is_not_a_500(client: Client, published_article: Revision, query: str) -> None:
    """PostgreSQL refuses NUL in a string literal; ``articles.search`` passes only words to it, so NUL separates."""
    response = client.get(f"/search/?q={query}")
    assert response.status_code == 200


def test_options_on_the_api_docs_is_a_405(client: Client) -> None:
    """DRF's OPTIONS metadata cannot be rendered by the docs page's template renderer: it was a 500."""
    response = client.options("/api/v1/docs/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.options("/api/v1/schema/").status_code == 200


def test_the_api_root_lists_the_endpoints(api: PartnerClient) -> None:
    body = api.json("/api/v1/")
    urls = set(body.values())
    for name in ("articles", "medications", "symptoms", "changes", "lookup", "pathways", "schema", "docs"):
        assert name in body, body
    assert "https://medsafety.example/api/v1/articles/" in urls or "http://testserver/api/v1/articles/" in urls


def test_the_api_root_needs_a_key(client: Client) -> None:
    assert client.get("/api/v1/").status_code == 401


def test_the_api_root_costs_no_query(api: PartnerClient, django_assert_num_queries: Any) -> None:
    api.get("/api/v1/")  # the key, now in the cache
    with django_assert_num_queries(0):
        assert api.get("/api/v1/").status_code == 200


# Not a whole number in ASCII digits, though ``str.isdigit`` says each is one: "²" (int() refuses it), U+0661 (Arabic-
# Indic one, which int() reads as 1: the same page at a second address), and more digits than int() will read.
NOT_ASCII_DIGITS = ["\u00b2", "\u0661", "9" * 5000]


@pytest.mark.parametrize("number", NOT_ASCII_DIGITS)
def test_a_number_in_an_address_is_ascii_digits_or_a_clear_4xx(
    client: Client, api: PartnerClient, published_article: Revision, number: str
) -> None:
    client.raise_request_exception = False
    assert client.get(reverse("sitemap-section", args=["articles"]), {"p": number}).status_code == 404
    assert api.get("/api/v1/articles/", {"limit": number}).status_code == 400
    assert api.get("/api/v1/changes/", {"after": number}).status_code == 400


@pytest.mark.parametrize("number", NOT_ASCII_DIGITS)
def test_a_number_in_an_admin_address_is_ascii_digits_or_does_not_exist(
    client: Client, admin_user_account: Any, workflow: Any, number: str
) -> None:
    live = workflow.live()
    draft = workflow.next_draft(live)
    client.force_login(admin_user_account)
    client.raise_request_exception = False
    change = client.get(f"/admin/articles/revision/{number}/change/")
    # Django's "does not exist"; Django's admin itself reads U+0661 as 1, and shows that revision (staff only).
    assert change.status_code in (302, 404) or (number == "\u0661" and change.status_code == 200), change.status_code
    diff = client.get(f"/admin/articles/revision/{draft.pk}/diff/", {"against": number})
    assert diff.status_code == 200, diff.status_code  # compared with the default, as with no choice


@pytest.mark.parametrize(
    "body",
    [
        '{"answers": {"\\ud800": "yes"}}',  # a lone surrogate as a question key
        '{"answers": {}, "\\udfff": 1}',  # and as an unknown field
        '{"answers": {"\\ud800\\udc00": "yes"}}',  # a well-formed pair: an unknown question, said so
    ],
)
def test_evaluate_names_a_key_it_cannot_use_without_failing_to_write_it(
    client: Client, api_key: str, published_pathway: Revision, body: str
) -> None:
    """The 400 repeats the key; a lone surrogate cannot be written as UTF-8, which made the problem itself a 500."""
    client.raise_request_exception = False
    response = client.post(
        f"/api/v1/pathways/{published_pathway.article.slug}/evaluate/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {api_key}",
    )
    assert response.status_code == 400, (response.status_code, response.content[:300])
    response.content.decode("utf-8")


def test_evaluate_repeats_little_of_a_large_refused_body(
    client: Client, api_key: str, published_pathway: Revision
) -> None:
    """Found from outside: every unknown key and bad value was repeated whole, so a 1.7 MB body was answered with
    10.7 MB. A refusal names a few, each cut short, and counts the rest."""
    import json

    from triage.engine import MAX_REPORTED_KEYS, MAX_SHOWN_CHARS

    answers = {f"{'k' * 300}-{n}": "yes" for n in range(3000)}
    answers["stroke"] = "x" * 100_000
    for body in ({"answers": answers}, {"answers": {}, **{f"{'f' * 300}-{n}": 1 for n in range(3000)}}):
        sent = json.dumps(body)
        response = client.post(
            f"/api/v1/pathways/{published_pathway.article.slug}/evaluate/",
            sent,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {api_key}",
        )
        assert response.status_code == 400
        assert len(response.content) < 20_000, len(response.content)
        problems = response.json()["errors"]
        assert 0 < len(problems) <= MAX_REPORTED_KEYS + 1  # the keys named, and the one bad answer
        where = [problem.get("pointer") or problem.get("field", "") for problem in problems]
        assert all(len(place) <= len("/answers/") + MAX_SHOWN_CHARS for place in where), where
        assert all(len(problem["detail"]) <= 300 for problem in problems), problems


@pytest.mark.parametrize(
    ("raw", "number"),
    [("0", 0), ("007", 7), ("9" * 19, int("9" * 19)), ("9" * 20, None), ("", None), ("-1", None), ("+1", None),
     (" 1", None), ("1_000", None), ("\u00b2", None), ("\u0661", None), (None, None)],
)  # fmt: skip
def test_a_whole_number_is_ascii_digits_and_fits_64_bits(raw: Any, number: int | None) -> None:
    """Every id, page, limit and change number the site takes fits (the change feed's ``after`` goes to 2**62)."""
    from contentsite.numbers import whole_number

    assert whole_number(raw) == number


@pytest.mark.parametrize("debug", [False, True])
def test_a_post_without_its_trailing_slash_is_sent_on_with_its_method_and_body(
    client: Client, published_pathway: Revision, settings: Any, debug: bool
) -> None:
    """Found from outside: a POST to a URL that lacks its trailing slash was a 500 with DEBUG on (Django's
    APPEND_SLASH refuses to redirect a POST), and a 301 without it, which clients follow with a GET, the body
    lost. A 308 keeps both (RFC 9110, 15.4.9); a GET keeps its 301."""
    settings.DEBUG = debug
    url = reverse("triage:pathway", args=[published_pathway.article.slug])
    response = client.post(url.rstrip("/"), {"stroke": "yes"})
    assert response.status_code == 308
    assert response["Location"] == url
    evaluate = f"/api/v1/pathways/{published_pathway.article.slug}/evaluate"
    response = client.post(f"{evaluate}?x=1", {"answers": {}}, content_type="application/json")
    assert (response.status_code, response["Location"]) == (308, f"{evaluate}/?x=1")
    assert client.get(url.rstrip("/"))["Location"] == url
    assert client.get(url.rstrip("/")).status_code == 301
