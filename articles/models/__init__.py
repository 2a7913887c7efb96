"""The content model, split by concern and re-exported here."""

from .articles import EDITABLE_STATES, Article, Revision, RevisionQuerySet, RevisionState
from .content import (
    ActionStep,
    CalloutKind,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
    EvidenceLevel,
    FrequencyBand,
    PublicationType,
    Reference,
    SafetyCallout,
    Section,
    SymptomEntry,
)
from .medications import Medication, Symptom

__all__ = [
    "EDITABLE_STATES",
    "ActionStep",
    "Article",
    "CalloutKind",
    "ComparisonCell",
    "ComparisonColumn",
    "ComparisonRow",
    "ComparisonTable",
    "EvidenceLevel",
    "FrequencyBand",
    "Medication",
    "PublicationType",
    "Reference",
    "Revision",
    "RevisionQuerySet",
    "RevisionState",
    "SafetyCallout",
    "Section",
    "Symptom",
    "SymptomEntry",
]
