"""The Wagtail comparison: a minimal Wagtail 8 site in a virtualenv of its own, built on demand.

The virtualenv (``bench/.wagtail-venv``, git-ignored) is never the project's: Wagtail is a
yardstick here, not a dependency. Its pages carry the demo article's words (sections as heading
and paragraph blocks; the article's other rows as paragraphs), so that the two pages are of a
size; the bench prints both sizes next to the ratio.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .fixtures import LONG_SECTIONS, long_document
from .servers import ROOT, Gunicorn, server_environment

VENV = ROOT / "bench" / ".wagtail-venv"
SITE = ROOT / "bench" / "wagtail_site"
DATABASE = ROOT / "bench" / ".data" / "wagtail.sqlite3"
WAGTAIL = "wagtail==8.0.1"
DEMO_PATH = "/demo/"
LONG_PATH = "/long/"


def _python() -> Path:
    return VENV / "bin" / "python"


def _installed() -> bool:
    probe = subprocess.run(  # noqa: S603
        [str(_python()), "-c", "import wagtail, gunicorn; print(wagtail.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == WAGTAIL.split("==")[1]


def build(say: Callable[[str], None]) -> str:
    """Make the virtualenv if it is not there yet; return why it cannot be made, or ""."""
    if _python().exists() and _installed():
        return ""
    say(f"building {VENV.relative_to(ROOT)} with {WAGTAIL} (once) ...")
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [str(_python()), "-m", "pip", "install", "--quiet", WAGTAIL, "gunicorn"],
    ]
    for step in steps:
        try:
            finished = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{' '.join(step[:4])}: {error}"
        if finished.returncode:
            return f"{' '.join(step[:4])} failed: {(finished.stderr or finished.stdout).strip()[-300:]}"
    return "" if _installed() else "the virtualenv was built but does not import Wagtail"


def page_blocks(document: dict[str, Any]) -> list[tuple[str, str]]:
    """The article's words as heading and paragraph blocks: sections, then the other rows' texts."""
    revision = document["revision"]
    blocks: list[tuple[str, str]] = []
    for section in revision["sections"]:
        blocks += [("heading", section["heading"]), ("paragraph", section["body"])]
    for rows in ("symptom_entries", "action_steps", "callouts", "references"):
        for row in revision.get(rows, []):
            text = " ".join(str(value) for value in row.values() if isinstance(value, str) and len(value) > 20)
            if text:
                blocks.append(("paragraph", text))
    for table in revision.get("comparison_tables", []):
        blocks.append(("paragraph", json.dumps(table, ensure_ascii=False)))
    return blocks


def _pages() -> dict[str, Any]:
    demo = json.loads((ROOT / "articles/demo/amlodipine-peripheral-neuropathy.json").read_text())
    pages = []
    for slug, document in (("demo", demo), ("long", long_document(LONG_SECTIONS))):
        revision = document["revision"]
        pages.append(
            {"slug": slug, "title": revision["title"], "summary": revision["summary"], "blocks": page_blocks(document)}
        )
    return {"pages": pages}


def prepare(say: Callable[[str], None]) -> str:
    """Build the virtualenv and load the two pages; return why the comparison is skipped, or ""."""
    reason = build(say)
    if reason:
        return reason
    DATABASE.parent.mkdir(parents=True, exist_ok=True)
    finished = subprocess.run(  # noqa: S603
        [str(_python()), "load.py"],
        input=json.dumps(_pages()),
        env=_environment(),
        cwd=SITE,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode:
        return f"loading the Wagtail pages failed: {finished.stderr.strip()[-500:]}"
    return ""


def _environment() -> dict[str, str]:
    environment = server_environment(database_url="", redis_url="", cache_prefix="", bytes_dir=Path("/nonexistent"))
    return {**environment, "PYTHONPATH": str(SITE), "WAGTAIL_DATABASE": str(DATABASE)}


def server() -> Gunicorn:
    """Wagtail on gunicorn with the same workers as ours."""
    return Gunicorn(
        "wagtail",
        _environment(),
        settings="settings",
        python=str(_python()),
        application="wsgi:application",
        directory=SITE,
        ready_path=DEMO_PATH,
    )
