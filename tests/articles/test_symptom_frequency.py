"""Each symptom entry on the article page says how often it happens, in the leaflet's words, with its source."""

from __future__ import annotations

import html

import pytest

from articles.models import FrequencyBand
from articles.presentation import FREQUENCY_NOT_GIVEN, FREQUENCY_WORDING, frequency_note
from tests.factories import article_document, demo_document

pytestmark = pytest.mark.django_db


def page_text(client, slug: str) -> str:
    response = client.get(f"/articles/{slug}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_every_band_has_the_leaflet_wording():
    assert set(FREQUENCY_WORDING) == set(FrequencyBand.values)
    assert frequency_note("uncommon", "Amlodipine SmPC, section 4.8.") == (
        "How often: uncommon (may affect up to 1 in 100 people). Source: Amlodipine SmPC, section 4.8."
    )
    very_common = "How often: very common (may affect more than 1 in 10 people). Source: Label."
    assert frequency_note("very_common", "Label") == very_common
    very_rare = "How often: very rare (may affect up to 1 in 10,000 people). Source: Label."
    assert frequency_note("very_rare", "Label") == very_rare
    assert frequency_note("not_known", "Label") == (
        "How often: not known (frequency cannot be estimated from the available data). Source: Label."
    )
    assert frequency_note("", "") == FREQUENCY_NOT_GIVEN


def test_the_demo_article_says_its_frequencies_are_not_known(client, published_article, api):
    entries = demo_document()["revision"]["symptom_entries"]
    assert entries and all(entry["frequency_band"] == "" for entry in entries)  # the seed gives none
    text = page_text(client, published_article.article.slug)
    assert text.count(FREQUENCY_NOT_GIVEN) == len(entries)
    # The API still sends the stored band and source, not the page's words.
    payload = api.json(f"/api/v1/articles/{published_article.article.slug}/")
    sent = [(entry["frequency_band"], entry["frequency_source"]) for entry in payload["content"]["symptoms"]]
    assert sent == [("", "")] * len(entries)
    assert "How often" not in str(payload)


@pytest.mark.parametrize("band", FrequencyBand.values)
def test_every_band_renders_with_its_source_escaped(client, workflow, band):
    document = article_document(symptoms=2)
    entry = document["revision"]["symptom_entries"][0]
    entry["frequency_band"], entry["frequency_source"] = band, "Product <label> & leaflet"
    workflow.live(document)
    response = client.get("/articles/test-medicine-side-effect/")
    body = response.content.decode()
    assert "Source: Product &lt;label&gt; &amp; leaflet." in body
    name, numbers = FREQUENCY_WORDING[band]
    text = html.unescape(body)
    assert f"How often: {name} ({numbers}). Source: Product <label> & leaflet." in text
    assert text.count(FREQUENCY_NOT_GIVEN) == 1  # the other entry gives none
    assert text.count('class="symptom-frequency"') == 2
