from __future__ import annotations

import django_filters

from articles.models import Revision, rxcui_validator


class ArticleFilter(django_filters.FilterSet):
    """Filters for the article list; a malformed value answers 400 naming the parameter."""

    medication = django_filters.CharFilter(
        field_name="article__medication__slug", help_text="Medication slug, e.g. amlodipine."
    )
    rxcui = django_filters.CharFilter(
        field_name="article__medication__rxnorm_rxcui",
        validators=[rxcui_validator],
        help_text="RxNorm RxCUI of the medication, e.g. 17767.",
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="payload_updated_at",
        lookup_expr="gte",
        help_text="ISO 8601 date and time; articles published or reviewed at or after it.",
    )

    class Meta:
        model = Revision
        fields: list[str] = []
