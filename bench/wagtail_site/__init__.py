"""A minimal Wagtail 8 site, the bench's yardstick for an article page miss (never imported by the project).

Runs only in ``bench/.wagtail-venv`` (built by ``bench.wagtail``): one page model with a
StreamField of heading and paragraph blocks, SQLite, Wagtail's defaults, no page cache.
"""
