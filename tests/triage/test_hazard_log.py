"""The hazard log (docs/clinical-safety/hazard-log.md): every control names a test that exists, and
reviewers reach the log from a pathway's revision page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
NAMED_TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def sections() -> dict[str, str]:
    """Each hazard's section, by its id (H1, H2, ...)."""
    parts = re.split(r"^## (H\d+):", LOG.read_text(encoding="utf-8"), flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_named_test_exists():
    named = NAMED_TEST.findall(LOG.read_text(encoding="utf-8"))
    assert len(named) >= 20
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file() or not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M)
    ]
    assert missing == []


def test_every_hazard_in_the_summary_has_a_section_with_a_tested_control():
    text = LOG.read_text(encoding="utf-8")
    summary = set(re.findall(r"^\| (H\d+) \|", text, flags=re.M))
    found = sections()
    assert summary == set(found)
    for hazard, body in found.items():
        assert "**Controls:**" in body, hazard
        assert NAMED_TEST.search(body), f"{hazard} names no test for its controls"


def test_no_placeholder_is_left():
    assert not re.search(r"\b[A-Z_]+_CONTROLS\b", LOG.read_text(encoding="utf-8"))


@pytest.mark.django_db
def test_the_reviewer_reaches_the_log_from_a_pathway_revision(client, published_pathway, reviewer):
    from django.urls import reverse

    client.force_login(reviewer)
    page = client.get(reverse("admin:articles_revision_change", args=[published_pathway.pk]))
    assert page.status_code == 200
    log_url = reverse("triage-hazard-log")
    assert f'href="{log_url}"' in page.content.decode()
    log = client.get(log_url)
    assert log.status_code == 200 and "<h2>H1: a red-flag answer is out-voted</h2>" in log.content.decode()
    client.logout()
    assert client.get(log_url).status_code == 302  # staff only: to the log-in page


@pytest.mark.django_db
def test_the_hazard_log_page_costs_the_staff_session_only(client, reviewer, django_assert_max_num_queries):
    from django.urls import reverse

    client.force_login(reviewer)
    client.get(reverse("triage-hazard-log"))
    with django_assert_max_num_queries(4):  # the session and the user, whatever the size of the library
        assert client.get(reverse("triage-hazard-log")).status_code == 200
