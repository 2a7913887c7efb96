"""Partners (clinics, patient apps, EHR vendors) and their API keys."""

from __future__ import annotations

import datetime
import logging
import time

from django.core.cache import cache
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

logger = logging.getLogger(__name__)

rate_validator = RegexValidator(
    r"^[1-9][0-9]*/(second|minute|hour|day)\Z", "Write a rate such as 600/minute or 10000/day.", "invalid_rate"
)


# When this process last noted each key's use (``record_use``): a time of day per key, never shared.
RECORD_USE_SECONDS = 60
_recorded: dict[str, float] = {}


class Partner(models.Model):
    name = models.CharField(max_length=100, unique=True)
    contact_email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True, help_text="An inactive partner's keys stop working at once.")
    rate_limit = models.CharField(
        max_length=30,
        blank=True,
        validators=[rate_validator],
        help_text="Requests per key, e.g. 600/minute. Empty: the site default (PARTNER_API_RATE).",
    )
    notes = models.TextField(blank=True)
    is_demonstration = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# How long a key's row (with its partner) is kept in the shared cache. Revoking a key or
# changing its partner drops it at once, and does not return before the cache took that drop
# or this long has passed (``key_change_wait_seconds``): while Redis hangs for the app server
# making the change, the others may read the row until it expires. So it is short (a key in
# use costs two small queries per period, whatever its requests), and a change made in the
# admin waits at most that long, well within gunicorn's 30 s timeout.
KEY_CACHE_SECONDS = 10
# Beyond KEY_CACHE_SECONDS: Redis's clock and the app server's may differ in rate, and the last try of a drop takes
# its own time.
KEY_CACHE_MARGIN_SECONDS = 1


def key_change_wait_seconds() -> float:
    """How long a change to keys or their partner keeps asking the cache to drop the keys' rows on commit before it
    returns (``contentsite.invalidation.invalidate_on_commit``): once the cache took it, or once that long has passed
    since the commit, when what the cache held of them before the commit has expired (``KEY_CACHE_SECONDS``: on
    Redis's own clock, which runs on while Redis hangs, and is kept by its saves and its replicas), no app server
    accepts what the change refused."""
    return KEY_CACHE_SECONDS + KEY_CACHE_MARGIN_SECONDS


def key_cache_key(prefix: str) -> str:
    """Where the unrevoked key with ``prefix`` and its partner are kept in the shared cache."""
    return f"partner-key:v1:{prefix}"


def known_key_cache_key(prefix: str) -> str:
    """Where the shared cache notes that a key with ``prefix`` exists (kept without expiry; set when the key is made
    and whenever it is read from the database): an address past its failed authentications has a key looked up in
    the database only if its prefix is known (``partners.admission``), so that a made-up one costs no query."""
    return f"partner-key-known:v1:{prefix}"


class PartnerAPIKeyManager(APIKeyManager):
    def unrevoked_prefixes(self) -> frozenset[str]:
        """The prefixes of every unrevoked key: what ``partners.admission`` knows exists when the cache has forgot
        (one query, a few bytes a key)."""
        return frozenset(self.filter(revoked=False).values_list("prefix", flat=True))

    def unrevoked(self, prefix: str, *, cached: object = None) -> PartnerAPIKey | None:
        """The unrevoked key with ``prefix`` and its partner: one cache read, or a query on a miss.

        ``cached``: what the caller already read from the cache under ``key_cache_key(prefix)``
        (None: nothing, read it here). The caller still checks the key against its hash,
        its expiry and the partner being active. A revocation or partner change drops the cached row
        (``partners.signals``); a reader that read the row while such a change
        committed finds it out by reading again after caching it.
        """
        key = key_cache_key(prefix)
        if cached is None:  # not read already (``partners.admission`` reads it with the request's rate count)
            try:
                cached = cache.get(key)
            except Exception:  # a cache outage is a miss
                cached = None
        if isinstance(cached, PartnerAPIKey):
            return cached
        found = self.select_related("partner").filter(prefix=prefix, revoked=False).first()
        if found is None:
            return None
        try:
            if cache.add(key, found, KEY_CACHE_SECONDS):
                again = self.filter(pk=found.pk).values_list("revoked", "partner__is_active", "partner__rate_limit")
                if list(again) != [(False, found.partner.is_active, found.partner.rate_limit)]:
                    cache.delete(key)
            cache.set(known_key_cache_key(prefix), True, timeout=None)
        except Exception:
            logger.warning("Could not keep API key %s in the cache.", prefix, exc_info=True)
        return found


class PartnerAPIKey(AbstractAPIKey):
    """A key is stored only as a SHA-512 hash; the key itself is shown once, when created."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    # Written until use moved to the cache (``record_use``); kept as the fallback for older keys.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PartnerAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "partner API key"
        verbose_name_plural = "partner API keys"

    def is_valid(self, key: str) -> bool:
        """Whether ``key`` is this key, by its hash. Only checked: djangorestframework-api-key's own re-hashes a key
        hashed by one of Django's password hashers and saves it as it checks it, a write on a partner's read (every
        key made here is hashed by its preferred hasher already)."""
        return type(self).objects.key_generator.verify(key, self.hashed_key)

    def record_use(self) -> None:
        """Note that the key was just used: in the cache, never in the database (reads never write).

        At most once a minute per key and process: the time is good to a minute anyway.
        """
        now = time.monotonic()
        if now - _recorded.get(self.prefix, -RECORD_USE_SECONDS) < RECORD_USE_SECONDS:
            return
        _recorded[self.prefix] = now
        try:
            # One small write per key per minute, not per request: the key lives a minute, the time for good.
            if cache.add(f"{self._last_used_key}:recent", True, timeout=60):
                cache.set(self._last_used_key, timezone.now().isoformat(), timeout=None)
        except Exception:  # a cache outage is a miss, never an error for the partner
            logger.warning("Could not record the use of API key %s in the cache.", self.prefix, exc_info=True)

    @property
    def last_used(self) -> datetime.datetime | None:
        """When the key was last used, as far as the cache remembers (else the last time the database recorded)."""
        try:
            raw = cache.get(self._last_used_key)
        except Exception:
            raw = None
        return datetime.datetime.fromisoformat(raw) if raw else self.last_used_at

    @property
    def _last_used_key(self) -> str:
        return f"partner-key-last-used:{self.pk}"
