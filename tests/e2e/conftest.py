"""Browser tests: Playwright driving Debian's Chromium against a live server.

``playwright install`` cannot download browsers here, so the tests launch the
system Chromium. Without it they skip locally, but fail under ``CI=true``.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# calls from fixtures there are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package (apt-get install -y chromium)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# The demo pathways' safety reports, by their content: the same for the same content (``triage.kind.safety_report``
# is a pure function of it and of the combination limit), so each browser test's load_demo proves them once per run.
_SAFETY_REPORTS: dict[str, Any] = {}


def _remembered_safety_report(real: Any) -> Any:
    from django.conf import settings

    from triage import kind

    def safety_report(revision: Any) -> Any:
        content = kind._content(revision)
        key = json.dumps([content, settings.TRIAGE_MAX_ANSWER_COMBINATIONS], sort_keys=True, default=str)
        if key not in _SAFETY_REPORTS:
            _SAFETY_REPORTS[key] = real(revision)
        return copy.deepcopy(_SAFETY_REPORTS[key])

    return safety_report


@pytest.fixture
def demo_site(transactional_db: Any, roles: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The demo content, loaded through the review workflow as ``load_demo`` does (the database is emptied after each
    browser test). Only while it loads are the pathways' safety reports taken from earlier loads of the same content:
    their exhaustive check is most of load_demo's time, and its answer cannot differ."""
    from triage import kind

    with monkeypatch.context() as patched:
        patched.setattr(kind, "safety_report", _remembered_safety_report(kind.safety_report))
        call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return live_server
