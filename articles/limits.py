"""The documented maximum size of every piece of text a person can enter.

One place for the numbers: the models, the import schema, the admin and the
API read them from here, and ``docs/article-format.md`` lists them. They keep
the cost of storing, hashing, diffing and rendering any revision bounded.
"""

from __future__ import annotations

# Markdown bodies (a section, a callout, an action step, a symptom entry's text).
MAX_BODY_CHARS = 20_000
# A revision's summary: one or two plain sentences.
MAX_SUMMARY_CHARS = 1_000
# Free text in review and workflow forms (comments, reasons).
MAX_COMMENT_CHARS = 5_000
# Nesting of any JSON document we accept (an import file, an API request body).
MAX_JSON_DEPTH = 32
# An import file or API request body, in bytes.
MAX_DOCUMENT_BYTES = 2_000_000
