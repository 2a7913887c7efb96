"""What the project itself keeps in the database (the content is in ``articles``, ``triage``...)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

# A change that names more keys than this is kept in several rows.
MAX_KEYS_PER_ROW = 1000


class PendingInvalidation(models.Model):
    """What a committed change must drop from the shared cache and purge from the proxy, kept until both took it.

    Written by ``contentsite.invalidation.invalidate_on_commit`` inside the change's
    own transaction, so it exists exactly when the change does, and deleted once the
    cache and every proxy have taken it (on commit, by a later change, or by
    ``manage.py retry_invalidations``). Doing it twice is harmless.
    """

    # Cache keys (as the code names them, before the cache's prefix): at most MAX_KEYS_PER_ROW.
    cache_keys = models.JSONField(default=list)
    # Proxy surrogate keys to purge (``contentsite.proxy``): at most MAX_KEYS_PER_ROW.
    proxy_keys = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "pending cache invalidation"

    def __str__(self) -> str:
        return (
            f"{len(self.cache_keys)} cache keys, {len(self.proxy_keys)} proxy keys, {self.created_at:%Y-%m-%d %H:%M:%S}"
        )


class TakenInvalidation(models.Model):
    """What the shared cache took of a committed change's drops, remembered while what they dropped could still be
    held by a Redis that comes back with older data.

    A failover to a replica that had not copied the drop yet, or a Redis restarted from a save made before it, holds
    the old value again (a withdrawn article's live pointer, a revoked key's row) until it expires. So when a
    ``PendingInvalidation`` is taken its cache keys are kept here, and every new connection to Redis drops them
    again before anything is read on it, for as long as such a value can live in the cache
    (``contentsite.invalidation.remembered_seconds``); after that they are deleted.
    """

    # Cache keys (as the code names them, before the cache's prefix): at most MAX_KEYS_PER_ROW.
    cache_keys = models.JSONField(default=list)
    taken_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "taken cache invalidation"

    def __str__(self) -> str:
        return f"{len(self.cache_keys)} cache keys, taken {self.taken_at:%Y-%m-%d %H:%M:%S}"
