"""Lists such as a medication's brand names are edited as lines, never typed as JSON."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from articles.forms import LineListField
from articles.limits import MAX_BRAND_NAMES, MAX_TITLE_CHARS
from articles.models import AuditAction, AuditEntry, Medication
from tests.articles.test_admin_side_doors import change_url, reviewer_form

pytestmark = pytest.mark.django_db


def test_lines_are_normalised_deduplicated_and_bounded():
    field = LineListField(max_items=3, max_item_chars=10, required=False)
    assert field.clean("  Norvasc \r\n\r\nIstin\nnorvasc\nRe\u0301gime\n") == ["Norvasc", "Istin", "R\u00e9gime"]
    assert field.clean("") == []
    assert field.prepare_value(["Norvasc", "Istin"]) == "Norvasc\nIstin"
    assert not field.has_changed(["Norvasc", "Istin"], "Norvasc\r\nIstin\r\n")
    assert field.has_changed(["Norvasc"], "Istin")
    for bad in ["a\nb\nc\nd", "x" * 11, "Hidden\u202e"]:
        with pytest.raises(ValidationError):
            field.clean(bad)


def test_a_new_medication_takes_brand_names_one_per_line(client, admin_user_account):
    client.force_login(admin_user_account)
    html = client.get("/admin/articles/medication/add/").content.decode()
    assert '<textarea name="brand_names"' in html
    assert f"At most {MAX_BRAND_NAMES}, each at most {MAX_TITLE_CHARS} characters." in html
    response = client.post(
        "/admin/articles/medication/add/",
        {"slug": "atorvastatin", "generic_name": "Atorvastatin", "brand_names": "Lipitor\r\n\r\n Lipitor \r\n"},
    )
    assert response.status_code == 302
    assert Medication.objects.get(slug="atorvastatin").brand_names == ["Lipitor"]


def test_a_reviewer_changes_brand_names_as_lines(client, reviewer, published_article):
    medication = Medication.objects.get(slug="amlodipine")
    client.force_login(reviewer)
    data = reviewer_form(client, medication)
    assert data["brand_names"] == "Norvasc"  # the stored list, shown as its lines
    response = client.post(change_url(medication), {**data, "brand_names": "Norvasc\nIstin", "reason": "Also sold as."})
    assert response.status_code == 302
    assert Medication.objects.get(pk=medication.pk).brand_names == ["Norvasc", "Istin"]
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE_MEDICATION)
    assert entry.data["changes"][0]["to"] == ["Norvasc", "Istin"]
    # The same names in another spelling of the lines are no change.
    data = reviewer_form(client, medication)
    response = client.post(change_url(medication), {**data, "brand_names": "Norvasc\r\nIstin\r\n", "reason": "None."})
    assert "Nothing changed." in response.content.decode()
