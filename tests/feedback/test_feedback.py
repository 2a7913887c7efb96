"""Reader feedback: from the public page to the editors' queue, with nothing personal stored."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from articles import services as article_services
from articles.models import Revision
from articles.text import normalise_text
from feedback import services, throttling
from feedback.forms import NO_EMAIL, NO_LINKS, NO_MARKUP, FeedbackForm
from feedback.models import MAX_FEEDBACK_CHARS, Feedback, FeedbackAuditEntry, Reason
from tests.pages import page_text
from tests.triage.test_pathways import URL as PATHWAY_URL
from tests.triage.test_pathways import all_no

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (feedback-test-agent)"
# Every column the feedback table has: adding one must be a decision this test sees.
COLUMNS = {"id", "revision_id", "helpful", "reason", "text", "received_on", "handled"}


def ask_url(revision: Revision) -> str:
    return reverse("feedback:ask", args=[revision.pk])


def send(client: Any, revision: Revision, address: str = ADDRESS, **data: str) -> Any:
    return client.post(ask_url(revision), data, REMOTE_ADDR=address, HTTP_USER_AGENT=AGENT)


def rows() -> list[dict[str, Any]]:
    """Every row of the feedback table, every column, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM feedback_feedback ORDER BY id")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def cache_keys() -> list[str]:
    backend = cache._cache  # locmem: a dict; Redis: a client
    if isinstance(backend, dict):
        return [str(key) for key in backend]
    client = cache._cache.get_client(None)
    return [key.decode() for key in client.keys("*")]


# --- The acceptance flow ----------------------------------------------------------------------


def test_no_out_of_date_reaches_the_editors_queue_tied_to_the_revision(client, published_article, reviewer):
    page = client.get(published_article.article.get_absolute_url()).content.decode()
    assert f'action="{ask_url(published_article)}"' in page
    assert 'name="helpful" value="no"' in page

    form = client.get(ask_url(published_article), {"helpful": "no"})
    assert form.status_code == 200
    assert "no-store" in form["Cache-Control"]  # it carries a CSRF token
    text = page_text(form.content.decode())
    assert "What was wrong?" in text and "It is out of date" in text

    response = send(client, published_article, helpful="no", reason="out_of_date", text="The dose  changed\r\nin 2025.")
    assert response.status_code == 303
    assert response["Location"] == reverse("feedback:thanks", args=[published_article.pk])
    assert "Thank you" in page_text(client.get(response["Location"]).content.decode())

    # Every column written, and nothing else: no address, agent, user, session or time of day.
    [row] = rows()
    assert set(row) == COLUMNS
    assert row["revision_id"] == published_article.pk
    assert bool(row["helpful"]) is False
    assert row["reason"] == "out_of_date"
    assert row["text"] == "The dose  changed\nin 2025."
    assert str(row["received_on"]) == timezone.localdate().isoformat()  # the day, not the time
    assert bool(row["handled"]) is False
    for value in row.values():
        assert ADDRESS not in str(value) and "feedback-test-agent" not in str(value)

    # The editors' queue lists it, tied to the revision.
    client.force_login(reviewer)
    queue = client.get(reverse("admin:feedback_feedback_changelist"))
    assert queue.status_code == 200
    queue_text = page_text(queue.content.decode())
    assert "It is out of date" in queue_text and "The dose changed in 2025." in queue_text
    assert reverse("admin:articles_revision_change", args=[published_article.pk]) in queue.content.decode()

    # Counts on the revision page and the article's list of revisions.
    revision_page = page_text(
        client.get(reverse("admin:articles_revision_change", args=[published_article.pk])).content.decode()
    )
    assert "Reader feedback" in revision_page and "0 helpful, 1 not helpful (1 to handle)" in revision_page
    article_page = page_text(
        client.get(reverse("admin:articles_article_change", args=[published_article.article_id])).content.decode()
    )
    assert "Reader feedback: 0 helpful, 1 not helpful (1 to handle)" in article_page

    # Marked handled through the admin action: audited, and gone from the default queue.
    feedback = Feedback.objects.get()
    done = client.post(
        reverse("admin:feedback_feedback_changelist"),
        {"action": "mark_handled", "_selected_action": [feedback.pk]},
    )
    assert done.status_code == 302
    feedback.refresh_from_db()
    assert feedback.handled
    [entry] = FeedbackAuditEntry.objects.all()
    assert (entry.feedback_id, entry.actor_id, entry.action) == (feedback.pk, reviewer.pk, "handled")
    assert "The dose changed" not in page_text(
        client.get(reverse("admin:feedback_feedback_changelist")).content.decode()
    )
    handled = client.get(reverse("admin:feedback_feedback_changelist"), {"status": "handled"})
    assert "The dose changed in 2025." in page_text(handled.content.decode())


