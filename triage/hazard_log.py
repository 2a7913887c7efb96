"""The clinical hazard log (``docs/clinical-safety/hazard-log.md``) shown to staff in the admin.

The log lives with the code, beside the tests that prove its controls; reviewers read it from
each pathway's revision page.
"""

from __future__ import annotations

import functools
from pathlib import Path

import nh3
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

HAZARD_LOG = Path(settings.BASE_DIR) / "docs" / "clinical-safety" / "hazard-log.md"


@functools.cache
def hazard_log_html() -> SafeString:
    """The log as HTML: rendered once per process (it changes only with a deploy), then cleaned."""
    html = MarkdownIt("commonmark").enable("table").render(HAZARD_LOG.read_text(encoding="utf-8"))
    return mark_safe(nh3.clean(html))  # noqa: S308 -- cleaned by nh3 just above


@staff_member_required
def hazard_log(request: HttpRequest) -> HttpResponse:
    return render(request, "triage/admin/hazard_log.html", {"log": hazard_log_html(), "title": "Hazard log: triage"})
