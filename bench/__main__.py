"""Print timings and memory for the hot paths, on a fresh temporary database.

Figures, not pass/fail: run it before and after a change and compare. Uses SQLite in a
temporary file unless DATABASE_URL says otherwise (then it uses that database, which it
fills: point it at a scratch one).
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
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


def main() -> None:
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic for a benchmark
    _setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from articles.models import Medication
    from partners.models import Partner
    from partners.services import partner_key_create
    from triage.content import pathway_for
    from triage.engine import check_safety
    from triage.models import PATHWAY

    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    from articles.models import Revision
    from tests.api.bulk import live_articles

    reviewer = get_user_model().objects.get(username="demo-reviewer")
    medication, _ = Medication.objects.get_or_create(slug="benchamol", defaults={"generic_name": "Benchamol"})
    if not Revision.objects.filter(article__slug__startswith="bench-").exists():
        live_articles(200, medication=medication, reviewer=reviewer, prefix="bench")
    _, key = partner_key_create(partner=Partner.objects.get_or_create(name="Bench partner")[0])
    os.environ["PARTNER_API_RATE"] = "1000000/minute"
    from django.conf import settings

    settings.PARTNER_API_RATE = "1000000/minute"

    client = Client()
    api = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    article = "/articles/amlodipine-peripheral-neuropathy/"
    pathway_url = "/triage/numbness-tingling-weakness-amlodipine/"
    answers = {q.key: "no" for q in Revision.objects.of_kind(PATHWAY).get().triage_questions.all()} | {"stroke": "yes"}

    print("pages")
    timed("home (201 live articles)", lambda: client.get("/"))
    timed("article page, cached", lambda: client.get(article))
    timed("article page, rendered (cache cleared each time)", lambda: (cache.clear(), client.get(article)))
    timed("sitemap.xml", lambda: client.get("/sitemap.xml"))
    timed("triage form", lambda: client.get(pathway_url))
    timed("triage result (POST)", lambda: client.post(pathway_url, answers))
    print("partner API")
    timed("GET /api/v1/articles/ (50 per page)", lambda: client.get("/api/v1/articles/", **api))
    timed("GET /api/v1/articles/?limit=200", lambda: client.get("/api/v1/articles/?limit=200", **api))
    timed("GET /api/v1/articles/<slug>/", lambda: client.get(f"/api/v1{article}", **api))
    timed("GET /api/v1/changes/?limit=500", lambda: client.get("/api/v1/changes/?limit=500", **api))
    timed(
        "POST /api/v1/pathways/<slug>/evaluate/",
        lambda: client.post(
            "/api/v1/pathways/numbness-tingling-weakness-amlodipine/evaluate/",
            {"answers": answers},
            content_type="application/json",
            **api,
        ),
    )
    print("triage safety checks")
    pathway = pathway_for(Revision.objects.of_kind(PATHWAY).get())
    timed(
        f"check_safety, demo pathway ({pathway.combination_count:,} combinations)",
        lambda: check_safety(pathway),
        repeat=10,
    )
    hostile_input()
    print("memory")
    tracemalloc.start()
    client.get("/api/v1/articles/?limit=200", **api)
    cache.clear()
    client.get(article)
    check_safety(pathway)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak Python allocation for a 200-item list, a rendered article and a safety check: {peak / 1e6:.1f} MB")


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


if __name__ == "__main__":
    main()