def test_a_post_writes_the_feedback_row_only(client, published_article):
    client.get(ask_url(published_article))
    with CaptureQueriesContext(connection) as queries:
        response = send(client, published_article, helpful="yes")
    assert response.status_code == 303
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert len(writes) == 1 and "feedback_feedback" in writes[0]
    assert "sessionid" not in response.cookies
    [row] = rows()
    assert set(row) == COLUMNS and bool(row["helpful"]) and row["reason"] == "" and row["text"] == ""


def test_the_rate_limit_cache_key_holds_no_address(client, published_article):
    send(client, published_article, helpful="yes")
    keys = cache_keys()
    assert any("feedback:rate:" in key for key in keys)
    assert not any(ADDRESS in key or ADDRESS.replace(".", "") in key for key in keys)
    assert throttling.address_key(type("R", (), {"META": {"REMOTE_ADDR": ADDRESS}})()) in " ".join(keys)


def test_a_triage_result_asks_for_feedback_on_its_pathway_revision(client, published_pathway):
    html = client.post(PATHWAY_URL, all_no(published_pathway)).content.decode()
    assert f'action="{ask_url(published_pathway)}"' in html
    assert send(client, published_pathway, helpful="no", reason="unclear").status_code == 303
    assert Feedback.objects.get().revision_id == published_pathway.pk


def test_a_draft_preview_and_unpublished_revisions_take_no_feedback(client, published_article, workflow, author):
    draft = article_services.revision_create_draft(
        article=published_article.article, actor=author, based_on=published_article
    )
    assert client.get(ask_url(draft)).status_code == 404
    assert send(client, draft, helpful="yes").status_code == 404
    assert client.get(reverse("feedback:thanks", args=[draft.pk])).status_code == 404
    assert Feedback.objects.count() == 0


# --- What is refused, and stored nothing -----------------------------------------------------


def test_the_honeypot_is_thanked_and_nothing_is_stored(client, published_article):
    response = send(client, published_article, helpful="no", reason="wrong", website="http://spam.example")
    assert response.status_code == 303
    assert Feedback.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("See https://example.com/cheap for better info", NO_LINKS),
        ("visit www.example.org now", NO_LINKS),
        ("buy at pills.com", NO_LINKS),
        ("<b>bold</b> claim", NO_MARKUP),
        ("[click](/somewhere)", NO_MARKUP),
        ("[url=x]y[/url]", NO_MARKUP),
        ("email me at reader@example.org", NO_EMAIL),
        ("a" * (MAX_FEEDBACK_CHARS + 1), f"at most {MAX_FEEDBACK_CHARS} characters"),
        ("bad \u202e text", "bidirectional control"),
    ],
)
def test_links_markup_emails_and_long_text_are_refused_with_a_clear_error(client, published_article, text, message):
    response = send(client, published_article, helpful="no", reason="other", text=text)
    assert response.status_code == 400
    assert message in page_text(response.content.decode())
    assert "There is a problem" in page_text(response.content.decode())
    assert Feedback.objects.count() == 0


