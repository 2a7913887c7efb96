"""What the shared cache holds of a key (its row, with its partner) is dropped when either changes.

Connected by being imported in ``PartnersConfig.ready``. A revocation, a suspended
partner or a new rate applies on the very next request: the drop is made now and on
commit, and kept until the cache takes it (``contentsite.invalidation``); the commit
returns once the cache took it, or once what it held before has expired
(``partners.models.key_change_wait_seconds``), so that no app server still accepts
what the change refused. A key just created has nothing in the cache to wait for.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from contentsite.invalidation import invalidate_on_commit

from .models import Partner, PartnerAPIKey, key_cache_key, key_change_wait_seconds


def _forget_keys(prefixes: list[str], *, wait: bool = True) -> None:
    invalidate_on_commit(
        [key_cache_key(prefix) for prefix in prefixes], keep_trying_seconds=key_change_wait_seconds() if wait else 0
    )


@receiver([post_save, post_delete], sender=PartnerAPIKey)
def _key_changed(sender: type, instance: PartnerAPIKey, **kwargs: object) -> None:
    _forget_keys([instance.prefix], wait=not kwargs.get("created"))


@receiver([post_save, post_delete], sender=Partner)
def _partner_changed(sender: type, instance: Partner, **kwargs: object) -> None:
    _forget_keys(list(PartnerAPIKey.objects.filter(partner_id=instance.pk).values_list("prefix", flat=True)))
