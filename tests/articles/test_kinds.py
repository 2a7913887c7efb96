"""Kinds of reviewed content come from one registry (``articles.kinds``), filled by the apps that own them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from articles import kinds
from articles.models import Article, ArticleKind, Medication
from tests.pages import sitemap_locations

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaflet(monkeypatch):
    """A kind registered by some other app: articles knows only what the registry tells it."""
    kind = kinds.ContentKind(
        name="leaflet", label="Patient leaflet", url_name="articles:history", list_url_names=("articles:search",)
    )
    monkeypatch.setitem(kinds._KINDS, kind.name, kind)
    return kind


@pytest.fixture
def medication():
    return Medication.objects.create(slug="testamol", generic_name="testamol")


def test_a_registered_kind_is_valid_and_gets_its_address_and_label_from_the_registry(leaflet, medication):
    article = Article(slug="a-leaflet", kind="leaflet", medication=medication)
    article.full_clean()
    assert article.get_absolute_url() == reverse("articles:history", kwargs={"slug": "a-leaflet"})
    assert article.get_kind_display() == "Patient leaflet"


def test_a_kind_nobody_registered_is_refused(medication):
    article = Article(slug="odd", kind="leaflet", medication=medication)
    with pytest.raises(ValidationError) as error:
        article.full_clean()
    assert "kind" in error.value.message_dict


def test_the_registry_holds_articles_and_the_kinds_installed_apps_add():
    assert ArticleKind.ARTICLE in dict(kinds.kind_choices())
    assert dict(kinds.kind_choices())["triage_pathway"] == "Triage pathway"
    assert Article._meta.get_field("kind").choices is not None


def test_the_sitemap_lists_every_kinds_list_pages(client, leaflet):
    # /sitemap.xml is an index: the addresses are in the pages it lists.
    locations = sitemap_locations(client)
    assert any(location.endswith("/search/") for location in locations)
    assert any(location.endswith("/triage/") for location in locations)


def test_the_kinds_pass_the_system_checks():
    assert kinds.check_kinds(None) == []


def test_a_kind_whose_address_cannot_be_built_fails_the_system_check(monkeypatch):
    broken = kinds.ContentKind(name="broken", label="Broken", url_name="nowhere:at-all")
    monkeypatch.setitem(kinds._KINDS, broken.name, broken)
    assert [error.id for error in kinds.check_kinds(None)] == ["articles.E101"]
