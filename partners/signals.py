"""What the shared cache holds of a key (its row, with its partner) is dropped when either changes.

Connected by being imported in ``PartnersConfig.ready``. A revocation, a suspended
partner or a new rate applies on the very next request: the drop is made now and on
commit, and kept until the cache takes it (``contentsite.invalidation``).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from contentsite.invalidation import invalidate_on_commit

from .models import Partner, PartnerAPIKey, key_cache_key


def _forget_keys(prefixes: list[str]) -> None:
    invalidate_on_commit([key_cache_key(prefix) for prefix in prefixes])


@receiver([post_save, post_delete], sender=PartnerAPIKey)
def _key_changed(sender: type, instance: PartnerAPIKey, **kwargs: object) -> None:
    _forget_keys([instance.prefix])


@receiver([post_save, post_delete], sender=Partner)
def _partner_changed(sender: type, instance: Partner, **kwargs: object) -> None:
    _forget_keys(list(PartnerAPIKey.objects.filter(partner_id=instance.pk).values_list("prefix", flat=True)))
