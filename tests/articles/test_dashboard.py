"""The admin home: each role's worklists as a count and a link, the user's name and role, their recent steps."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import services
from articles.dashboard import DASHBOARD_ITEMS, DashboardItem, dashboard_for, register_dashboard_item
from articles.models import NotificationSettings
from tests.conftest import approve, make_user
from tests.factories import article_document


def counts(user) -> dict[str, int]:
    return {row.key: row.count for row in dashboard_for(user)}


def draft(author, n: int):
    return services.article_import(document=article_document(slug=f"article-{n}", medication=f"med-{n}"), actor=author)


def submitted(author, n: int):
    return services.revision_submit(revision=draft(author, n), actor=author, change_summary="First version.")


def dashboard_row(html: str, key: str) -> str:
    match = re.search(rf'<tr id="dashboard-{key}">(.*?)</tr>', html, re.S)
    assert match, f"no dashboard row {key}"
    return match.group(1)


def test_each_role_sees_its_own_worklists(author, second_author, reviewer, publisher, author_reviewer):
    draft(author, 1)
    sent_back = submitted(author, 2)
    services.revision_request_changes(revision=sent_back, actor=reviewer, comment="Cite the trial.")
    in_review = submitted(author_reviewer, 3)
    approve(submitted(author, 4), reviewer)

    assert counts(author) == {"my-drafts": 1, "changes-requested": 1}
    assert counts(second_author) == {"my-drafts": 0, "changes-requested": 0}
    # Reviewers and publishers also handle readers' feedback (the feedback app's line).
    assert counts(reviewer) == {"awaiting-review": 1, "overdue": 0, "feedback": 0}
    assert counts(publisher) == {"to-publish": 1, "scheduled": 0, "feedback": 0}
    # Four eyes, from the transition table: nobody is asked to review their own words.
    assert counts(author_reviewer) == {
        "my-drafts": 0,
        "changes-requested": 0,
        "awaiting-review": 0,
        "overdue": 0,
        "feedback": 0,
    }
    assert in_review.state == "in_review"


def test_the_link_lists_exactly_what_was_counted(client, author, reviewer, publisher):
    mine = draft(author, 1)
    draft(make_user("other-author", "Authors"), 2)
    client.force_login(author)
    home = client.get("/admin/").content.decode()
    row = dashboard_row(home, "my-drafts")
    assert "<td>1</td>" in row
    link = re.search(r'href="([^"]+)"', row).group(1).replace("&amp;", "&")
    listed = client.get(link).content.decode()
    assert f"/admin/articles/revision/{mine.pk}/change/" in listed
    assert "1 revision" in listed  # the other author's draft is not in "my drafts"

    waiting = submitted(author, 3)
    client.force_login(reviewer)
    row = dashboard_row(client.get("/admin/").content.decode(), "awaiting-review")
    link = re.search(r'href="([^"]+)"', row).group(1)
    assert f"/admin/articles/revision/{waiting.pk}/change/" in client.get(link).content.decode()


def test_the_home_page_costs_the_same_at_any_size(client, author, reviewer, publisher, django_assert_num_queries):
    submitted(author, 1)
    draft(author, 2)
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/").status_code == 200
    for n in range(3, 9):
        revision = submitted(author, n)
        if n % 2:
            approve(revision, reviewer)
    draft(author, 9)
    with django_assert_num_queries(len(few)):
        client.get("/admin/")
    client.force_login(author)
    with CaptureQueriesContext(connection) as for_author:
        client.get("/admin/")
    draft(author, 10)
    with django_assert_num_queries(len(for_author)):
        client.get("/admin/")


def test_the_header_names_the_user_and_their_role(client, reviewer, author_reviewer):
    reviewer.first_name, reviewer.last_name = "Ada", "Okafor"
    reviewer.save()
    client.force_login(reviewer)
    html = client.get("/admin/").content.decode()
    assert "Signed in as <strong>Ada Okafor</strong> (Clinical reviewers)" in html
    assert "Welcome" not in html
    client.force_login(author_reviewer)  # no name given: the user name, and both roles
    html = client.get("/admin/").content.decode()
    assert "Signed in as <strong>author-reviewer</strong> (Authors, Clinical reviewers)" in html


def test_workflow_steps_are_in_recent_actions(client, author):
    revision = draft(author, 1)
    services.revision_submit(revision=revision, actor=author, change_summary="First version.")
    client.force_login(author)
    html = client.get("/admin/").content.decode()
    assert f"{revision.article.slug} revision 1: submitted" in html


def test_another_app_adds_its_item(author, monkeypatch):
    """The hook the feedback app uses: a registered item shows with its own count and link."""
    monkeypatch.setattr("articles.dashboard.DASHBOARD_ITEMS", dict(DASHBOARD_ITEMS))
    register_dashboard_item(
        DashboardItem(
            key="another-app",
            label="Another app's work",
            order=100,
            shown_to=lambda user: True,
            count=lambda user: 3,
            url=lambda user: "/admin/feedback/",
        )
    )
    rows = dashboard_for(author)
    assert rows[-1].key == "another-app" and rows[-1].count == 3 and rows[-1].url == "/admin/feedback/"
    with pytest.raises(ValueError, match="registered twice"):
        register_dashboard_item(
            DashboardItem("another-app", "Other", 1, lambda user: True, lambda user: 0, lambda user: "/")
        )


def test_each_user_turns_their_own_emails_off(client, author):
    client.force_login(author)
    page = client.get("/admin/notifications/")
    assert page.status_code == 200
    assert 'name="email_notifications"' in page.content.decode() and "checked" in page.content.decode()
    assert not NotificationSettings.objects.exists()  # reading the page wrote nothing
    response = client.post("/admin/notifications/", {})
    assert response.status_code == 302
    assert NotificationSettings.objects.get(user=author).email_notifications is False
    client.post("/admin/notifications/", {"email_notifications": "on"})
    assert NotificationSettings.objects.get(user=author).email_notifications is True


def test_the_notifications_page_needs_a_signed_in_member_of_staff(client, db):
    response = client.get("/admin/notifications/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.post("/admin/notifications/", {}).status_code == 302
    assert not NotificationSettings.objects.exists()


def test_feedback_to_handle_is_counted_and_linked_to_the_queue(client, reviewer, author, published_article):
    from feedback.services import feedback_submit

    feedback_submit(revision=published_article, helpful=False, reason="out_of_date", text="")
    assert counts(reviewer)["feedback"] == 1
    assert "feedback" not in counts(author)  # authors read the queue but do not handle it
    client.force_login(reviewer)
    row = dashboard_row(client.get("/admin/").content.decode(), "feedback")
    link = re.search(r'href="([^"]+)"', row).group(1)
    listed = client.get(html.unescape(link))
    assert listed.status_code == 200 and "1 reader feedback" in listed.content.decode()
