"""Partners and their keys. Keys are created and revoked only through ``partners.services``.

A key is shown once, when created, and never changes afterwards: its change page
is read-only, revocation is the "Revoke" action, and neither keys nor partners
are deleted (revoke a key; mark a partner inactive), so every key that ever
worked stays on record.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from rest_framework_api_key.models import APIKey

from . import services
from .models import Partner, PartnerAPIKey

# The library's own key model is unused (partners' keys are PartnerAPIKey): keep it out of the admin.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class PartnerAPIKeyInline(admin.TabularInline):
    model = PartnerAPIKey
    fields = ["name", "prefix", "created", "expiry_date", "last_used", "revoked"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "rate_limit", "contact_email", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "contact_email"]
    inlines = [PartnerAPIKeyInline]

    def has_delete_permission(self, request: HttpRequest, obj: Partner | None = None) -> bool:
        # Deleting a partner would delete its keys, bypassing revocation: mark it inactive instead.
        return False


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(admin.ModelAdmin):
    """Adding a key shows it once, in the confirmation message; only its hash is kept."""

    list_display = ["prefix", "name", "partner", "created", "expiry_date", "revoked", "last_used"]
    list_filter = ["partner", "revoked", "created"]
    search_fields = ["name", "prefix", "partner__name"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: PartnerAPIKey | None = None) -> list[str]:
        if obj is None:
            return ["partner", "name", "expiry_date"]
        return ["partner", "name", "prefix", "created", "expiry_date", "revoked", "last_used"]

    def get_readonly_fields(self, request: HttpRequest, obj: PartnerAPIKey | None = None) -> list[str]:
        return self.get_fields(request, obj) if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj: PartnerAPIKey | None = None) -> bool:
        # A key never changes once made (the list's "Revoke" action needs the permission, not a form).
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: PartnerAPIKey | None = None) -> bool:
        return False  # revoke instead: the record of the key stays

    def save_model(self, request: HttpRequest, obj: PartnerAPIKey, form: ModelForm, change: bool) -> None:
        created, key = services.partner_key_create(partner=obj.partner, name=obj.name, expires_at=obj.expiry_date)
        # The admin goes on with ``obj`` (its log entry, its redirect): make it the key just created.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding, obj._state.db = False, created._state.db
        messages.warning(
            request,
            f"The API key for {created.name} is: {key}. Please store it somewhere safe: "
            "you will not be able to see it again.",
        )

    @admin.action(description="Revoke the selected keys (cannot be undone)", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[PartnerAPIKey]) -> None:
        # All at once: in a cache outage the service waits until no app server accepts them, once.
        revoked = services.partner_keys_revoke(keys=list(queryset.filter(revoked=False)))
        for key in revoked:
            self.log_change(request, key, "Revoked.")
        self.message_user(
            request, f"Revoked {len(revoked)} key(s): no app server accepts them any more.", messages.SUCCESS
        )
