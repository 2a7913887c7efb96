"""Partners (clinics, patient apps, EHR vendors) and their API keys."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

rate_validator = RegexValidator(
    r"^[1-9][0-9]*/(second|minute|hour|day)\Z", "Write a rate such as 600/minute or 10000/day.", "invalid_rate"
)


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


class PartnerAPIKey(AbstractAPIKey):
    """A key is stored only as a SHA-512 hash; the key itself is shown once, when created."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "partner API key"
        verbose_name_plural = "partner API keys"
