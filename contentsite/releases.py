"""Which release of the static files a page links to, so that a copy of a page never outlives it.

In production the static files have hashed names (``CompressedManifestStaticFilesStorage``), and a page
links to the names of its release. A copy of a page kept before a release (in a process, the shared
cache, the proxy, a browser) would go on linking to the stylesheet of the last release, which the new
one may not serve: an unstyled page. So every page's ETag names the release of its static files
(``articles.views``), and a release whose static files differ is a new version of every page.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.staticfiles.storage import staticfiles_storage
from django.dispatch import receiver
from django.test.signals import setting_changed

# The settings that choose the static files (Django resets its own storage on the same).
_STATIC_SETTINGS = frozenset({"STORAGES", "STATIC_ROOT", "STATIC_URL"})


@functools.cache
def static_files_release() -> str:
    """A name for the static files this process's pages link to: the hash of their manifest where their names are
    hashed (Django's ``manifest_hash``), else "" (names that never change). Read once per process: a release's
    manifest does not change while it runs."""
    return str(getattr(staticfiles_storage, "manifest_hash", "") or "")


@receiver(setting_changed)
def _forget_the_release(*, setting: str, **kwargs: Any) -> None:
    if setting in _STATIC_SETTINGS:
        static_files_release.cache_clear()
