"""No side doors in the admin: nothing a reader or partner sees changes with a plain admin save."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from articles.models import AuditAction, AuditEntry, Medication, ReviewerProfile, Symptom
from tests.pages import page_text

pytestmark = pytest.mark.django_db

ARTICLE_URL = "/articles/amlodipine-peripheral-neuropathy/"


class _FormFields(HTMLParser):
    """The names of the fields a person can fill in, inside one form (by its id)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        elif self.inside and tag in {"input", "textarea", "select"}:
            kind = attributes.get("type", "text")
            name = attributes.get("name") or ""
            if kind not in {"hidden", "submit", "button"} and name and "disabled" not in attributes:
                self.fields.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def editable_fields(html: str, model_name: str) -> list[str]:
    parser = _FormFields(f"{model_name}_form")
    parser.feed(html)
    return parser.fields


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# --- Medications and symptoms -------------------------------------------------------------


def test_an_author_gets_no_form_for_a_medication_or_a_symptom(client, author, published_article):
    client.force_login(author)
    for obj, field, value in (
        (Medication.objects.get(slug="amlodipine"), "drug_class", "Changed by an author"),
        (Symptom.objects.get(slug="loss-of-balance"), "name", "Changed by an author"),
    ):
        response = client.get(change_url(obj))
        assert response.status_code == 200  # they may look
        assert editable_fields(response.content.decode(), obj._meta.model_name) == []
        response = client.post(change_url(obj), {field: value, "reason": "Because.", "_save": "1"})
        assert response.status_code == 403
        obj.refresh_from_db()
        assert getattr(obj, field) != value
    assert not AuditEntry.objects.filter(action__in=[AuditAction.UPDATE_MEDICATION, AuditAction.UPDATE_SYMPTOM])


def reviewer_form(client, obj) -> dict[str, object]:
    context = client.get(change_url(obj)).context
    form = context["adminform"].form
    data: dict[str, object] = {"_save": "1"}
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = value
    return data


def test_a_reviewer_changes_a_medication_in_the_admin_through_the_audited_service(client, reviewer, published_article):
    medication = Medication.objects.get(slug="amlodipine")
    client.force_login(reviewer)
    html = client.get(change_url(medication)).content.decode()
    fields = editable_fields(html, "medication")
    assert {"generic_name", "brand_names", "drug_class", "rxnorm_rxcui", "atc_code", "reason"} <= set(fields)
    assert "slug" not in fields  # the identity in URLs and files never changes
    assert "amlodipine-peripheral-neuropathy" in page_text(html)  # where the change will show

    data = reviewer_form(client, medication)
    data["drug_class"] = "Dihydropyridine calcium channel blocker"
    response = client.post(change_url(medication), {**data, "reason": ""})
    assert response.status_code == 200  # the reason is required: readers see it in the page history
    assert Medication.objects.get(pk=medication.pk).drug_class == "Calcium channel blocker (dihydropyridine)"

    response = client.post(change_url(medication), {**data, "reason": "BNF class name."})
    assert response.status_code == 302
    assert Medication.objects.get(pk=medication.pk).drug_class == "Dihydropyridine calcium channel blocker"
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE_MEDICATION)
    assert (entry.article_id, entry.actor, entry.comment) == (published_article.article_id, reviewer, "BNF class name.")


def test_without_a_reviewer_profile_the_change_is_refused_with_a_message(client, admin_user_account, published_article):
    medication = Medication.objects.get(slug="amlodipine")
    client.force_login(admin_user_account)  # a superuser holds every permission, but readers need a name
    data = {**reviewer_form(client, medication), "drug_class": "Changed", "reason": "Because."}
    response = client.post(change_url(medication), data, follow=True)
    assert "Complete your reviewer profile" in response.content.decode()
    assert Medication.objects.get(pk=medication.pk).drug_class == "Calcium channel blocker (dihydropyridine)"
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE_MEDICATION).exists()


def test_two_reviewers_editing_the_same_symptom_do_not_overwrite_each_other(client, reviewer, published_article):
    from tests.conftest import make_user

    other = make_user("other-reviewer", "Clinical reviewers", profile=True)
    symptom = Symptom.objects.get(slug="loss-of-balance")
    client.force_login(reviewer)
    first = reviewer_form(client, symptom)
    client.force_login(other)
    second = reviewer_form(client, symptom)

    client.force_login(reviewer)
    assert client.post(change_url(symptom), {**first, "name": "Unsteadiness", "reason": "Plainer."}).status_code == 302
    client.force_login(other)
    response = client.post(change_url(symptom), {**second, "name": "Poor balance", "reason": "Plainer still."})
    assert response.status_code == 200
    assert "Someone else changed" in response.content.decode()
    assert Symptom.objects.get(pk=symptom.pk).name == "Unsteadiness"


