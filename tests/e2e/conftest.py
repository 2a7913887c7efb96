"""Browser tests: Playwright driving Debian's Chromium against a live server.

``playwright install`` cannot download browsers here, so the tests launch the
system Chromium. Without it they skip locally, but fail under ``CI=true``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import safety_reports_remembered

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


@pytest.fixture
def demo_site(transactional_db: Any, roles: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The demo content, loaded through the review workflow as ``load_demo`` does (the database is emptied after each
    browser test). While it loads, the pathways' safety reports are those of earlier loads of the same content
    (``safety_reports_remembered``): their exhaustive check is most of load_demo's time."""
    with safety_reports_remembered(monkeypatch):
        call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return live_server
