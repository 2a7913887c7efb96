"""Creating and revoking partner API keys."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction

from contentsite.invalidation import invalidate_on_commit

from .models import Partner, PartnerAPIKey, key_cache_key, key_change_wait_seconds, known_key_cache_key


def partner_key_create(
    *, partner: Partner, name: str = "", expires_at: datetime.datetime | None = None
) -> tuple[PartnerAPIKey, str]:
    """Create a key for ``partner``; return it with the plain key, which is not stored anywhere."""
    name = name or f"{partner.name} key"[:50]  # a default name is only a label
    if len(name) > 50:
        raise ValidationError({"name": "A key's name has at most 50 characters."}, code="name_too_long")
    with transaction.atomic():
        created, key = PartnerAPIKey.objects.create_key(partner=partner, name=name, expiry_date=expires_at)
    # Known before its first use (``partners.admission``): a cache outage is a miss, and its first use notes it then.
    cache.add(known_key_cache_key(created.prefix), True, timeout=None)
    return created, key


def partner_key_revoke(*, key: PartnerAPIKey) -> PartnerAPIKey:
    """Revoke a key for good (it cannot be restored), as ``partner_keys_revoke``."""
    partner_keys_revoke(keys=[key])
    return PartnerAPIKey.objects.get(pk=key.pk)


def partner_keys_revoke(*, keys: Iterable[PartnerAPIKey]) -> list[PartnerAPIKey]:
    """Revoke ``keys`` for good (they cannot be restored), in one transaction; the keys it revoked (those that were
    not revoked already).

    Returns once no app server accepts any of them: once the shared cache took the drop of their cached rows, at
    once as a rule; while it does not take it (Redis hung for this server, or refusing writes), once what it held of
    them before the commit has expired (``partners.models.key_change_wait_seconds``, 11 s). One transaction, so that
    revoking several keys in an outage waits that long once, not once per key.
    """
    with transaction.atomic():
        revoked = list(
            PartnerAPIKey.objects.select_for_update()
            .filter(pk__in=[key.pk for key in keys], revoked=False)
            .order_by("pk")
        )
        for key in revoked:
            key.revoked = True
        # One drop for all of them (``partners.signals`` would make one per key, each waited for in turn).
        PartnerAPIKey.objects.filter(pk__in=[key.pk for key in revoked]).update(revoked=True)
        invalidate_on_commit(
            [key_cache_key(key.prefix) for key in revoked], keep_trying_seconds=key_change_wait_seconds()
        )
    return revoked
