"""The admin for authors, reviewers and publishers, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from articles.models import AuditAction, AuditEntry, Revision, RevisionState
from tests.conftest import make_user
from tests.factories import article_document

pytestmark = pytest.mark.django_db


def change_url(revision: Revision) -> str:
    return f"/admin/articles/revision/{revision.pk}/change/"


def form_data(client, revision: Revision) -> dict[str, object]:
    """The change form as the browser would post it back, unchanged."""
    context = client.get(change_url(revision)).context
    forms = [context["adminform"].form]
    for inline in context["inline_admin_formsets"]:
        forms.extend([inline.formset.management_form, *inline.formset.forms])
    data: dict[str, object] = {"_continue": "1"}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def action_as_sent(response: Any, name: str) -> tuple[Any, dict[str, object]]:
    """The workflow form ``name`` on an admin page, and what posting it as the page shows it sends."""
    form = next(action["form"] for action in response.context["workflow_actions"] if action["name"] == name)
    return form, {
        form.add_prefix(field): form[field].value() for field in form.fields if form[field].value() is not None
    }


def test_a_published_revision_is_read_only(client, admin_user_account, published_article):
    client.force_login(admin_user_account)
    html = client.get(change_url(published_article)).content.decode()
    assert 'name="title"' not in html
    assert 'name="sections-0-body"' not in html
    assert "Do not stop taking the medication on your own" in html
    response = client.post(change_url(published_article), {"title": "Changed"})
    assert response.status_code == 403
    assert Revision.objects.get(pk=published_article.pk).title == "Amlodipine and peripheral neuropathy (nerve damage)"


def test_two_saves_from_the_same_starting_copy_in_the_admin(client, workflow, author, second_author):
    draft = workflow.draft()
    client.force_login(author)
    first = form_data(client, draft)
    client.force_login(second_author)
    second = form_data(client, draft)
    assert first["lock_version_seen"] == second["lock_version_seen"] == 0

    client.force_login(author)
    first["sections-0-body"] = "The author's edit [@ref-1]."
    assert client.post(change_url(draft), first).status_code == 302

    client.force_login(second_author)
    second["sections-0-body"] = "A conflicting edit [@ref-1]."
    response = client.post(change_url(draft), second)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this draft after you opened it" in html
    assert "A conflicting edit" in html  # their text is still in the form, not lost
    assert Revision.objects.get(pk=draft.pk).sections.get(key="section-1").body == "The author's edit [@ref-1]."
    saves = AuditEntry.objects.filter(revision=draft, action=AuditAction.SAVE_DRAFT)
    assert list(saves.values_list("actor__username", flat=True)) == ["author"]


def test_the_page_offers_only_the_actions_the_user_may_take(client, workflow, author, reviewer, publisher):
    revision = workflow.draft()
    client.force_login(author)
    html = client.get(change_url(revision)).content.decode()
    assert "Submit for clinical review" in html
    assert ">Approve<" not in html and ">Publish<" not in html

    from articles import services

    services.revision_submit(revision=revision, actor=author, change_summary="First.")
    assert "Submit for clinical review" not in client.get(change_url(revision)).content.decode()
    client.force_login(reviewer)
    html = client.get(change_url(revision)).content.decode()
    assert ">Approve<" in html and ">Request changes<" in html and ">Publish<" not in html
    client.force_login(publisher)
    html = client.get(change_url(revision)).content.decode()
    assert ">Approve<" not in html and ">Publish<" not in html


def test_a_refused_transition_posted_anyway_changes_nothing(client, workflow, author):
    revision = workflow.draft()
    from articles import services

    services.revision_submit(revision=revision, actor=author, change_summary="First.")
    client.force_login(author)  # an author, not a reviewer
    response = client.post(
        f"/admin/articles/revision/{revision.pk}/transition/approve/", {"approve-comment": "ok"}, follow=True
    )
    assert "not done. You do not have permission to approve revisions." in response.content.decode()
    assert Revision.objects.get(pk=revision.pk).state == RevisionState.IN_REVIEW


def test_reviewer_approves_through_the_panel_acknowledging_warnings(client, workflow, author, reviewer):
    from articles import services

    document = article_document()
    document["revision"]["references"][0].update(doi="", needs_verification=True, verification_note="Unconfirmed.")
    revision = services.revision_submit(revision=workflow.draft(document), actor=author, change_summary="First.")
    client.force_login(reviewer)
    url = f"/admin/articles/revision/{revision.pk}/transition/approve/"
    seen = {"approve-content_hash_seen": revision.content_hash}  # as the page sends it
    response = client.post(url, {**seen, "approve-comment": "Fine."}, follow=True)
    assert "Acknowledge this warning before approving" in response.content.decode()
    assert Revision.objects.get(pk=revision.pk).state == RevisionState.IN_REVIEW
    response = client.post(url, {**seen, "approve-acknowledged_warnings": ["unverified_reference:ref-1"]}, follow=True)
    assert "The revision is now approved." in response.content.decode()


def test_reviewer_queue_excludes_own_work(client, workflow, author, author_reviewer, reviewer):
    from articles import services

    others = services.revision_submit(revision=workflow.draft(slug="by-author"), actor=author, change_summary="A")
    mine = services.article_import(
        document=article_document(slug="by-author-reviewer", medication="selfamol"), actor=author_reviewer
    )
    services.revision_submit(revision=mine, actor=author_reviewer, change_summary="B")
    client.force_login(author_reviewer)
    html = client.get("/admin/articles/reviewqueueitem/").content.decode()
    assert "by-author revision" in html
    assert "by-author-reviewer revision" not in html
    assert f"/admin/articles/revision/{others.pk}/diff/" in html
    client.force_login(author)  # authors have no queue
    assert client.get("/admin/articles/reviewqueueitem/").status_code == 403


def test_overdue_and_scheduled_lists(client, workflow, publisher):
    import datetime

    from django.utils import timezone

    from articles.models import ClinicalReview

    live = workflow.live(slug="overdue-article")
    ClinicalReview.objects.filter(revision=live).update(
        next_review_due=timezone.localdate() - datetime.timedelta(days=3)
    )
    workflow.take_live(workflow.next_draft(live), publish_at=timezone.now() + datetime.timedelta(days=1))
    client.force_login(publisher)
    assert "overdue-article revision 1" in client.get("/admin/articles/overduereview/").content.decode()
    assert "overdue-article revision 2" in client.get("/admin/articles/scheduledpublication/").content.decode()


def test_diff_view_shows_word_changes_against_the_live_revision(client, workflow, author, reviewer):
    from articles import services
    from articles.interchange.export import revision_content

    live = workflow.live()
    draft = workflow.next_draft(live)
    content = revision_content(Revision.objects.with_content().get(pk=draft.pk))
    content["sections"][0]["body"] = content["sections"][0]["body"].replace("Body 1", "Revised body 1")
    content["sections"].reverse()
    for position, section in enumerate(content["sections"], start=1):
        section["position"] = position
    services.revision_update_content(revision=draft, actor=author, expected_lock_version=0, content=content)
    client.force_login(reviewer)
    html = client.get(f"/admin/articles/revision/{draft.pk}/diff/").content.decode()
    assert "Changes from <strong>revision 1</strong>" in html
    assert "<del>Body</del><ins>Revised body</ins> 1" in html
    assert "mark--moved" in html
    # Any other revision can be chosen.
    assert client.get(f"/admin/articles/revision/{draft.pk}/diff/?against={live.pk}").status_code == 200
    assert client.get(f"/admin/articles/revision/{draft.pk}/diff/?against=nonsense").status_code == 200


def test_preview_is_staff_only_and_marked_draft(client, workflow, author):
    draft = workflow.draft(marker="PREVIEW-MARKER")
    url = f"/admin/articles/revision/{draft.pk}/preview/"
    response = client.get(url)
    assert response.status_code == 302  # to the login page
    assert "/admin/login/" in response["Location"]
    client.force_login(author)
    response = client.get(url)
    html = response.content.decode()
    assert "DRAFT PREVIEW of revision 1" in html
    assert "PREVIEW-MARKER" in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


def test_comments_can_be_tied_to_a_section(client, workflow, author, reviewer):
    from articles import services

    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    client.force_login(reviewer)
    client.post(
        f"/admin/articles/revision/{revision.pk}/comment/", {"body": "Cite the label here.", "section_key": "section-2"}
    )
    comment = revision.comments.get()
    assert (comment.author, comment.section_key, comment.body) == (reviewer, "section-2", "Cite the label here.")
    html = client.get(change_url(revision)).content.decode()
    assert "Cite the label here." in html


def test_a_comment_on_a_section_no_longer_there_says_why_it_was_not_added(client, workflow, author, reviewer):
    """The section was removed while the reviewer had the page open: the message said "Comment not added." and no
    more."""
    from articles import services

    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    client.force_login(reviewer)
    response = client.post(
        f"/admin/articles/revision/{revision.pk}/comment/",
        {"body": "Cite the label here.", "section_key": "section-gone"},
        follow=True,
    )
    text = " ".join(str(message) for message in response.context["messages"])
    assert "Comment not added. That section is no longer in this revision" in text
    assert not revision.comments.exists()


def test_nobody_can_change_or_delete_audit_entries_in_the_admin(client, admin_user_account, published_article):
    client.force_login(admin_user_account)
    entry = AuditEntry.objects.first()
    assert client.get("/admin/articles/auditentry/").status_code == 200
    html = client.get(f"/admin/articles/auditentry/{entry.pk}/change/").content.decode()
    assert 'name="comment"' not in html
    assert client.post(f"/admin/articles/auditentry/{entry.pk}/change/", {"comment": "x"}).status_code == 403
    assert client.post(f"/admin/articles/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/articles/auditentry/add/").status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).comment == entry.comment


def test_an_article_draft_starts_from_the_live_revision(client, admin_user_account, published_article):
    client.force_login(admin_user_account)
    response = client.post(
        "/admin/articles/article/", {"action": "start_draft", "_selected_action": [published_article.article_id]}
    )
    assert response.status_code == 302
    draft = Revision.objects.get(article=published_article.article, number=2)
    assert draft.state == "draft"
    assert draft.based_on_id == published_article.pk
    assert list(draft.sections.values_list("key", flat=True)) == list(
        published_article.sections.values_list("key", flat=True)
    )
    assert client.get(change_url(draft)).status_code == 200


def test_reviewer_profiles_are_managed_by_administrators(client, reviewer):
    client.force_login(reviewer)
    assert client.get("/admin/articles/reviewerprofile/").status_code == 403
    assert make_user("x").has_perm("articles.change_reviewerprofile") is False


@pytest.mark.parametrize("count", ["2000", "150"])
def test_a_form_claiming_many_new_rows_is_refused_without_building_a_form_for_each(client, workflow, author, count):
    """Found from outside: one changed number in the change form (``references-TOTAL_FORMS=2000``) made Django build,
    check and draw 2,000 reference forms: 47 s of CPU and a 32 MB page. The page adds rows a few at a time."""
    from articles.admin import MAX_NEW_ROWS_PER_SAVE

    draft = workflow.draft()
    client.force_login(author)
    data = form_data(client, draft)
    data["references-TOTAL_FORMS"] = count
    response = client.post(change_url(draft), data)
    assert response.status_code == 200  # the page again, saying why
    formset = next(f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "references")
    assert len(formset.forms) <= formset.initial_form_count() + MAX_NEW_ROWS_PER_SAVE
    assert f"Add at most {MAX_NEW_ROWS_PER_SAVE} new rows at a time" in " ".join(formset.non_form_errors())


@pytest.mark.parametrize("step", ["submit", "archive"])
def test_a_save_of_a_draft_submitted_or_archived_meanwhile_says_so_and_keeps_what_was_typed(
    client, workflow, author, step
):
    """Found from outside: an author saving in one tab after the draft was submitted (or archived) in another got
    "You cannot open this page ... ask an administrator to check your role", and what they typed was gone."""
    from articles import services

    draft = workflow.draft()
    client.force_login(author)
    data = form_data(client, draft)
    if step == "submit":
        services.revision_submit(revision=draft, actor=author, change_summary="First.")
    else:
        services.revision_archive(revision=draft, actor=author)
    state = Revision.objects.get(pk=draft.pk).get_state_display().lower()
    data["title"] = "A title typed in the other tab"

    response = client.post(change_url(draft), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Revision {draft.number} is {state} now" in html and "Your changes were not saved" in html
    assert "A title typed in the other tab" in html  # there to copy
    assert "ask an administrator" not in html
    assert Revision.objects.get(pk=draft.pk).title == draft.title


def test_a_refused_step_shows_its_form_again_with_what_was_typed(client, workflow, author, reviewer):
    """Found from outside: a reviewer's approval refused for a warning not yet acknowledged came back with the
    comment and the next review date empty; every refused step's form did (the page was shown again afresh)."""
    from articles import services

    document = article_document()
    document["revision"]["references"][0].update(doi="", needs_verification=True, verification_note="Unconfirmed.")
    revision = services.revision_submit(revision=workflow.draft(document), actor=author, change_summary="First.")
    client.force_login(reviewer)
    url = f"/admin/articles/revision/{revision.pk}/transition/approve/"
    typed = "Checked every source against the original papers myself."

    response = client.post(url, {"approve-content_hash_seen": revision.content_hash, "approve-comment": typed})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Acknowledge this warning before approving" in html
    assert typed in html  # in the approval form, to send again once the warning is ticked
    assert Revision.objects.get(pk=revision.pk).state == RevisionState.IN_REVIEW
    again = client.get(change_url(revision)).content.decode()
    assert typed not in again  # shown with its refusal, never kept


