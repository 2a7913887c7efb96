"""The article interchange format: one article with one revision's content as JSON.

See ``docs/article-format.md``. ``export`` writes it, ``importer`` validates and
reads it; ``schema`` describes its structure as JSON Schema.
"""

FORMAT_NAME = "medication-safety-article"
FORMAT_VERSION = 1
