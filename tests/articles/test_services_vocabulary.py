"""The shared vocabulary (medications, symptoms) changes only through an audited, permitted service.

Readers and partners see a medication's names, class and codes and a symptom's
name, description and code on every live article that uses them, so a change
needs a reviewer-level permission, is audited on every affected article, shows
in those articles' public page history and changes the article page's cache
identity at once.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from articles import services
from articles.models import AuditAction, AuditEntry, Medication, Revision, Symptom
from tests.conftest import make_user
from tests.factories import article_document, changed, demo_document
from tests.pages import json_ld, page_text

pytestmark = pytest.mark.django_db

ARTICLE_URL = "/articles/amlodipine-peripheral-neuropathy/"
REASON = "Use the BNF class name and the UK brand."


def amlodipine() -> Medication:
    return Medication.objects.get(slug="amlodipine")


def another_article_about_amlodipine(slug: str) -> dict:
    return changed(demo_document(), **{"article.slug": slug})


# --- Who may --------------------------------------------------------------------------


def test_only_clinical_reviewers_hold_the_vocabulary_permissions(author, reviewer, publisher):
    for codename in ("amend_medication", "amend_symptom"):
        assert reviewer.has_perm(f"articles.{codename}")
        assert not author.has_perm(f"articles.{codename}")
        assert not publisher.has_perm(f"articles.{codename}")
    # Plain admin saves of vocabulary and articles are no longer an author's to make.
    for codename in ("change_medication", "change_symptom", "change_article"):
        assert not author.has_perm(f"articles.{codename}"), codename
    # Creating new vocabulary stays possible: nobody sees it until reviewed content uses it.
    assert author.has_perm("articles.add_medication") and author.has_perm("articles.add_symptom")


def test_an_author_cannot_change_a_medication_or_a_symptom(author, published_article):
    with pytest.raises(PermissionDenied):
        services.medication_update(medication=amlodipine(), actor=author, changes={"drug_class": "X"}, reason=REASON)
    with pytest.raises(PermissionDenied):
        services.symptom_update(
            symptom=Symptom.objects.get(slug="loss-of-balance"), actor=author, changes={"name": "X"}, reason=REASON
        )
    assert amlodipine().drug_class == "Calcium channel blocker (dihydropyridine)"
    assert Symptom.objects.get(slug="loss-of-balance").name == "Loss of balance"


def test_a_reviewer_needs_a_complete_profile_because_readers_see_who_changed_it(roles, published_article):
    without_profile = make_user("new-reviewer", "Clinical reviewers")
    with pytest.raises(PermissionDenied, match="reviewer profile"):
        services.medication_update(
            medication=amlodipine(), actor=without_profile, changes={"drug_class": "X"}, reason=REASON
        )


# --- What it does -----------------------------------------------------------------------


def test_a_medication_change_is_audited_on_every_article_about_it(workflow, reviewer, published_article):
    second = workflow.live(another_article_about_amlodipine("amlodipine-ankle-swelling"))
    draft = workflow.draft(another_article_about_amlodipine("amlodipine-in-progress"))
    workflow.live(slug="unrelated", medication="otheramol")

    medication = services.medication_update(
        medication=amlodipine(),
        actor=reviewer,
        changes={"drug_class": "Dihydropyridine calcium channel blocker", "brand_names": ["Norvasc", "Istin"]},
        reason=REASON,
    )
    assert (medication.drug_class, medication.brand_names) == (
        "Dihydropyridine calcium channel blocker",
        ["Norvasc", "Istin"],
    )
    entries = AuditEntry.objects.filter(action=AuditAction.UPDATE_MEDICATION)
    assert sorted(entry.article.slug for entry in entries) == sorted(
        [published_article.article.slug, second.article.slug, draft.article.slug]
    )
    entry = entries.get(article=published_article.article)
    assert (entry.actor, entry.revision_id, entry.comment) == (reviewer, published_article.pk, REASON)
    assert entries.get(article=draft.article).revision_id is None  # nothing of it is live yet
    assert entry.data["vocabulary"] == "medication"
    assert entry.data["slug"] == "amlodipine"
    assert entry.data["changes"] == [
        {"field": "brand_names", "label": "Brand names", "from": ["Norvasc"], "to": ["Norvasc", "Istin"]},
        {
            "field": "drug_class",
            "label": "Drug class",
            "from": "Calcium channel blocker (dihydropyridine)",
            "to": "Dihydropyridine calcium channel blocker",
        },
    ]
    assert entry.data["changed_by"] == {
        "name": "Dr Reviewer",
        "credentials": "MBBS, MRCP, test physician",
        "is_demonstration": False,
    }


def test_a_symptom_change_is_audited_on_every_article_and_pathway_that_uses_it(reviewer, published_pathway):
    symptom = Symptom.objects.get(slug="muscle-weakness-or-cramping")
    services.symptom_update(
        symptom=symptom, actor=reviewer, changes={"name": "Muscle weakness or cramps"}, reason="Plainer words."
    )
    entries = AuditEntry.objects.filter(action=AuditAction.UPDATE_SYMPTOM)
    assert sorted(entry.article.slug for entry in entries) == [
        "amlodipine-peripheral-neuropathy",
        "numbness-tingling-weakness-amlodipine",
    ]
    assert Symptom.objects.get(pk=symptom.pk).name == "Muscle weakness or cramps"


def test_a_vocabulary_change_shows_at_once_on_the_cached_page_in_the_api_and_in_the_json_ld(
    client, api, reviewer, published_article
):
    first = client.get(ARTICLE_URL)  # rendered and cached
    services.medication_update(
        medication=amlodipine(), actor=reviewer, changes={"brand_names": ["Norvasc", "Istin"]}, reason=REASON
    )
    services.symptom_update(
        symptom=Symptom.objects.get(slug="loss-of-balance"),
        actor=reviewer,
        changes={"name": "Unsteadiness or loss of balance"},
        reason="Plainer words.",
    )
    second = client.get(ARTICLE_URL)
    assert second["ETag"] != first["ETag"]
    html = second.content.decode()
    assert "Amlodipine (Norvasc, Istin)" in page_text(html)
    assert json_ld(html)[0]["about"][0]["proprietaryName"] == ["Norvasc", "Istin"]
    data = api.json("/api/v1/articles/amlodipine-peripheral-neuropathy/")
    assert "Unsteadiness or loss of balance" in [entry["symptom"]["name"] for entry in data["content"]["symptoms"]]
    assert api.json("/api/v1/medications/amlodipine/")["brand_names"] == ["Norvasc", "Istin"]


def test_the_page_cache_identity_follows_the_vocabulary_however_it_was_saved(client, published_article):
    first = client.get(ARTICLE_URL)
    medication = amlodipine()
    medication.drug_class = "Changed from a shell"
    medication.save()
    second = client.get(ARTICLE_URL)
    assert second["ETag"] != first["ETag"]
    assert json_ld(second.content.decode())[0]["about"][0]["drugClass"]["name"] == "Changed from a shell"
    symptom = Symptom.objects.get(slug="loss-of-balance")
    symptom.name = "Wobbliness"
    symptom.save()
    assert client.get(ARTICLE_URL)["ETag"] != second["ETag"]


def test_a_vocabulary_change_appears_in_the_public_page_history(client, reviewer, published_article):
    before = page_text(client.get(f"{ARTICLE_URL}history/").content.decode())
    services.medication_update(
        medication=amlodipine(),
        actor=reviewer,
        changes={"drug_class": "Dihydropyridine calcium channel blocker"},
        reason=REASON,
    )
    text = page_text(client.get(f"{ARTICLE_URL}history/").content.decode())
    assert text != before
    assert "Medication details changed" in text
    assert "Drug class: “Calcium channel blocker (dihydropyridine)” → “Dihydropyridine calcium channel blocker”" in text
    assert REASON in text
    assert "Dr Reviewer, MBBS, MRCP, test physician" in text


def test_partners_see_the_article_as_updated(api, reviewer, published_article):
    moment = timezone.now()
    services.symptom_update(
        symptom=Symptom.objects.get(slug="loss-of-balance"), actor=reviewer, changes={"name": "X"}, reason=REASON
    )
    data = api.json("/api/v1/articles/amlodipine-peripheral-neuropathy/")
    assert datetime.datetime.fromisoformat(data["updated_at"]) >= moment
    since = moment.isoformat()
    assert [a["slug"] for a in api.json("/api/v1/articles/", {"updated_since": since})["results"]] == [
        "amlodipine-peripheral-neuropathy"
    ]


# --- What it refuses --------------------------------------------------------------------


def refused(call, match: str) -> None:
    before = (list(Medication.objects.values()), list(Symptom.objects.values()), AuditEntry.objects.count())
    with pytest.raises(ValidationError, match=match):
        call()
    assert (list(Medication.objects.values()), list(Symptom.objects.values()), AuditEntry.objects.count()) == before


def test_bad_changes_are_refused_and_nothing_is_written(workflow, reviewer, published_article):
    workflow.live(slug="other", medication="otheramol")

    def update(**kwargs):
        kwargs.setdefault("reason", REASON)
        return lambda: services.medication_update(medication=amlodipine(), actor=reviewer, **kwargs)

    refused(update(changes={"brand_names": ["Norvasc", "norvasc"]}), "only once")
    refused(update(changes={"rxnorm_rxcui": "not-a-number"}), "RxCUI")
    refused(update(changes={"generic_name": "Otheramol"}), "already exists")
    refused(update(changes={"slug": "amlo"}), "slug")
    refused(update(changes={"drug_class": "X"}, reason="  "), "reason")
    refused(update(changes={"drug_class": "Calcium channel blocker (dihydropyridine)"}), "Nothing changed")
    refused(update(changes={"no_such_field": "X"}), "no_such_field")
    refused(
        lambda: services.symptom_update(
            symptom=Symptom.objects.get(slug="loss-of-balance"),
            actor=reviewer,
            changes={"snomed_ct_code": "12"},
            reason=REASON,
        ),
        "SNOMED",
    )


def test_a_change_based_on_a_stale_copy_is_refused(reviewer, published_article):
    seen = amlodipine().updated_at
    services.medication_update(
        medication=amlodipine(),
        actor=reviewer,
        changes={"drug_class": "First"},
        reason=REASON,
        expected_updated_at=seen,
    )
    refused(
        lambda: services.medication_update(
            medication=amlodipine(),
            actor=reviewer,
            changes={"drug_class": "Second"},
            reason=REASON,
            expected_updated_at=seen,
        ),
        "Someone else changed",
    )


# --- New vocabulary from an author's import ------------------------------------------------


def test_new_vocabulary_from_an_import_stays_out_of_sight_until_reviewed_content_uses_it(api, workflow):
    draft = workflow.draft(article_document(slug="newamol-rash", medication="newamol"))
    assert Medication.objects.filter(slug="newamol").exists()
    medications = [m["slug"] for m in api.json("/api/v1/medications/")["results"]]
    symptoms = [s["slug"] for s in api.json("/api/v1/symptoms/")["results"]]
    assert "newamol" not in medications
    assert "newamol-symptom-1" not in symptoms
    assert api.get("/api/v1/medications/newamol/").status_code == 404
    assert api.get("/api/v1/symptoms/newamol-symptom-1/").status_code == 404

    workflow.take_live(Revision.objects.get(pk=draft.pk))
    assert "newamol" in [m["slug"] for m in api.json("/api/v1/medications/")["results"]]
    assert "newamol-symptom-1" in [s["slug"] for s in api.json("/api/v1/symptoms/")["results"]]
    assert api.json("/api/v1/symptoms/newamol-symptom-1/")["name"] == "newamol symptom 1"


def test_vocabulary_is_listed_while_any_live_content_uses_it(api, publisher, published_article, published_pathway):
    services.revision_withdraw(revision=published_article, actor=publisher, reason="Being rewritten.")
    # The live pathway's questions still refer to the symptoms, and it is about amlodipine.
    assert "burning-or-aching-pain" in [s["slug"] for s in api.json("/api/v1/symptoms/")["results"]]
    assert [m["slug"] for m in api.json("/api/v1/medications/")["results"]] == ["amlodipine"]
    services.revision_withdraw(revision=published_pathway, actor=publisher, reason="Being rewritten.")
    assert api.json("/api/v1/symptoms/")["results"] == []
    assert api.json("/api/v1/medications/")["results"] == []


def test_a_symptom_change_moves_the_pathway_apis_last_modified(api, reviewer, published_pathway, clock):
    """A partner asking "changed since?" must not get a 304 with the old symptom name."""
    url = f"/api/v1/pathways/{published_pathway.article.slug}/"
    clock.settle()
    before = api.get(url)["Last-Modified"]
    clock.advance(datetime.timedelta(days=1))
    services.symptom_update(
        symptom=Symptom.objects.get(slug="muscle-weakness-or-cramping"),
        actor=reviewer,
        changes={"name": "Muscle weakness or cramps"},
        reason="Plainer words.",
    )
    clock.settle()
    response = api.get(url, HTTP_IF_MODIFIED_SINCE=before)
    assert response.status_code == 200
    assert response["Last-Modified"] != before


def test_a_change_that_only_differs_in_form_is_no_change(reviewer, published_article):
    """Normalised first, compared second: no public "from X to X" entry on every article."""
    with pytest.raises(ValidationError, match="Nothing changed"):
        services.medication_update(
            medication=amlodipine(), actor=reviewer, changes={"generic_name": " Amlodipine "}, reason=REASON
        )
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE_MEDICATION).exists()
