"""A release whose static files differ is a new version of every page: a copy kept before it (in this process, the
shared cache, the proxy, a browser) links to the old release's stylesheet, which the new release may not serve."""

from __future__ import annotations

import json
import os
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.django_db

ARTICLE = "/articles/amlodipine-peripheral-neuropathy/"
MANIFEST_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


def release(settings: Any, root: Path, stamp: str) -> None:
    """Serve the static files of a release as ``collectstatic`` left them: hashed names, in a manifest."""
    root.mkdir()
    (root / "css").mkdir()
    (root / "img").mkdir()
    paths = {"css/site.css": f"css/site.{stamp}.css", "img/favicon.svg": f"img/favicon.{stamp}.svg"}
    for hashed in paths.values():
        (root / hashed).write_text("/* a release */")
    (root / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": stamp}))
    settings.STATIC_ROOT = str(root)
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}


@pytest.mark.parametrize("url", [ARTICLE, "/", f"{ARTICLE}history/"])
def test_a_release_with_other_static_files_is_a_new_version_of_every_page(
    client, published_article, settings, tmp_path, url
):
    release(settings, tmp_path / "first", "aaaaaaaaaaaa")
    first = client.get(url)
    assert first.status_code == 200 and b"/static/css/site.aaaaaaaaaaaa.css" in first.content
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    release(settings, tmp_path / "second", "bbbbbbbbbbbb")
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200, "the copy kept links to the last release's stylesheet"
    assert b"/static/css/site.bbbbbbbbbbbb.css" in again.content and b"aaaaaaaaaaaa" not in again.content
    assert again["ETag"] != first["ETag"]


@pytest.mark.parametrize("url", [ARTICLE, "/", f"{ARTICLE}history/", "/medicines/amlodipine/"])
def test_a_release_with_other_static_files_is_modified_for_if_modified_since_alone(
    client, published_article, settings, tmp_path, clock, url
):
    """A client or cache that revalidates by date alone is given the new release's page too: a page is modified
    when its static files were released (their manifest written), at the latest."""
    release(settings, tmp_path / "first", "aaaaaaaaaaaa")
    clock.settle()
    first = client.get(url)
    assert first.status_code == 200
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    release(settings, tmp_path / "second", "bbbbbbbbbbbb")
    later = time.time() + 5  # collectstatic ran after the page was kept
    os.utime(tmp_path / "second" / "staticfiles.json", (later, later))
    clock.settle()
    again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200, "a copy kept by date links to the last release's stylesheet"
    assert b"/static/css/site.bbbbbbbbbbbb.css" in again.content
    assert parsedate_to_datetime(again["Last-Modified"]) > parsedate_to_datetime(first["Last-Modified"])


def test_the_code_release_names_the_sources_and_packages_not_where_they_lie(tmp_path):
    """``code_release`` (what a stored page is judged by): any change to a template or a module's bytes, or to a
    package's version, is another release; the same tree in another directory (another machine's) is the same."""
    from contentsite.releases import source_fingerprint

    def tree(where: Path, template: str) -> Path:
        root = where / "templates"
        (root / "articles").mkdir(parents=True)
        (root / "articles" / "page.html").write_text(template)
        (root / "views.py").write_text("PAGE = 1\n")
        (root / "notes.txt").write_text("not a source")
        return root

    first = tree(tmp_path / "a", "<p>Talk to your pharmacist.</p>")
    same = tree(tmp_path / "b", "<p>Talk to your pharmacist.</p>")
    other = tree(tmp_path / "c", "<p>Talk to your doctor.</p>")
    assert source_fingerprint([first], ["Django==5.2"]) == source_fingerprint([same], ["Django==5.2"])
    assert source_fingerprint([first], ["Django==5.2"]) != source_fingerprint([other], ["Django==5.2"])
    assert source_fingerprint([first], ["Django==5.2"]) != source_fingerprint([first], ["Django==5.2.1"])
    (same / "notes.txt").write_text("changed, but not a source")
    assert source_fingerprint([first]) == source_fingerprint([same])
