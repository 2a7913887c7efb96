from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings as hypothesis_settings

from partners.models import Partner
from partners.services import partner_key_create

CALLS: Counter[str] = Counter()


@pytest.fixture
def in_process_app(db: Any) -> Any:
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(db: Any) -> str:
    _, plain = partner_key_create(partner=Partner.objects.create(name="Fuzz partner"), name="fuzz")
    return plain


@pytest.fixture
def api_schema(in_process_app: Any, api_key: str, published_article: Any, settings: Any) -> Any:
    settings.PARTNER_API_RATE = "1000000/minute"
    config = schemathesis.Config.from_dict(
        {
            "seed": 20240601,
            "auth": {"openapi": {"PartnerApiKey": {"api_key": f"Api-Key {api_key}"}}},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", in_process_app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(max_examples=30, derandomize=True, deadline=None, database=None)
def test_fuzz(case: Any) -> None:
    CALLS[case.operation.label] += 1
    case.call_and_validate()
