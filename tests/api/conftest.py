from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from partners.models import Partner
from partners.services import partner_key_create


@pytest.fixture
def partner(db: Any) -> Partner:
    return Partner.objects.create(name="Example clinic portal")


@pytest.fixture
def api_key(partner: Partner) -> str:
    _, key = partner_key_create(partner=partner, name="test key")
    return key


class PartnerClient:
    """Speaks to the API the way a partner does: with the key header on every request."""

    def __init__(self, client: Client, key: str) -> None:
        self.client, self.key = client, key

    def get(self, url: str, data: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(url, data, HTTP_AUTHORIZATION=f"Api-Key {self.key}", **headers)

    def json(self, url: str, data: dict[str, Any] | None = None) -> Any:
        response = self.get(url, data)
        assert response.status_code == 200, (response.status_code, response.content[:500])
        return response.json()


@pytest.fixture
def api(client: Client, api_key: str) -> PartnerClient:
    return PartnerClient(client, api_key)
