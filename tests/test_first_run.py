"""The production first run, as the README's "Deployment" section tells it: from an empty database to an
article that the public page and the partner API serve, through the commands and the admin, four eyes.

With production-like settings: DEBUG off and no demo accounts (``load_demo`` would import drafts only).
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from articles.content_checks import check_revision
from articles.models import Revision, RevisionState

DEMO_ARTICLE = Path(__file__).resolve().parent.parent / "articles" / "demo" / "amlodipine-peripheral-neuropathy.json"
SLUG = "amlodipine-peripheral-neuropathy"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def production_like(settings: Any, roles: Any) -> None:
    """The empty database ``migrate`` leaves: the role groups (a data migration) and nothing else."""
    settings.DEBUG = False
    settings.DEMO_ACCOUNTS_ENABLED = False
    assert not get_user_model().objects.exists() and not Revision.objects.exists()


def transition(client: Client, user: Any, revision: Revision, name: str, data: dict[str, Any]) -> Revision:
    client.force_login(user)
    response = client.post(f"/admin/articles/revision/{revision.pk}/transition/{name}/", data, follow=True)
    assert response.status_code == 200
    assert ": done." in response.content.decode(), response.content.decode()[:2000]
    return Revision.objects.get(pk=revision.pk)


def test_from_an_empty_database_to_a_published_article(
    production_like: None, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    User = get_user_model()
    # 1. The first administrator.
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-first-administrator-password-9f3k")
    call_command("createsuperuser", "--noinput", username="admin", email="admin@example.org", stdout=StringIO())
    signed_in = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": "a-long-first-administrator-password-9f3k"}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # 2. Staff with roles; the reviewer with the public profile readers see.
    run("create_staff_account", "writer", "--email", "writer@example.org", "--role", "author")
    run(
        "create_staff_account",
        "checker",
        "--email",
        "checker@example.org",
        "--role",
        "reviewer",
        "--display-name",
        "Dr Rowan Checker",
        "--credentials",
        "MBBS, MRCP, test physician",
        "--registration-body",
        "Test Medical Council",
        "--registration-number",
        "T12345",
    )
    run("create_staff_account", "editor", "--email", "editor@example.org", "--role", "publisher")
    writer, checker, editor = (User.objects.get(username=name) for name in ("writer", "checker", "editor"))
    assert not writer.has_usable_password()  # until ``manage.py changepassword writer``
    # 3. A partner and its key (the key alone is on the last line).
    key = run("create_partner_key", "Example Clinic", "--create", "--name", "production").strip().splitlines()[-1]
    # 4. Content in, as a draft by its author.
    run("import_article", str(DEMO_ARTICLE), "--author", "writer")
    draft = Revision.objects.get(article__slug=SLUG)
    assert draft.state == RevisionState.DRAFT
    # 5. Through the workflow in the admin: the author submits, the reviewer approves, the publisher publishes.
    submitted = transition(client, writer, draft, "submit", {"submit-change_summary": "First version."})
    assert submitted.state == RevisionState.IN_REVIEW
    # Four eyes: the author cannot approve their own work.
    client.force_login(writer)
    client.post(f"/admin/articles/revision/{draft.pk}/transition/approve/", {}, follow=True)
    assert Revision.objects.get(pk=draft.pk).state == RevisionState.IN_REVIEW
    warnings = check_revision(Revision.objects.with_content().get(pk=draft.pk)).warning_codes
    seen = Revision.objects.get(pk=draft.pk).content_hash  # as the reviewer's page sends it
    approved = transition(
        client,
        checker,
        draft,
        "approve",
        {"approve-content_hash_seen": seen, "approve-acknowledged_warnings": list(warnings)},
    )
    assert approved.state == RevisionState.APPROVED
    published = transition(client, editor, draft, "publish", {})
    assert published.state == RevisionState.PUBLISHED
    # 6. Readers and partners see it, with the reviewer's name.
    client.logout()
    page = Client().get(f"/articles/{SLUG}/")
    assert page.status_code == 200
    assert "Dr Rowan Checker" in page.content.decode()
    api = Client().get(f"/api/v1/articles/{SLUG}/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert api.status_code == 200, api.content[:300]
    assert api.json()["revision"]["number"] == 1


def test_a_reviewer_needs_a_complete_public_profile(production_like: None) -> None:
    with pytest.raises(CommandError, match="display_name"):
        run("create_staff_account", "checker", "--email", "c@example.org", "--role", "reviewer")
    assert not get_user_model().objects.filter(username="checker").exists()
