"""Partners and their keys: created from the shell or the admin, shown once, stored hashed."""

from __future__ import annotations

import io
import re
from typing import Any

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


# --- The admin goes through partners/services.py, like the command ------------------------------


@pytest.fixture
def service_calls(monkeypatch):
    """Record every call to the key services (and still make it)."""
    from partners import services

    calls = []
    for name in ("partner_key_create", "partner_key_revoke", "partner_keys_revoke"):
        original = getattr(services, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(services, name, spy)
    return calls


def test_a_key_added_in_the_admin_is_made_by_the_service(client, admin_user_account, partner, service_calls):
    client.force_login(admin_user_account)
    response = client.post(
        "/admin/partners/partnerapikey/add/", {"name": "Portal", "partner": partner.pk, "expiry_date": ""}, follow=True
    )
    assert response.status_code == 200
    assert service_calls == ["partner_key_create"]
    key = re.search(r"The API key for Portal is: ([A-Za-z0-9]{8}\.[A-Za-z0-9]{32})", response.content.decode())
    assert key and PartnerAPIKey.objects.get(name="Portal").is_valid(key.group(1))


def test_a_key_is_revoked_in_the_admin_only_by_the_service(client, admin_user_account, partner, service_calls):
    from partners.services import partner_key_create

    stored, _ = partner_key_create(partner=partner, name="Portal")
    service_calls.clear()
    client.force_login(admin_user_account)
    url = f"/admin/partners/partnerapikey/{stored.pk}/change/"
    html = client.get(url).content.decode()
    # The change form no longer edits what decides access: revoked, expiry, partner.
    for field in ("revoked", "expiry_date", "partner"):
        assert f'name="{field}"' not in html, field
    client.post(url, {"name": "Portal", "revoked": "on", "expiry_date": "2099-01-01 00:00:00", "_save": "1"})
    stored.refresh_from_db()
    assert (stored.revoked, stored.expiry_date) == (False, None)
    assert service_calls == []

    client.post("/admin/partners/partnerapikey/", {"action": "revoke", "_selected_action": [stored.pk]})
    assert service_calls == ["partner_keys_revoke"]  # the selected keys in one call: an outage is waited out once
    assert PartnerAPIKey.objects.get(pk=stored.pk).revoked is True


def test_keys_and_partners_are_not_deleted_in_the_admin(client, admin_user_account, partner):
    from partners.services import partner_key_create

    stored, _ = partner_key_create(partner=partner, name="Portal")
    client.force_login(admin_user_account)
    assert client.post(f"/admin/partners/partnerapikey/{stored.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/partners/partner/{partner.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = client.get("/admin/partners/partnerapikey/").content.decode()
    assert "delete_selected" not in listing
    assert PartnerAPIKey.objects.filter(pk=stored.pk, revoked=False).exists()


# --- The key's row is kept in the shared cache: no query on a repeat, and no stale access -------


def _cached_key_queries(client, key: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    return [query["sql"] for query in captured if "partners_partnerapikey" in query["sql"]]


def test_a_repeat_request_reads_the_key_from_the_cache(client, published_article, api_key):
    assert _cached_key_queries(client, api_key)  # the first reads the row
    assert _cached_key_queries(client, api_key) == []


def test_a_revoked_key_is_refused_on_the_very_next_request(client, published_article, partner, api_key):
    from partners.services import partner_key_revoke

    auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    assert client.get("/api/v1/articles/", **auth).status_code == 200
    partner_key_revoke(key=PartnerAPIKey.objects.get(partner=partner))
    assert client.get("/api/v1/articles/", **auth).status_code == 401


def test_a_suspended_partner_and_a_new_rate_apply_on_the_very_next_request(client, published_article, partner, api_key):
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    assert client.get("/api/v1/articles/", **auth).status_code == 200
    partner.rate_limit = "1/day"  # a new rate counts afresh
    partner.save()
    assert client.get("/api/v1/articles/", **auth).status_code == 200
    assert client.get("/api/v1/articles/", **auth).status_code == 429
    partner.is_active = False
    partner.save()
    assert client.get("/api/v1/articles/", **auth).status_code == 401


def test_a_rate_changed_and_changed_back_counts_each_request_once(client, published_article, partner, api_key):
    """A process counts a key's request ahead on the counter it counted on last (``partners.admission``); when the
    partner's rate changed since, the request is counted on the new one, and the hit ahead taken back."""
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}

    def left() -> int:
        response = client.get("/api/v1/articles/", **auth)
        assert response.status_code == 200
        return int(response["RateLimit"].rpartition("r=")[2].partition(";")[0])

    partner.rate_limit = "20/minute"
    partner.save()
    assert [left(), left()] == [19, 18]
    partner.rate_limit = "30/minute"
    partner.save()
    assert [left(), left()] == [29, 28]
    partner.rate_limit = "20/minute"  # changed back within the window: its counter holds the first two
    partner.save()
    assert [left(), left()] == [17, 16]


def test_a_key_revoked_while_a_reader_was_caching_it_is_not_left_in_the_cache(
    client, published_article, partner, api_key, monkeypatch
):
    """The reader read the row, then the revocation committed, then the reader cached what it read."""
    from django.core.cache import cache

    from partners import models

    class RevokedMeanwhile:
        def __getattr__(self, name):
            return getattr(cache, name)

        def add(self, key, value, timeout=None):
            PartnerAPIKey.objects.filter(pk=value.pk).update(revoked=True)  # no signal: the worst case
            return cache.add(key, value, timeout)

    monkeypatch.setattr(models, "cache", RevokedMeanwhile())
    assert models.PartnerAPIKey.objects.unrevoked(api_key.partition(".")[0]) is not None  # what it read
    monkeypatch.setattr(models, "cache", cache)
    assert client.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {api_key}").status_code == 401


@pytest.mark.outage
def test_a_keys_row_read_from_the_cache_is_unpickled_once_per_process(published_article, partner, api_key, own_redis):
    """Found by profiling a partner's 304 (issue 9): unpickling the key's row and its partner, two model instances,
    was a tenth of its CPU on every request. The row is the same bytes until the key or its partner changes, and
    nothing changes a key read from the cache, so those bytes are unpickled once per process (``decoded_once``)."""
    from partners.admission import admit

    header = f"Api-Key {api_key}"
    assert admit(header).api_key is not None  # read from the database, and kept in the cache
    first, second = admit(header).api_key, admit(header).api_key
    assert first is not None and second is first
    partner.rate_limit = "7/minute"  # the row is dropped from the cache: read again, and another value
    partner.save()
    third = admit(header).api_key
    assert third is not None and third is not first and third.partner.rate_limit == "7/minute"


def test_the_counter_an_admission_counts_on_is_read_once(published_article, partner, api_key, monkeypatch):
    """Found in review of the stop: the admission read the key's counter twice, once to take its count and once to
    ask for it, so a thread that named the counter in between (a threaded server's first request with the key) made
    the two disagree, and the admission fail (a 500)."""
    from partners import admission

    header = f"Api-Key {api_key}"
    assert admission.admit(header).api_key is not None  # this process now names the key's counter

    class NamedMeanwhile(dict):
        """The counters as another thread changes them: unknown at the first read, known from the second."""

        reads = 0

        def get(self, key: Any, default: Any = None) -> Any:
            self.reads += 1
            return default if self.reads == 1 else super().get(key, default)

    monkeypatch.setattr(admission, "_counters", NamedMeanwhile(admission._counters))
    found = admission.admit(header)
    assert found.api_key is not None and found.problem is None


def test_a_key_hashed_by_an_older_hasher_is_checked_without_a_write(client, published_article, partner, api_key):
    """Found in review of the stop: djangorestframework-api-key re-hashes and saves a key hashed by one of Django's
    password hashers as it checks it, a write on a partner's GET (and a change to the key's row the process shares)."""
    from django.contrib.auth.hashers import make_password

    prefix, _, _ = api_key.partition(".")
    PartnerAPIKey.objects.filter(prefix=prefix).update(hashed_key=make_password(api_key))
    older = PartnerAPIKey.objects.get(prefix=prefix).hashed_key
    response = client.get("/api/v1/articles/", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    assert response.status_code == 200
    assert PartnerAPIKey.objects.get(prefix=prefix).hashed_key == older
