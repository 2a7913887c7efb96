"""Creating and revoking partner API keys."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Partner, PartnerAPIKey


def partner_key_create(
    *, partner: Partner, name: str = "", expires_at: datetime.datetime | None = None
) -> tuple[PartnerAPIKey, str]:
    """Create a key for ``partner``; return it with the plain key, which is not stored anywhere."""
    name = name or f"{partner.name} key"[:50]  # a default name is only a label
    if len(name) > 50:
        raise ValidationError({"name": "A key's name has at most 50 characters."}, code="name_too_long")
    with transaction.atomic():
        return PartnerAPIKey.objects.create_key(partner=partner, name=name, expiry_date=expires_at)


def partner_key_revoke(*, key: PartnerAPIKey) -> PartnerAPIKey:
    """Revoke a key for good (it cannot be restored)."""
    with transaction.atomic():
        key = PartnerAPIKey.objects.select_for_update().get(pk=key.pk)
        key.revoked = True
        key.save(update_fields=["revoked"])
    return key
