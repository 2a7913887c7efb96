from __future__ import annotations

import datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from articles.models import Medication, Revision, RevisionQuerySet, rxcui_validator


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, in UTC: PostgreSQL refuses an offset beyond ±15:59 (ISO 8601 allows up to ±23:59),
    which was a 500. Refused in the form, so that the query is judged (400) without building or running anything."""

    def clean(self, value: object) -> datetime.datetime | None:
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC, 0001-01-01T00:00+01:00 in year 0
            raise forms.ValidationError(
                "Out of range: give a date and time between the years 1 and 9999 in UTC.", code="invalid"
            ) from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class ArticleFilter(django_filters.FilterSet):
    """Filters for the article list; a malformed value answers 400 naming the parameter.

    Each is asked in the shape the indexes serve: one medication's articles in slug
    order, and "changed since" from the stored stamps (``RevisionQuerySet.updated_since``).
    """

    medication = django_filters.CharFilter(method="filter_medication", help_text="Medication slug, e.g. amlodipine.")
    rxcui = django_filters.CharFilter(
        method="filter_rxcui",
        validators=[rxcui_validator],
        strip=False,  # " 17767" is refused, as the schema's pattern refuses it
        help_text="RxNorm RxCUI of the medication, e.g. 17767.",
    )
    updated_since = UTCIsoDateTimeFilter(
        method="filter_updated_since",
        help_text=(
            "ISO 8601 date and time; articles published, reviewed or otherwise changed at or after it. A change is "
            "dated as it is made and seen once it is saved, which can be seconds later: to miss nothing, ask from "
            "a minute before your last request. A withdrawn article is not listed: /api/v1/changes/ lists every "
            "publication, replacement and withdrawal in the order it was saved, and a review or a medication or "
            "symptom change (which changes an article in place) only here. Follow both to stay in sync."
        ),
    )

    class Meta:
        model = Revision
        fields: list[str] = []

    def filter_medication(self, revisions: RevisionQuerySet, name: str, value: str) -> RevisionQuerySet:
        return revisions.about_medication(Medication.objects.filter(slug=value))

    def filter_rxcui(self, revisions: RevisionQuerySet, name: str, value: str) -> RevisionQuerySet:
        return revisions.about_medication(Medication.objects.filter(rxnorm_rxcui=value))

    def filter_updated_since(
        self, revisions: RevisionQuerySet, name: str, value: datetime.datetime
    ) -> RevisionQuerySet:
        return revisions.updated_since(value)