@pytest.mark.parametrize(
    "data",
    [{}, {"helpful": "maybe"}, {"helpful": "no"}, {"helpful": "no", "reason": "bored"}],
)
def test_incomplete_answers_are_a_form_error(client, published_article, data):
    response = send(client, published_article, **data)
    assert response.status_code == 400
    assert Feedback.objects.count() == 0


def test_a_yes_keeps_no_reason(client, published_article):
    send(client, published_article, helpful="yes", reason="wrong", text="Clear, thanks.")
    assert (Feedback.objects.get().reason, Feedback.objects.get().text) == ("", "Clear, thanks.")


def test_text_exactly_at_the_limit_is_kept(client, published_article):
    assert (
        send(client, published_article, helpful="no", reason="other", text="a" * MAX_FEEDBACK_CHARS).status_code == 303
    )


def test_a_combining_character_flood_is_refused_without_being_put_in_canonical_order(
    client, published_article, monkeypatch
):
    """Found by helper h3 from outside (anonymous POSTs to /feedback/<id>/ on gunicorn): text is normalised (NFC)
    before its length is checked, and Python's NFC orders a run of combining marks in time growing with the square
    of its length: 'e' followed by 10,000, 20,000 and 40,000 alternating U+0301 U+0316 took 0.4, 1.0 and 4.9 s to
    answer 400, and a body may hold 2.5 MB (about an hour for one request). No run of more than 30 combining marks
    (Unicode's stream-safe limit) is ever given to NFC; such a flood is refused, here for its length."""
    import unicodedata

    longest: list[int] = []
    normalize = unicodedata.normalize

    def recording(form: str, value: str) -> str:
        run = best = 0
        for character in value:
            run = run + 1 if unicodedata.combining(character) else 0
            best = max(best, run)
        longest.append(best)
        return normalize(form, value)

    monkeypatch.setattr(unicodedata, "normalize", recording)
    flood = "e" + "\u0301\u0316" * 10_000
    response = send(client, published_article, helpful="no", reason="other", text=flood)
    assert response.status_code == 400
    assert max(longest, default=0) <= 30
    assert not Feedback.objects.exists()


def test_text_over_the_limit_is_refused_for_its_length_alone_without_reading_it_further():
    """Django runs every validator, the length one failing or not: the link and email rules read 30,000 characters
    without a space in 18 s (their regular expressions backtracked), and a body may hold 2.5 MB. Over its
    maximum a text is refused for its length only; the same text at the maximum is read by every rule."""
    from feedback.forms import validate_plain_feedback

    read: list[int] = []

    def form(text: str) -> FeedbackForm:
        made = FeedbackForm({"helpful": "no", "reason": "other", "text": text})
        field = made.fields["text"]  # the form's own copy of the field
        field.validators = [
            (lambda value: read.append(len(value)) or validate_plain_feedback(value))
            if validator is validate_plain_feedback
            else validator
            for validator in field.validators
        ]
        return made

    over = form("a" * 1_000_000)
    assert not over.is_valid()
    assert over.errors["text"] == [f"Ensure this value has at most {MAX_FEEDBACK_CHARS} characters (it has 1000000)."]
    assert read == []
    assert form("a" * MAX_FEEDBACK_CHARS).is_valid()
    assert read == [MAX_FEEDBACK_CHARS]


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_accepted_text_is_normalised_plain_text(text):
    form = FeedbackForm({"helpful": "no", "reason": "other", "text": text})
    if form.is_valid():
        kept = form.cleaned_data["text"]
        assert kept == normalise_text(text)
        assert "://" not in kept
        assert not re.search(r"[^\s@]+@[^\s@]+\.[^\s@]+", kept)
        assert not re.search(r"<\s*/?\s*[a-zA-Z]", kept)
    else:
        assert set(form.errors) <= {"text"}


# --- The rate limit ------------------------------------------------------------------------


