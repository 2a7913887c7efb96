"""Partners and their keys: created from the shell or the admin, shown once, stored hashed."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from partners.models import Partner, PartnerAPIKey

pytestmark = pytest.mark.django_db


def test_create_partner_key_prints_the_key_alone_on_its_last_line(client, published_article, partner):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_partner_key", partner.name, stdout=out, stderr=err)
    key = out.getvalue().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}", key)
    assert "will not be shown again" in err.getvalue()
    stored = PartnerAPIKey.objects.get(partner=partner)
    assert key not in stored.hashed_key
    assert client.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200


def test_create_partner_key_for_an_unknown_partner(db):
    with pytest.raises(CommandError, match="No partner named 'Nobody'"):
        call_command("create_partner_key", "Nobody")
    out = io.StringIO()
    call_command("create_partner_key", "New clinic", "--create", stdout=out, stderr=io.StringIO())
    assert Partner.objects.filter(name="New clinic").exists()


def test_create_partner_key_refuses_a_bad_expiry(partner):
    with pytest.raises(CommandError, match="--expires"):
        call_command("create_partner_key", partner.name, "--expires", "tomorrow")
    assert not PartnerAPIKey.objects.exists()


def test_the_admin_shows_a_new_key_once_and_can_revoke_it(client, admin_user_account, partner):
    client.force_login(admin_user_account)
    response = client.post(
        "/admin/partners/partnerapikey/add/", {"name": "Portal", "partner": partner.pk, "expiry_date": ""}, follow=True
    )
    message = response.content.decode()
    key = re.search(r"The API key for Portal is: ([A-Za-z0-9]{8}\.[A-Za-z0-9]{32})", message).group(1)
    stored = PartnerAPIKey.objects.get(name="Portal")
    assert key not in str(stored.__dict__)
    listing = client.get("/admin/partners/partnerapikey/").content.decode()
    assert key not in listing
    client.post("/admin/partners/partnerapikey/", {"action": "revoke", "_selected_action": [stored.pk]})
    assert PartnerAPIKey.objects.get(pk=stored.pk).revoked is True


def test_load_demo_adds_a_demo_partner_without_a_key(db):
    call_command("load_demo", stdout=io.StringIO())
    partner = Partner.objects.get(name="Demo partner (demonstration)")
    assert partner.is_demonstration
    assert not partner.api_keys.exists()


def test_a_key_name_over_50_characters_is_refused_not_cut(partner):
    with pytest.raises(CommandError, match="at most 50 characters"):
        call_command("create_partner_key", partner.name, "--name", "x" * 51, stdout=io.StringIO())
    assert not PartnerAPIKey.objects.exists()
