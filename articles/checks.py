"""Start-up checks of the settings this app reads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

POSITIVE_SECONDS = ("ARTICLE_PAGE_CACHE_SECONDS", "LIVE_POINTER_SECONDS")


def check_cache_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Cache lifetimes are whole numbers of seconds above zero."""
    return [
        checks.Error(
            f"{name} must be a whole number of seconds above zero (it is {getattr(settings, name)!r}).",
            id="articles.E101",
        )
        for name in POSITIVE_SECONDS
        if not isinstance(getattr(settings, name), int) or getattr(settings, name) < 1
    ]