def test_one_address_is_limited_others_are_not(client, published_article, settings):
    settings.FEEDBACK_RATE = "2/hour"
    for _ in range(2):
        assert send(client, published_article, helpful="yes").status_code == 303
    refused = send(client, published_article, helpful="yes")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert send(client, published_article, address="198.51.100.9", helpful="yes").status_code == 303
    assert Feedback.objects.count() == 3


def test_the_limit_holds_per_process_while_the_cache_is_down(client, published_article, settings, monkeypatch):
    settings.FEEDBACK_RATE = "1/hour"
    monkeypatch.setattr(
        throttling, "count_hit", lambda key, seconds: None
    )  # what count_hit answers while Redis is down
    assert send(client, published_article, helpful="yes").status_code == 303
    assert send(client, published_article, helpful="yes").status_code == 429
    assert Feedback.objects.count() == 1
    assert all(ADDRESS not in key for key in throttling.fallback._windows)


# --- Marking handled -----------------------------------------------------------------------


def test_only_reviewers_and_publishers_mark_feedback_handled(published_article, author, reviewer, publisher):
    first = services.feedback_submit(revision=published_article, helpful=False, reason=Reason.WRONG)
    second = services.feedback_submit(revision=published_article, helpful=True)
    with pytest.raises(Exception, match="may not"):
        services.feedback_mark_handled(feedback_ids=[first.pk], actor=author)
    assert services.feedback_mark_handled(feedback_ids=[first.pk], actor=publisher) == 1
    # Again: nothing changes, nothing more is audited.
    assert services.feedback_mark_handled(feedback_ids=[first.pk, second.pk], actor=reviewer) == 1
    assert list(FeedbackAuditEntry.objects.values_list("feedback_id", "actor_id")) == [
        (first.pk, publisher.pk),
        (second.pk, reviewer.pk),
    ]


def test_the_audit_log_is_append_only(published_article, reviewer):
    feedback = services.feedback_submit(revision=published_article, helpful=True)
    services.feedback_mark_handled(feedback_ids=[feedback.pk], actor=reviewer)
    entry = FeedbackAuditEntry.objects.get()
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        FeedbackAuditEntry.objects.update(action="handled")
    with pytest.raises(TypeError):
        FeedbackAuditEntry.objects.all().delete()


def test_the_audit_log_names_who_marked_it_handled_as_they_were_named_then(client, published_article, reviewer):
    """Renaming the account afterwards (in the admin's users) changes later entries, never this one."""
    reviewer.first_name, reviewer.last_name = "Jane", "Doe"
    reviewer.save()
    feedback = services.feedback_submit(revision=published_article, helpful=False, reason=Reason.UNCLEAR)
    services.feedback_mark_handled(feedback_ids=[feedback.pk], actor=reviewer)
    reviewer.username, reviewer.last_name = "jane.smith", "Smith"
    reviewer.save()

    entry = FeedbackAuditEntry.objects.get()
    assert (entry.actor_name, entry.actor_username) == ("Jane Doe", "reviewer")
    assert str(entry).endswith("Marked handled by Jane Doe (reviewer)")
    client.force_login(get_user_model().objects.create_superuser("admin-test", "admin@example.org", "pw"))
    text = page_text(client.get(reverse("admin:feedback_feedback_change", args=[feedback.pk])).content.decode())
    assert "Jane Doe (reviewer)" in text
    assert "jane.smith" not in text


def test_authors_read_the_queue_but_cannot_mark_handled(client, published_article, author):
    feedback = services.feedback_submit(revision=published_article, helpful=False, reason=Reason.UNCLEAR)
    client.force_login(author)
    queue = client.get(reverse("admin:feedback_feedback_changelist"))
    assert queue.status_code == 200
    assert "mark_handled" not in queue.content.decode()
    client.post(
        reverse("admin:feedback_feedback_changelist"), {"action": "mark_handled", "_selected_action": [feedback.pk]}
    )
    feedback.refresh_from_db()
    assert not feedback.handled and FeedbackAuditEntry.objects.count() == 0


