"""schema.org JSON-LD for article pages (and, later, the partner API)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .models import PublicationType, Revision

# Characters that could end a <script> block or start HTML inside it.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def canonical_url(revision: Revision) -> str:
    return settings.PUBLIC_BASE_URL + revision.article.get_absolute_url()


def _drug(revision: Revision) -> dict[str, Any]:
    medication = revision.article.medication
    drug: dict[str, Any] = {
        "@type": "Drug",
        "name": medication.generic_name,
        "nonProprietaryName": medication.generic_name,
    }
    if medication.brand_names:
        drug["proprietaryName"] = list(medication.brand_names)
    if medication.drug_class:
        drug["drugClass"] = {"@type": "DrugClass", "name": medication.drug_class}
    codes = []
    if medication.rxnorm_rxcui:
        codes.append({"@type": "MedicalCode", "codeValue": medication.rxnorm_rxcui, "codingSystem": "RxNorm"})
    if medication.atc_code:
        codes.append({"@type": "MedicalCode", "codeValue": medication.atc_code, "codingSystem": "ATC"})
    if codes:
        drug["code"] = codes
    return drug


def _citation(reference: Any) -> dict[str, Any]:
    work_type = "ScholarlyArticle" if reference.publication_type == PublicationType.JOURNAL_ARTICLE else "CreativeWork"
    work: dict[str, Any] = {"@type": work_type}
    if reference.title:
        work["name"] = reference.title
    if reference.authors:
        work["author"] = reference.authors
    if reference.container_title:
        work["isPartOf"] = {
            "@type": "Periodical" if work_type == "ScholarlyArticle" else "CreativeWork",
            "name": reference.container_title,
        }
    if reference.year:
        work["datePublished"] = str(reference.year)
    identifiers = []
    if reference.doi:
        identifiers.append({"@type": "PropertyValue", "propertyID": "DOI", "value": reference.doi})
        work["sameAs"] = f"https://doi.org/{reference.doi}"
    if reference.pmid:
        identifiers.append({"@type": "PropertyValue", "propertyID": "PMID", "value": reference.pmid})
    if identifiers:
        work["identifier"] = identifiers
    if reference.url:
        work["url"] = reference.url
    if reference.needs_verification:
        work["description"] = "Citation details need verification."
    return work


def citations(revision: Revision) -> list[dict[str, Any]]:
    """The revision's references as schema.org works, in list order."""
    return [_citation(reference) for reference in revision.references.all()]


def medical_web_page(revision: Revision, citations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A schema.org MedicalWebPage about the article's Drug and MedicalCondition.

    ``citations`` saves reading the references again when the caller has them
    (``presentation.ContentParts``); by default they come from the revision.
    """
    url = canonical_url(revision)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "@id": url,
        "url": url,
        "name": revision.title,
        "headline": revision.title,
        "description": revision.summary,
        "inLanguage": "en",
        "audience": {"@type": "MedicalAudience", "audienceType": "Patient"},
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": settings.PUBLIC_BASE_URL + "/"},
        "about": [_drug(revision), {"@type": "MedicalCondition", "name": revision.topic}],
        "citation": citations if citations is not None else [_citation(r) for r in revision.references.all()],
    }
    first_published = getattr(revision, "first_published_at", None) or revision.live_from
    if first_published:
        data["datePublished"] = first_published.isoformat()
    # When what the page shows last changed: the revision going live, or a later review or change to the medication
    # or symptoms it shows. The one rule (``Revision.payload_updated_at``) the API's ``updated_at`` and the page's
    # ``Last-Modified`` follow too; a rename moved those while this stayed at the publication.
    # (A draft's preview has none: it has not been shown.)
    if revision.live_from:
        data["dateModified"] = revision.payload_updated_at.isoformat()
    review = revision.current_review
    if review is not None and not review.reviewer_is_demonstration:  # a demonstration is no clinical review
        data["lastReviewed"] = timezone.localdate(review.reviewed_at).isoformat()  # the day the page shows
        data["reviewedBy"] = {"@type": "Person", "name": review.reviewer_name, "jobTitle": review.reviewer_credentials}
    return data


def json_ld_script(data: dict[str, Any]) -> SafeString:
    """The data as a ``<script type="application/ld+json">`` block, safe inside HTML."""
    text = json.dumps(data, ensure_ascii=False, indent=None, separators=(",", ":")).translate(_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308 - escaped above


def _typed(type_name: str | list[str], optional: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    """A schema.org node: ``@type`` and ``properties``, each always written unless named in ``optional``."""
    kind = {"const": type_name} if isinstance(type_name, str) else {"enum": type_name}
    return {
        "type": "object",
        "properties": {"@type": {"type": "string", **kind}, **properties},
        "required": ["@type", *(name for name in properties if name not in optional)],
    }


_STRING = {"type": "string"}
_REQUIRED = [
    "@context",
    "@type",
    "@id",
    "url",
    "name",
    "headline",
    "description",
    "inLanguage",
    "audience",
    "publisher",
    "about",
    "citation",
]
_NAMED = {"name": _STRING}

# What ``medical_web_page`` writes, as JSON Schema: the partner API's JSON-LD response (``ArticleJsonLd``).
# schema.org vocabulary: a consumer may ignore any property it does not know.
MEDICAL_WEB_PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "schema.org MedicalWebPage (JSON-LD) about the article's Drug and MedicalCondition.",
    "properties": {
        "@context": {"type": "string", "const": "https://schema.org"},
        "@type": {"type": "string", "const": "MedicalWebPage"},
        "@id": {"type": "string", "format": "uri"},
        "url": {"type": "string", "format": "uri"},
        "name": _STRING,
        "headline": _STRING,
        "description": _STRING,
        "inLanguage": _STRING,
        "audience": _typed("MedicalAudience", audienceType=_STRING),
        "publisher": _typed("Organization", name=_STRING, url={"type": "string", "format": "uri"}),
        "about": {
            "type": "array",
            "items": _typed(
                ["Drug", "MedicalCondition"],
                # A MedicalCondition has a name only; a Drug's class and codes are written when known.
                optional=("nonProprietaryName", "proprietaryName", "drugClass", "code"),
                name=_STRING,
                nonProprietaryName=_STRING,
                proprietaryName={"type": "array", "items": _STRING},
                drugClass=_typed("DrugClass", **_NAMED),
                code={
                    "type": "array",
                    "items": _typed(
                        "MedicalCode", codeValue=_STRING, codingSystem={"type": "string", "enum": ["RxNorm", "ATC"]}
                    ),
                },
            ),
        },
        "citation": {
            "type": "array",
            "items": _typed(
                ["ScholarlyArticle", "CreativeWork"],
                # Each part of a citation is written only when the reference has it (``_citation``).
                optional=("name", "author", "isPartOf", "datePublished", "identifier", "sameAs", "url", "description"),
                name=_STRING,
                author=_STRING,
                isPartOf=_typed(["Periodical", "CreativeWork"], **_NAMED),
                datePublished=_STRING,
                identifier={
                    "type": "array",
                    "items": _typed(
                        "PropertyValue", propertyID={"type": "string", "enum": ["DOI", "PMID"]}, value=_STRING
                    ),
                },
                sameAs={"type": "string", "format": "uri"},
                url=_STRING,
                description=_STRING,
            ),
        },
        "datePublished": {"type": "string", "format": "date-time"},
        "dateModified": {"type": "string", "format": "date-time"},
        "lastReviewed": {"type": "string", "format": "date"},
        "reviewedBy": _typed("Person", name=_STRING, jobTitle=_STRING),
    },
    "required": _REQUIRED,
}
