"""Timings of hostile inputs at their maximum size: Markdown bodies, word diffs, deep JSON (in-process).

The old in-process bench's last section, kept as ``python -m bench --only hostile`` (or
``--hostile``): figures, not pass/fail. Uses SQLite in a temporary file.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contentsite.settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DEMO_ACCOUNTS_ENABLED", "true")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    import django

    django.setup()


def timed(label: str, call: Callable[[], object], repeat: int = 50) -> None:
    call()  # warm up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"  {label:<52} median {statistics.median(samples):7.2f} ms   p95 {p95:7.2f} ms   (n={repeat})")


def hostile_input() -> None:
    """The bodies of issue 8 finding 6 and other hostile shapes, at the maximum length."""
    import json

    from articles.diff import word_diff
    from articles.interchange.importer import ImportRejected, load_document
    from articles.limits import MAX_BODY_CHARS, MAX_JSON_DEPTH
    from articles.rendering import cited_keys, render_markdown
    from articles.structured_text import markdown_to_text
    from tests.articles.test_bounded_cost import BODIES, HOSTILE_PAIRS, REFERENCES

    print(f"hostile Markdown bodies of {MAX_BODY_CHARS:,} characters: render / content checks' two parses")
    for shape, make in BODIES.items():
        body = make(MAX_BODY_CHARS)
        timed(f"render: {shape}", lambda body=body: render_markdown(body, REFERENCES), repeat=3)
        timed(f"check:  {shape}", lambda body=body: (cited_keys(body), markdown_to_text(body)), repeat=3)
    print(f"word diff of two hostile bodies of {MAX_BODY_CHARS:,} characters")
    for pair, (old, new) in HOSTILE_PAIRS.items():
        timed(f"diff: {pair}", lambda old=old, new=new: word_diff(old, new), repeat=3)
    print("JSON nested too deep (refused before parsing)")
    deep = b"[" * 100_000 + b"]" * 100_000
    document = json.dumps({"a": [[[[["x"]]]]] * 20_000}).encode()

    def refused(raw: bytes) -> None:
        try:
            load_document(raw)
        except ImportRejected:
            return
        raise AssertionError("accepted")

    timed(f"import file nested 100,000 deep (limit {MAX_JSON_DEPTH})", lambda: refused(deep), repeat=5)
    timed(f"import file of {len(document):,} bytes, depth 7: parsed", lambda: load_document(document), repeat=5)


def main() -> None:
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic for a benchmark
    os.environ.pop("DATABASE_URL", None)
    _setup()
    hostile_input()


if __name__ == "__main__":
    main()