# --- Query budgets -------------------------------------------------------------------------


def _queries(client: Any, method: str, url: str, **kwargs: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code < 400, (url, response.status_code)
    return len(queries.captured_queries)


def _add_feedback(revision: Revision, count: int) -> None:
    for n in range(count):
        services.feedback_submit(
            revision=revision, helpful=bool(n % 2), reason="" if n % 2 else Reason.OTHER, text=f"Note {n}"
        )


def test_public_feedback_pages_cost_a_fixed_number_of_queries(client, published_article):
    budgets = []
    for extra in (1, 30):
        _add_feedback(published_article, extra)
        budgets.append(
            (
                _queries(client, "get", ask_url(published_article), data={"helpful": "no"}),
                _queries(client, "get", reverse("feedback:thanks", args=[published_article.pk])),
                _queries(
                    client, "post", ask_url(published_article), data={"helpful": "yes"}, REMOTE_ADDR=f"192.0.2.{extra}"
                ),
            )
        )
    assert budgets[0] == budgets[1]
    assert budgets[0][0] <= 2 and budgets[0][2] <= 7, budgets  # the POST: revision, checks, insert


def test_admin_feedback_screens_cost_a_fixed_number_of_queries(client, published_article, reviewer):
    client.force_login(reviewer)
    budgets = []
    for extra in (1, 1, 30):  # the first round fills per-process caches (content types): not counted
        _add_feedback(published_article, extra)
        budgets.append(
            (
                _queries(client, "get", reverse("admin:feedback_feedback_changelist"), data={"status": "all"}),
                _queries(client, "get", reverse("admin:articles_revision_change", args=[published_article.pk])),
                _queries(client, "get", reverse("admin:articles_article_change", args=[published_article.article_id])),
                _queries(client, "get", reverse("admin:feedback_feedback_change", args=[Feedback.objects.first().pk])),
            )
        )
    assert budgets[1] == budgets[2]


def test_the_database_refuses_to_change_the_audit_log(published_article, reviewer):
    feedback = services.feedback_submit(revision=published_article, helpful=True)
    services.feedback_mark_handled(feedback_ids=[feedback.pk], actor=reviewer)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE feedback_feedbackauditentry SET action = 'other'")
    assert FeedbackAuditEntry.objects.get().action == "handled"


def test_the_cached_article_page_stays_the_same_for_every_reader(client, published_article):
    # The ask form is a GET form: no CSRF token, no cookie, so the page can be kept and answered early.
    url = published_article.article.get_absolute_url()
    first, second = client.get(url), client.get(url)
    assert "csrfmiddlewaretoken" not in first.content.decode()
    assert not first.cookies and "public" in first["Cache-Control"]
    assert first.content == second.content


def test_a_rule_only_the_model_knows_is_a_400_not_a_500(client, published_article, monkeypatch):
    def refuse(**kwargs: Any) -> None:
        raise ValidationError("Feedback is taken only on content that readers have seen.")

    monkeypatch.setattr(services, "feedback_submit", refuse)
    response = send(client, published_article, helpful="yes")
    assert response.status_code == 400
    assert "Feedback is taken only on content that readers have seen." in page_text(response.content.decode())
    assert Feedback.objects.count() == 0


def test_the_audit_log_names_each_entry_by_its_time_in_the_sites_time_zone(published_article, reviewer, settings):
    """As the articles' audit log: an entry's name gives its time as the admin shows it, in the site's zone."""
    settings.TIME_ZONE = "Europe/Paris"
    feedback = services.feedback_submit(revision=published_article, helpful=True)
    services.feedback_mark_handled(feedback_ids=[feedback.pk], actor=reviewer)
    entry = FeedbackAuditEntry.objects.get()
    assert str(entry).startswith(f"{timezone.localtime(entry.created_at):%Y-%m-%d %H:%M} ")
