"""Every list action in the admin, sent with selections no list page offers: a clear message, never a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.test import RequestFactory
from django.urls import reverse

pytestmark = pytest.mark.django_db

# What a hand-made form could send as the selected rows: not one of them can be a row's key.
NOT_KEYS = ["abc", "1x", "", " ", "1.5", "-", "9" * 40, "\x00"]


def offered_actions(user) -> list[tuple[type, str]]:
    request = RequestFactory().get("/admin/")
    request.user = user
    found = []
    for model, model_admin in admin.site._registry.items():
        found += [(model, name) for name in model_admin.get_actions(request)]
    return found


def test_every_action_with_a_selection_that_is_no_row_is_answered_without_a_500(client, admin_user_account):
    """Found from outside: ``action=start_draft&_selected_action=abc`` on the articles list was a 500 (Django's own
    ``queryset.filter(pk__in=...)`` raised ValueError), and the same on feedback's "mark handled"."""
    client.force_login(admin_user_account)
    actions = offered_actions(admin_user_account)
    assert {name for _, name in actions} >= {"start_draft", "mark_handled", "revoke"}
    for model, name in actions:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for value in NOT_KEYS:
            if model._meta.pk.get_internal_type() == "CharField" and value.strip("\x00"):
                continue  # a text key: any text could name a row (none here does), as Django reads it
            response = client.post(url, {"action": name, helpers.ACTION_CHECKBOX_NAME: [value], "index": 0})
            assert response.status_code in (200, 302), (url, name, value, response.status_code)