# --- Articles ------------------------------------------------------------------------------


def test_an_article_has_nothing_to_change_once_created(client, admin_user_account, published_article):
    client.force_login(admin_user_account)
    url = change_url(published_article.article)
    assert editable_fields(client.get(url).content.decode(), "article") == []
    assert client.post(url, {"slug": "moved", "_save": "1"}).status_code == 403


# --- Reviewer profiles: what readers see is the copy taken at review time --------------------


def test_editing_a_reviewer_profile_does_not_change_a_published_review(client, admin_user_account, published_article):
    profile = ReviewerProfile.objects.get(display_name="Dr Reviewer")
    client.force_login(admin_user_account)
    data = {
        "user": profile.user_id,
        "display_name": "Dr Someone Else",
        "credentials": "No credentials",
        "registration_body": profile.registration_body,
        "registration_number": profile.registration_number,
        "_save": "1",
    }
    assert client.post(change_url(profile), data).status_code == 302
    text = page_text(client.get(ARTICLE_URL).content.decode())
    assert "Reviewed by Dr Reviewer, MBBS, MRCP, test physician" in text
    assert "Dr Someone Else" not in text


# --- The demo author, page by page ------------------------------------------------------------

# What an author may add: each stays out of sight until reviewed content uses it
# (see "What readers and partners see, and how it is protected" in the README).
AUTHOR_MAY_ADD = {"articles.article", "articles.medication", "articles.symptom"}
AUTHOR_ACTIONS = {"", "start_draft"}


def test_the_demo_authors_admin_offers_no_form_that_changes_what_readers_see(client, db):
    call_command("load_demo", stdout=io.StringIO())
    client.force_login(get_user_model().objects.get(username="demo-author"))
    may_add, looked_at = set(), []
    for model in admin.site._registry:
        opts = model._meta
        label = f"{opts.app_label}.{opts.model_name}"
        try:
            add_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        except NoReverseMatch:
            add_url = None
        if add_url and client.get(add_url).status_code == 200:
            may_add.add(label)

        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if changelist.status_code == 200:
            select = re.search(r'<select name="action".*?</select>', changelist.content.decode(), flags=re.S)
            actions = set(re.findall(r'<option value="([^"]*)"', select.group(0))) if select else set()
            assert actions <= AUTHOR_ACTIONS, (label, actions)

        for obj in model._default_manager.all()[:5]:
            response = client.get(change_url(obj))
            if response.status_code != 200:
                continue
            looked_at.append(label)
            assert editable_fields(response.content.decode(), opts.model_name) == [], (label, obj.pk)
            assert client.post(change_url(obj), {"_save": "1"}).status_code == 403, (label, obj.pk)
    assert may_add == AUTHOR_MAY_ADD
    # The pages that matter were really looked at.
    assert {"articles.article", "articles.revision", "articles.medication", "articles.symptom"} <= set(looked_at)


def test_deeply_nested_brand_names_are_a_form_error_not_a_500(client, reviewer, published_article):
    """Django's JSON form field would recurse once per level: 1,000 levels used to end in RecursionError.

    Brand names are now edited one per line (never parsed as JSON): the same input is one over-long line.
    """
    medication = Medication.objects.get(slug="amlodipine")
    client.force_login(reviewer)
    data = {**reviewer_form(client, medication), "brand_names": "[" * 1000 + "]" * 1000, "reason": "Deep."}
    response = client.post(change_url(medication), data)
    assert response.status_code == 200
    assert "Each line is at most 200 characters; one has 2000." in response.content.decode()
    assert Medication.objects.get(pk=medication.pk).brand_names == ["Norvasc"]
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE_MEDICATION).exists()


def test_the_reason_readers_see_is_normalised_and_refuses_hidden_characters(client, reviewer, published_article):
    """The reason is shown in every affected article's public history: the same text rule as every other field."""
    medication = Medication.objects.get(slug="amlodipine")
    client.force_login(reviewer)
    data = {**reviewer_form(client, medication), "drug_class": "Changed class"}
    response = client.post(change_url(medication), {**data, "reason": "BNF \u202eclass name."})
    assert response.status_code == 200
    assert "U+202E" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE_MEDICATION).exists()

    response = client.post(change_url(medication), {**data, "reason": "Re\u0301sume\u0301 of the BNF\r\n\r\nclass."})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE_MEDICATION)
    assert entry.comment == "R\u00e9sum\u00e9 of the BNF\n\nclass."  # NFC, LF
