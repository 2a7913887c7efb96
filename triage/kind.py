"""Registers triage pathways as a kind of reviewed content (see ``articles.kinds``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from articles.content_checks import Finding
from articles.kinds import ContentExtension, register
from articles.models import ArticleKind, Revision

from . import engine
from .content import PREFETCH, pathway_content, pathway_from_content, write_pathway_content


def _content(revision: Revision) -> dict[str, Any]:
    if (
        not hasattr(revision, "_prefetched_objects_cache")
        or "triage_questions" not in revision._prefetched_objects_cache
    ):
        revision = Revision.objects.prefetch_related(*PREFETCH).get(pk=revision.pk)
    return pathway_content(revision)


def safety_report(revision: Revision) -> engine.SafetyReport:
    """The pathway's structural and safety checks (exhaustive over every answer combination)."""
    return engine.check_safety(
        pathway_from_content(_content(revision)), max_combinations=settings.TRIAGE_MAX_ANSWER_COMBINATIONS
    )


def _check(revision: Revision) -> tuple[list[Finding], list[Finding], list[Finding]]:
    report = safety_report(revision)

    def findings(items: list[engine.Finding]) -> list[Finding]:
        return [Finding(item.code, item.message, "pathway") for item in items]

    return findings(report.errors), findings(report.failures), findings(report.warnings)


def register_pathways() -> None:
    register(
        ArticleKind.TRIAGE_PATHWAY,
        ContentExtension(content=_content, write=write_pathway_content, check=_check, has_sections=False),
    )
