"""The reverse proxy's side of the app: surrogate keys on public pages, purges on commit.

(A stub: the Varnish configuration, ``tag`` and the real ``purge`` land separately.)
"""

from __future__ import annotations

from collections.abc import Iterable

SURROGATE_HEADER = "xkey"
INDEX_KEY = "index"


def article_key(article_id: int) -> str:
    return f"article-{article_id}"


def medication_key(medication_id: int) -> str:
    return f"medication-{medication_id}"


def symptom_key(symptom_id: int) -> str:
    return f"symptom-{symptom_id}"


def purge(keys: Iterable[str]) -> None:
    """Ask every proxy to drop what carries any of ``keys``; never raises."""
