"""The admin's header and home: who is signed in, in what role, and their dashboard."""

from typing import Any

from django import template

from articles.dashboard import DashboardRow, dashboard_for

register = template.Library()


@register.simple_tag
def staff_name(user: Any) -> str:
    """The signed-in user's full name, or their username when they gave none."""
    return user.get_full_name() or user.get_username()


@register.simple_tag
def staff_roles(user: Any) -> str:
    """The user's roles (their groups), e.g. "Authors, Clinical reviewers"; one query."""
    names = sorted(user.groups.values_list("name", flat=True))
    if user.is_superuser:
        names.insert(0, "Administrator")
    return ", ".join(names) or "Staff"


@register.simple_tag
def dashboard(user: Any) -> list[DashboardRow]:
    """The user's dashboard lines (``articles.dashboard``)."""
    return dashboard_for(user)