def test_the_approval_form_asks_to_acknowledge_warnings_only_when_there_are_some(client, workflow, author, reviewer):
    """Found from outside: with no warnings, the Approve form still showed an empty box headed "I have read and
    accept these warnings"."""
    from articles import services

    clean = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    document = article_document(slug="with-a-warning")
    document["revision"]["references"][0].update(doi="", needs_verification=True, verification_note="Unconfirmed.")
    warned = services.revision_submit(revision=workflow.draft(document), actor=author, change_summary="First.")
    client.force_login(reviewer)
    assert "I have read and accept these warnings" not in client.get(change_url(clean)).content.decode()
    assert "I have read and accept these warnings" in client.get(change_url(warned)).content.decode()
    response = client.post(
        f"/admin/articles/revision/{clean.pk}/transition/approve/",
        {"approve-content_hash_seen": clean.content_hash, "approve-comment": "Fine."},
    )
    assert response.status_code == 302
    assert Revision.objects.get(pk=clean.pk).state == RevisionState.APPROVED


@pytest.mark.parametrize("sent", [" ", "9" * 40, "-1", "x"])
def test_a_symptom_that_is_no_id_is_refused_on_its_field_not_a_500(client, workflow, author, sent):
    """Found by posting odd values into every field of a draft's page: a symptom entry's symptom sent as a space or
    a 40-digit number was refused, but the page showing the refusal asked the database for that "id" and failed."""
    draft = workflow.draft()
    client.force_login(author)
    data = {**form_data(client, draft), "symptom_entries-0-symptom": sent}
    client.raise_request_exception = False
    response = client.post(change_url(draft), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Revision.objects.get(pk=draft.pk).lock_version == draft.lock_version


def test_the_audit_log_names_each_entry_by_its_time_in_the_sites_time_zone(
    client, admin_user_account, published_article, settings
):
    """Found as an auditor on a revision's page with TIME_ZONE=Europe/Paris: each row of its audit log was named
    "2026-12-03 07:44 Draft created (...)" (UTC) next to its time, "3 Dec 2026, 8:44 a.m." (Paris), an hour apart."""
    from django.utils import timezone

    from articles.models import AuditEntry

    settings.TIME_ZONE = "Europe/Paris"
    client.force_login(admin_user_account)
    html = client.get(f"/admin/articles/revision/{published_article.pk}/change/").content.decode()
    for entry in AuditEntry.objects.filter(revision=published_article):
        local = timezone.localtime(entry.created_at)
        assert str(entry).startswith(f"{local:%Y-%m-%d %H:%M} "), (str(entry), local)
        assert str(entry) in html.replace("&#x27;", "'")


def test_a_submit_from_a_page_opened_before_another_save_is_refused(client, workflow, author, second_author):
    """Found from outside: two authors had the same draft open; the second submitted it from a page shown before the
    first saved a new change summary and summary. The submit went through: the first author's change summary was
    overwritten with no trace, and the draft went for review with words its submitter's page never showed."""
    draft = workflow.draft()
    client.force_login(second_author)
    submit_form = client.get(change_url(draft)).context["workflow_actions"][0]["form"]
    assert submit_form.prefix == "submit"
    seen = {submit_form.add_prefix(name): submit_form[name].value() for name in submit_form.fields}

    client.force_login(author)
    first = form_data(client, draft)
    first["change_summary"] = "Corrected the wording of section 1."
    first["sections-0-body"] = "The first author's newer words [@ref-1]."
    assert client.post(change_url(draft), first).status_code == 302

    client.force_login(second_author)
    response = client.post(
        f"/admin/articles/revision/{draft.pk}/transition/submit/",
        {**seen, "submit-change_summary": "First version."},
        follow=True,
    )
    html = response.content.decode()
    assert "Submit for clinical review: not done." in html
    assert "Someone else saved this draft after you opened it" in html
    current = Revision.objects.get(pk=draft.pk)
    assert current.state == RevisionState.DRAFT
    assert current.change_summary == "Corrected the wording of section 1."
    assert not AuditEntry.objects.filter(revision=draft, action=AuditAction.SUBMIT).exists()
    # The page shown with the refusal shows the draft as it is now: a submit from it goes through.
    shown = response.context["workflow_actions"][0]["form"]
    again = {shown.add_prefix(name): shown[name].value() for name in shown.fields}
    response = client.post(
        f"/admin/articles/revision/{draft.pk}/transition/submit/",
        {**again, "submit-change_summary": "Corrected the wording of section 1."},
        follow=True,
    )
    assert "The revision is now in review." in response.content.decode()


def test_an_approval_from_a_page_opened_before_a_symptom_it_shows_was_changed_is_refused(
    client, workflow, author, reviewer
):
    """Found from outside: a reviewer read a revision (its symptom entries, the preview); a second reviewer renamed a
    symptom it shows; the first approved from the page they had read, and it went through. The approval, and the
    page history's "as reviewed", then put their name to a symptom name their page never showed."""
    from articles import services
    from articles.models import ClinicalReview, Symptom

    second_reviewer = make_user("second-reviewer", "Clinical reviewers", profile=True)
    revision = services.revision_submit(revision=workflow.draft(), actor=author, change_summary="First.")
    client.force_login(reviewer)
    page = client.get(change_url(revision))
    form, sent = action_as_sent(page, "approve")
    warnings = form.fields.get("acknowledged_warnings")
    sent[form.add_prefix("acknowledged_warnings")] = [code for code, _ in warnings.choices] if warnings else []

    symptom = Symptom.objects.shown_by_revision(revision.pk).order_by("slug").first()
    assert symptom.name in page.content.decode()
    services.symptom_update(
        symptom=symptom, actor=second_reviewer, changes={"name": "A name the first reviewer never saw"}, reason="Test."
    )

    url = f"/admin/articles/revision/{revision.pk}/transition/approve/"
    response = client.post(url, sent, follow=True)
    html = response.content.decode()
    assert "Approve: not done." in html
    assert "changed since you opened" in html
    assert Revision.objects.get(pk=revision.pk).state == RevisionState.IN_REVIEW
    assert not ClinicalReview.objects.filter(revision=revision).exists()
    # The page shown with the refusal shows the symptom as it is now: an approval from it goes through.
    assert "A name the first reviewer never saw" in html
    _, again = action_as_sent(response, "approve")
    again[form.add_prefix("acknowledged_warnings")] = sent[form.add_prefix("acknowledged_warnings")]
    response = client.post(url, again, follow=True)
    assert "The revision is now approved." in response.content.decode()


def test_a_confirmation_from_a_page_opened_before_its_medication_was_changed_is_refused(
    client, published_article, reviewer
):
    """Found from outside: a reviewer opened the live revision to confirm it as still accurate; a second reviewer
    changed the medication's drug class; the confirmation from the page opened before went through, under a review
    dated after the change their page never showed."""
    from articles import services
    from articles.models import ClinicalReview, ReviewKind

    second_reviewer = make_user("second-reviewer", "Clinical reviewers", profile=True)
    client.force_login(reviewer)
    page = client.get(change_url(published_article))
    _, sent = action_as_sent(page, "confirm_review")

    medication = published_article.article.medication
    services.medication_update(
        medication=medication, actor=second_reviewer, changes={"drug_class": "A class never shown"}, reason="Test."
    )

    url = f"/admin/articles/revision/{published_article.pk}/transition/confirm_review/"
    response = client.post(url, sent, follow=True)
    html = response.content.decode()
    assert "not done." in html
    assert "changed since you opened" in html
    confirmations = ClinicalReview.objects.filter(revision=published_article, kind=ReviewKind.CONFIRMATION)
    assert not confirmations.exists()
    # The page shown with the refusal is as things are now: a confirmation from it goes through.
    _, again = action_as_sent(response, "confirm_review")
    response = client.post(url, again, follow=True)
    assert "Confirm as still accurate (reviewed, no change): done." in response.content.decode()
    assert confirmations.count() == 1
