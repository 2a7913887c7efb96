"""A medication or symptom cannot be added under a name that reads as another's.

Found by helper h3 from outside (gunicorn on PostgreSQL, signed in as demo-author, and import_article): with
"Amlodipine" stored, the admin's add page and an import each created "Amlodipine" + U+200D ZERO WIDTH JOINER,
"Amlodipine" + U+200E LEFT-TO-RIGHT MARK, "Amlo" + U+00AD SOFT HYPHEN + "dipine" and "amlodipine" (five
medications in all that readers and authors see as one name), and a symptom "Burning or aching pain" + U+200D
beside "Burning or aching pain". Names were unique only as stored; the joiners, marks and soft hyphen are kept by
the text rule (ordinary text needs them), so NFC alone cannot make them the same. ``articles.text.lookalike_key``
says when two names read the same; each entry keeps it, unique in the database.
"""

from __future__ import annotations

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from articles import services
from articles.interchange.importer import ImportRejected
from articles.models import Article, Medication, Revision, Symptom
from articles.services import article_import
from articles.text import lookalike_key
from tests.factories import article_document, demo_document

pytestmark = pytest.mark.django_db

LOOKALIKES_OF_AMLODIPINE = [
    "Amlodipine\u200d",  # zero width joiner
    "Amlodipine\u200c",  # zero width non-joiner
    "Amlodipine\u200e",  # left-to-right mark
    "Amlo\u00addipine",  # soft hyphen
    "amlodipine",
    "AMLODIPINE",
    "\uff21mlodipine",  # full-width A
]


def test_names_that_read_the_same_have_one_key_and_others_do_not():
    key = lookalike_key("Amlodipine besilate")
    for same in [
        "amlodipine besilate",
        "Amlodipine  besilate",
        "Amlodipine\tbesilate",
        "Amlodipine\u00a0besilate",
        "Amlo\u00addipine be\u200dsilate",
    ]:
        assert lookalike_key(same) == key, same
    assert lookalike_key(unicodedata.normalize("NFD", "Ménière")) == lookalike_key("Ménière")
    for other in ["Amlodipine", "Amlodipine besylate", "Felodipine besilate"]:
        assert lookalike_key(other) != key, other
    assert len(lookalike_key("\ufdfa" * 200)) == 64  # a digest: bounded however far the name expands (NFKC)


@pytest.mark.parametrize("name", LOOKALIKES_OF_AMLODIPINE)
def test_the_admin_refuses_a_new_medication_that_reads_as_a_stored_one(client, author, published_article, name):
    client.force_login(author)
    response = client.post("/admin/articles/medication/add/", {"slug": "amlodipine-again", "generic_name": name})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["generic_name"], errors
    assert "'Amlodipine' already has this generic name, or one that looks the same" in errors["generic_name"][0]
    assert list(Medication.objects.values_list("generic_name", flat=True)) == ["Amlodipine"]


def test_the_admin_refuses_a_new_symptom_that_reads_as_a_stored_one(client, author, published_article):
    client.force_login(author)
    response = client.post(
        "/admin/articles/symptom/add/",
        {"slug": "burning-pain-again", "name": "Burning or aching pain\u200d", "description": "Burning pain."},
    )
    assert response.status_code == 200
    assert "looks the same" in response.context["adminform"].form.errors["name"][0]
    assert not Symptom.objects.filter(slug="burning-pain-again").exists()


def test_a_different_name_is_still_added(client, author, published_article):
    client.force_login(author)
    response = client.post("/admin/articles/medication/add/", {"slug": "felodipine", "generic_name": "Felodipine"})
    assert response.status_code == 302
    assert Medication.objects.get(slug="felodipine").name_key == lookalike_key("Felodipine")


def test_an_import_refuses_a_new_medication_or_symptom_that_reads_as_a_stored_one(published_article):
    document = article_document(slug="another-article", medication="amlodipine-again", symptoms=2)
    document["medication"]["generic_name"] = "Amlodipine\u200d"
    document["symptoms"][0]["name"] = "burning or aching pain"
    document["symptoms"][1]["name"] = "BURNING OR ACHING PAIN"
    revisions = Revision.objects.count()
    with pytest.raises(ImportRejected) as caught:
        article_import(document=document, actor=None)
    assert [str(problem) for problem in caught.value.problems] == [
        "medication.generic_name: the medication 'amlodipine' already has a name that looks the same ('Amlodipine')",
        "symptoms[0].name: the symptom 'burning-or-aching-pain' already has a name that looks the same "
        "('Burning or aching pain'); list it by its slug, or give this symptom another name",
        "symptoms[1].name: the symptom 'burning-or-aching-pain' already has a name that looks the same "
        "('Burning or aching pain'); list it by its slug, or give this symptom another name",
        "symptoms[1].name: duplicate name 'BURNING OR ACHING PAIN' (also at symptoms[0])",
    ]
    assert Revision.objects.count() == revisions
    assert Medication.objects.count() == 1


