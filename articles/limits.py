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

# --- Text fields: every field a person types into has one of these maxima -------------
# (characters after normalisation; see ``articles.text`` and docs/article-format.md)

# A short line: a title, heading, name, column heading, table feature, answer label.
MAX_TITLE_CHARS = 200
# A longer line: a change summary, caption, frequency source, rule description, credentials.
MAX_LINE_CHARS = 300
# A triage question and the guidance it comes from.
MAX_QUESTION_CHARS = 400
# A citation's authors, title or URL.
MAX_CITATION_CHARS = 500
# A short code-like part of a citation: volume, issue, pages.
MAX_CITATION_PART_CHARS = 30
# A label for the feature column of a comparison table.
MAX_FEATURE_HEADING_CHARS = 100
# One cell of a comparison table.
MAX_CELL_CHARS = 2_000
# Plain-text notes: a symptom's description, a reference's verification note, a
# question's help text, a vignette's rationale.
MAX_NOTE_CHARS = 2_000
# Brand names of one medication: how many, each at most MAX_TITLE_CHARS.
MAX_BRAND_NAMES = 50

# --- Identifiers sent back to us ----------------------------------------------------------

# A content hash (``Revision.content_hash``, a review's): SHA-256 in hex.
CONTENT_HASH_CHARS = 64

# --- Numbers a person enters -------------------------------------------------------------

# A row's place in its list (sections, symptoms, table rows and columns, actions, callouts,
# references; a pathway's rows): far more rows than any list holds, and the same number on every
# database (the API's schema would otherwise carry the backend's own integer range).
MAX_POSITION = 10_000
# A cited work's year of publication.
MIN_YEAR = 1800
MAX_YEAR = 2100
