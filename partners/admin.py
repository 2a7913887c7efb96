from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
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


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(APIKeyModelAdmin):
    """Adding a key shows it once, in the confirmation message; only its hash is kept."""

    list_display = [*APIKeyModelAdmin.list_display, "partner", "last_used"]
    list_filter = ["partner", "revoked"]
    search_fields = [*APIKeyModelAdmin.search_fields, "partner__name"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: PartnerAPIKey | None = None) -> tuple[str, ...]:
        fields = (*super().get_readonly_fields(request, obj), "last_used")
        return (*fields, "partner") if obj else fields

    @admin.action(description="Revoke the selected keys (cannot be undone)", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[PartnerAPIKey]) -> None:
        for key in queryset:
            services.partner_key_revoke(key=key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)