def test_an_import_refuses_two_new_symptoms_that_read_the_same(db):
    document = article_document(slug="another-article", medication="othermol", symptoms=2)
    document["symptoms"][1]["name"] = document["symptoms"][0]["name"].upper()
    with pytest.raises(ImportRejected) as caught:
        article_import(document=document, actor=None)
    assert [str(problem) for problem in caught.value.problems] == [
        f"symptoms[1].name: duplicate name {document['symptoms'][1]['name']!r} (also at symptoms[0])"
    ]


def test_a_symptom_cannot_be_renamed_to_read_as_another(reviewer, published_article):
    symptom = Symptom.objects.get(slug="loss-of-balance")
    with pytest.raises(ValidationError) as caught:
        services.symptom_update(
            symptom=symptom, actor=reviewer, changes={"name": "Burning or aching pain\u200c"}, reason="Typo."
        )
    assert "looks the same" in str(caught.value)
    assert Symptom.objects.get(pk=symptom.pk).name == "Loss of balance"
    # A change of its own name's case is no lookalike of itself.
    services.symptom_update(symptom=symptom, actor=reviewer, changes={"name": "Loss Of Balance"}, reason="Case.")
    assert Symptom.objects.get(pk=symptom.pk).name_key == lookalike_key("loss of balance")


def test_the_database_holds_one_entry_per_name_as_read(published_article):
    with pytest.raises(IntegrityError), transaction.atomic():
        Medication.objects.create(slug="amlodipine-again", generic_name="Amlodipine\u200d")


def test_brand_names_that_read_the_same_are_one_name(published_article):
    medication = Medication.objects.get(slug="amlodipine")
    medication.brand_names = ["Norvasc", "Norvasc\u200d"]
    with pytest.raises(ValidationError) as caught:
        medication.full_clean()
    assert "Each brand name may appear only once." in str(caught.value)
    assert demo_document()["medication"]["brand_names"] == ["Norvasc"]


# --- Addresses: a new slug in one form ----------------------------------------------------------------
# Found by helper h3 from outside the same way: demo-author's admin add page and import_article each made an article
# "Amlodipine-Peripheral-Neuropathy" beside "amlodipine-peripheral-neuropathy" (Django's slug rule allows capitals and
# "_"): two articles, once published two pages, at addresses a reader cannot tell apart.


def test_the_admin_refuses_a_new_article_whose_address_differs_only_in_capitals(client, author, published_article):
    client.force_login(author)
    response = client.post(
        "/admin/articles/article/add/",
        {
            "slug": "Amlodipine-Peripheral-Neuropathy",
            "medication": Medication.objects.get(slug="amlodipine").pk,
            "topic": "Peripheral neuropathy",
            "title": "Amlodipine and peripheral neuropathy",
            "summary": "A summary.",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["slug"], errors
    assert "Use lower-case letters, digits and single hyphens" in errors["slug"][0]
    assert list(Article.objects.values_list("slug", flat=True)) == ["amlodipine-peripheral-neuropathy"]


@pytest.mark.parametrize("slug", ["Felodipine", "felo_dipine", "felodipine--er"])
def test_the_admin_refuses_a_new_medication_slug_in_another_form(client, author, db, slug):
    client.force_login(author)
    response = client.post("/admin/articles/medication/add/", {"slug": slug, "generic_name": "Felodipine"})
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["slug"]
    assert not Medication.objects.exists()


def test_an_import_refuses_a_new_address_in_another_form_and_still_finds_a_stored_one(author, published_article):
    document = demo_document()
    document["article"]["slug"] = "Amlodipine-Peripheral-Neuropathy"
    document["symptoms"][0]["slug"] = "Burning_Pain"
    with pytest.raises(ImportRejected) as caught:
        article_import(document=document, actor=None)
    problems = [str(problem) for problem in caught.value.problems]
    assert any(p.startswith("article.slug: Use lower-case letters") for p in problems), problems
    assert any(p.startswith("symptoms[0].slug: Use lower-case letters") for p in problems), problems
    assert Article.objects.count() == 1

    # An address stored before the rule is still the article's: a new draft of it imports.
    Article.objects.filter(pk=published_article.article_id).update(slug="Legacy_Address")
    document = demo_document()
    document["article"]["slug"] = "Legacy_Address"
    revision = article_import(document=document, actor=None)
    assert revision.article_id == published_article.article_id
