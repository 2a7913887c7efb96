"""The app boundaries hold: the import-linter contracts (``.importlinter``) and what they cannot see.

``make lint`` runs ``lint-imports`` too; this test makes ``make test`` enforce the same contracts.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def test_the_import_contracts_hold():
    result = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contracts_cover_the_rules_of_the_issue():
    config = (ROOT / ".importlinter").read_text()
    for contract in (
        "articles-does-not-know-triage",
        "api-does-not-import-admin",
        "views-do-not-import-admin-or-api",
    ):
        assert f"[importlinter:contract:{contract}]" in config


def _code_words(path: Path) -> list[tuple[int, str]]:
    """Names and strings in a module (docstrings included), not comments."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [(token.start[0], token.string) for token in tokens if token.type in (tokenize.NAME, tokenize.STRING)]


def test_articles_does_not_name_triage_kinds_urls_or_lists():
    """An import contract cannot see ``reverse("triage:pathway")`` or ``"triage_pathway"``; this can.

    Landed migrations are history and stay as they were.
    """
    found = []
    for path in sorted((ROOT / "articles").rglob("*.py")):
        if "migrations" in path.parts and path.name < "0030":
            continue
        for line, word in _code_words(path):
            if "triage" in word.lower() or "pathway" in word.lower():
                found.append(f"{path.relative_to(ROOT)}:{line}: {word[:60]}")
    for path in sorted(
        [*(ROOT / "templates/articles").rglob("*.html"), *(ROOT / "templates/admin/articles").rglob("*")]
    ):
        if path.is_file():
            for number, text in enumerate(path.read_text().splitlines(), start=1):
                if "triage" in text.lower() or "pathway" in text.lower():
                    found.append(f"{path.relative_to(ROOT)}:{number}: {text.strip()[:60]}")
    assert found == []


def test_templates_hold_no_ordering_rules():
    """``level >= 4`` or ``next_review_due < today`` in a template is a rule nobody tests: give it a name."""
    rules = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            for tag in re.findall(r"\{%\s*(?:el)?if\b(.*?)%\}", text):
                if re.search(r"\s(<|>|<=|>=)\s", tag):
                    rules.append(f"{path.relative_to(ROOT)}:{number}: {tag.strip()}")
    assert rules == []
