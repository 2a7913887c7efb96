"""Which release of the static files a page links to, so that a copy of a page never outlives it.

In production the static files have hashed names (``CompressedManifestStaticFilesStorage``), and a page
links to the names of its release. A copy of a page kept before a release (in a process, the shared
cache, the proxy, a browser) would go on linking to the stylesheet of the last release, which the new
one may not serve: an unstyled page. So every page's ETag names the release of its static files, and
its Last-Modified is the release's time at the earliest (``articles.views``): a release whose static
files differ is a new version of every page, for a client revalidating by ETag or by date alone. (A proxy
serves its fresh copies until their ``s-maxage`` without asking: the README's deploy steps say how long the last
release's files must stay served, or how to ban them.)
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
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


@functools.cache
def static_files_released_at() -> datetime.datetime | None:
    """When the static files this process's pages link to were released: when their manifest was written
    (``collectstatic``); None where their names are not hashed, or the time cannot be read."""
    storage: Any = staticfiles_storage
    manifest_storage = getattr(storage, "manifest_storage", None)
    if manifest_storage is None or not static_files_release():
        return None
    try:
        return manifest_storage.get_modified_time(storage.manifest_name)  # type: ignore[no-any-return]
    except (OSError, NotImplementedError):
        return None


@functools.cache
def code_release() -> str:
    """A name for the code this process renders pages with: a hash of the project's own apps' source and templates
    and of every installed package's version. A copy of a page that outlives any release (``StoredPage``, kept in the
    database across releases) is judged by it: a release that changes the page's template, the Python that writes
    its HTML or a library under it (Markdown, the sanitiser) renders every page again. Read once per process."""
    roots = [Path(directory) for engine in settings.TEMPLATES for directory in engine.get("DIRS", ())]
    roots += [Path(config.path) for config in apps.get_app_configs() if _is_the_projects(Path(config.path))]
    packages = sorted(f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions())
    return source_fingerprint(roots, packages)


def source_fingerprint(roots: Iterable[Path], packages: Iterable[str] = ()) -> str:
    """A hash of the ``.py`` and ``.html`` files under ``roots`` (their paths under the root and their bytes) and of
    ``packages``."""
    digest = hashlib.sha256()
    # By the path under its root's name, not where the tree lies: the same release in another directory (another
    # machine's) is the same release.
    files = sorted(
        (f"{root.name}/{path.relative_to(root).as_posix()}", path)
        for root in roots
        for pattern in ("*.py", "*.html")
        for path in root.rglob(pattern)
    )
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    for package in packages:
        digest.update(package.encode() + b"\0")
    return digest.hexdigest()[:16]


def _is_the_projects(path: Path) -> bool:
    """Whether an app lives in the project's own tree (not an installed package)."""
    base = Path(settings.BASE_DIR).resolve()
    return base in path.resolve().parents and "site-packages" not in path.parts


@receiver(setting_changed)
def _forget_the_release(*, setting: str, **kwargs: Any) -> None:
    if setting in _STATIC_SETTINGS:
        static_files_release.cache_clear()
        static_files_released_at.cache_clear()
