"""Registers triage pathways as a kind of reviewed content (see ``articles.kinds``).

Everything ``articles`` needs to know about pathways comes from here: their
address, sitemap and list page, their rows (content, checks, admin inlines, diff
sections) and what the reviewer sees before signing off. Imported only from
``TriageConfig.ready()`` (and the ``check_pathway`` command): it imports the admin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from articles.content_checks import Finding
from articles.diff import ListSpec
from articles.kinds import ContentExtension, ContentKind, register
from articles.models import Revision

from . import engine
from .admin import PATHWAY_INLINES
from .content import PREFETCH, pathway_content, pathway_from_content, write_pathway_content
from .models import PATHWAY
from .sitemaps import PathwaySitemap
from .wording import wording_errors

# A pathway's logic is content: it is diffed like an article's lists.
DIFF_LISTS = (
    ListSpec("questions", "Triage questions", ("text",), children=(ListSpec("options", "Answers", ("label",)),)),
    ListSpec("dispositions", "Triage dispositions", ("title",)),
    ListSpec("rules", "Triage rules", ("description",), children=(ListSpec("conditions", "Conditions", ("key",)),)),
    ListSpec("vignettes", "Vignettes", ("title",)),
)


def _content(revision: Revision) -> dict[str, Any]:
    if (
        not hasattr(revision, "_prefetched_objects_cache")
        or "triage_questions" not in revision._prefetched_objects_cache
    ):
        revision = Revision.objects.prefetch_related(*PREFETCH).get(pk=revision.pk)
    return pathway_content(revision)


def safety_report(revision: Revision) -> engine.SafetyReport:
    """The pathway's structural, wording and safety checks (exhaustive over every answer combination).

    A question a reader can misread blocks submission as a malformed rule does: wording
    findings (``triage.wording``) join the structural errors.
    """
    content = _content(revision)
    report = engine.check_safety(
        pathway_from_content(content), max_combinations=settings.TRIAGE_MAX_ANSWER_COMBINATIONS
    )
    report.errors.extend(engine.Finding(finding.code, finding.message) for finding in wording_errors(content))
    return report


def _check(revision: Revision) -> tuple[list[Finding], list[Finding], list[Finding]]:
    report = safety_report(revision)

    def findings(items: list[engine.Finding]) -> list[Finding]:
        return [Finding(item.code, item.message, "pathway") for item in items]

    return findings(report.errors), findings(report.failures), findings(report.warnings)


def register_pathways() -> None:
    register(
        ContentKind(
            name=PATHWAY,
            label="Triage pathway",
            url_name="triage:pathway",
            extension=ContentExtension(content=_content, write=write_pathway_content, check=_check, has_sections=False),
            list_url_names=("triage:list",),
            reader_link_text="Check your symptoms",
            sitemaps={"triage": PathwaySitemap},
            admin_inlines=PATHWAY_INLINES,
            diff_lists=DIFF_LISTS,
            review_summary=review_summary_html,
            # An article's page links to the pathways that ask about its symptoms.
            article_links_heading="Check your symptoms",
        )
    )


def review_summary_html(revision: Revision) -> SafeString:
    """The reviewer's summary as shown on the revision's admin page."""
    return render_to_string("triage/admin/_review_summary.html", review_summary(revision))


def review_summary(revision: Revision) -> dict[str, Any]:
    """What the reviewer sees before signing off: each safety property, and every vignette's outcome."""
    pathway = pathway_from_content(_content(revision))
    report = safety_report(revision)
    codes = {finding.code.split(":")[0] for finding in (*report.errors, *report.failures)}
    checks = [
        (
            "The pathway is well formed (one fallback, valid rules, monotone urgency) and worded for readers "
            "(short questions and list items, plain words explained, no internal references)",
            not report.errors,
        ),
        (
            f"Every one of the {report.combinations_checked:,} answer combinations reaches a disposition",
            not report.errors and "gap" not in codes,
        ),
        ("No red flag can be out-voted by other answers", not report.errors and "red_flag" not in codes),
        ("Every rule can fire", not report.errors and "dead_rule" not in codes),
        (
            "Stopping as soon as the answers settle the result is never less urgent than answering every question",
            not report.errors and "early_stop" not in codes,
        ),
        ("Every vignette reaches at least its minimum urgency", not report.errors and "vignette" not in codes),
    ]
    vignettes = []
    if not report.errors:
        for vignette in pathway.vignettes:
            try:
                result = engine.evaluate(pathway, engine.vignette_answers(pathway, vignette))
            except engine.AnswerError as error:
                vignettes.append((vignette.title, vignette.minimum_level.slug, str(error), "invalid"))
                continue
            status = (
                "pass"
                if result.level == vignette.minimum_level
                else ("over-triage" if result.level > vignette.minimum_level else "UNDER-TRIAGE")
            )
            vignettes.append((vignette.title, vignette.minimum_level.slug, result.disposition.title, status))
    return {"checks": checks, "vignettes": vignettes, "report": report}
