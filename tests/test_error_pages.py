"""The site's own pages for a refusal (403) and a form sent without its security token (CSRF): plain
language, a way on, and never Django's own text or a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

REVIEW_QUEUE = "/admin/articles/reviewqueueitem/"


def test_a_role_without_the_permission_gets_the_sites_403_in_the_admin(client, author):
    client.force_login(author)
    response = client.get(REVIEW_QUEUE)
    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    page = response.content.decode()
    assert "You cannot open this page" in page
    assert "403 Forbidden" not in page
    assert "You are signed in as <strong>author</strong>" in page
    assert f'href="{reverse("admin:index")}"' in page
    # The admin's log-in page would send a signed-in author straight home: to change account, log out.
    assert f'action="{reverse("admin:logout")}"' in page
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.urls("tests.forbidden_urls")
def test_a_refused_public_page_gets_the_sites_403(client, roles):
    response = client.get("/forbidden-for-tests/")
    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    page = response.content.decode()
    assert "You cannot open this page" in page
    assert f'href="{reverse("articles:home")}"' in page
    assert f'href="{reverse("admin:login")}?next=/forbidden-for-tests/"' in page
    assert f'href="{reverse("admin:index")}"' not in page  # not staff: the admin home would only refuse too


def test_a_form_sent_without_its_security_token_gets_a_plain_explanation(roles):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("admin:login"), {"username": "someone", "password": "anything"})
    assert response.status_code == 403
    assert response.templates[0].name == "403_csrf.html"
    page = response.content.decode()
    assert "could not be sent" in page
    assert "CSRF verification failed" not in page
    assert f'href="{reverse("admin:login")}"' in page


# --- Query budgets: a refusal costs what knowing who asked costs, and nothing that grows with the site ---


def test_query_budgets_of_the_refusals(client, author, roles, django_assert_num_queries):
    with django_assert_num_queries(0):  # nobody signed in: no session, no user to read
        assert Client(enforce_csrf_checks=True).post(reverse("admin:login"), {"username": "x"}).status_code == 403
    client.force_login(author)
    # The session, the user, and the user's and groups' permissions that decide the refusal.
    with django_assert_num_queries(4):
        assert client.get(REVIEW_QUEUE).status_code == 403
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(author)
    with django_assert_num_queries(2):  # the session and the user (the page offers to log out)
        assert signed_in.post(reverse("admin:login"), {"username": "x"}).status_code == 403


@pytest.mark.urls("tests.forbidden_urls")
def test_query_budget_of_a_refused_public_page(client, roles, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/forbidden-for-tests/").status_code == 403


# --- A reader's form: the numbers to call, never the staff log-in ------------------------------------


def test_a_symptom_check_answer_sent_without_its_token_still_shows_the_numbers_to_call(published_pathway, settings):
    """Found from outside: with the site's cookies cleared (a private window, a cookie blocker), a reader who
    answered "yes" to throat swelling got a page with no number to call, pointing them to the staff log-in."""
    settings.TRIAGE_EMERGENCY_NUMBER = "112"
    settings.TRIAGE_URGENT_ADVICE_NUMBER = "116 117"
    reader = Client(enforce_csrf_checks=True)
    response = reader.post(reverse("triage:pathway", args=[published_pathway.article.slug]), {"stroke": "yes"})
    assert response.status_code == 403
    assert response.templates[0].name == "403_csrf.html"
    page = response.content.decode()
    assert '<a href="tel:112">112</a>' in page
    assert '<a href="tel:116117">116 117</a>' in page
    assert reverse("admin:login") not in page  # a reader is not sent to the staff's door
    assert response["Cache-Control"] == "private, no-store"


def test_query_budget_of_a_form_that_could_not_be_read(client, django_assert_num_queries):
    """``handler400``'s page (a reader's form in a charset other than UTF-8): no query, as for any refusal to a
    reader who is not signed in."""
    with django_assert_num_queries(0):
        response = client.post("/feedback/", b"a=1", content_type="application/x-www-form-urlencoded; charset=latin-1")
    assert response.status_code == 400
