"""cProfile of the article page miss and the API detail miss, in-process with Django's test client.

Run by the bench as ``python -m bench.profiling <article path> <API detail path> <Authorization>``
with the render path's settings (``bench.settings_render``): every request misses the page caches,
the shared one (``DummyCache``) and the process's page memos, which the settings' first middleware
forgets before each request (``bench.memos``), and reads no stored page (``STORED_ARTICLE_PAGES``
off), so the profile shows the page rendered, where a miss's costs are (the miss server reads the
stored page: one query); the content parts of unchanged revisions stay memoised, as on the miss
server. Prints the top ``TOP`` functions by cumulative time for each.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOP = 15
PLUMBING = 0.9
# The miss server's first middleware: without it, every request after the first is answered from the page memo.
FORGETS = "bench.memos.ForgetPageMemosMiddleware"


def profile(label: str, call: Callable[[], Any], repeat: int) -> None:
    """Profile ``repeat`` calls; print the heaviest functions below the request plumbing, and by own time."""
    from django.db import connection

    call()  # warm up: imports, template loading, connections
    queries = []  # counted by a wrapper: Django empties connection.queries when a request starts

    def count(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        response = call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = max(entry[3] for entry in stats.stats.values())  # type: ignore[attr-defined]
    print(
        f"\n{label}: {repeat} requests, last answered {response.status_code}, "
        f"{total * 1000 / repeat:.1f} ms each (profiled), {len(queries)} queries each"
    )
    rows = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    # The client, handler and middleware wrappers each hold ~all the time: start below them.
    below = [item for item in rows if item[1][3] < PLUMBING * total]
    print(f"  top {TOP} by cumulative time (below the functions that hold more than {PLUMBING:.0%} of it):")
    _print(below[:TOP], repeat)
    print(f"  top {TOP} by own time:")
    _print(sorted(rows, key=lambda item: item[1][2], reverse=True)[:TOP], repeat)


def _print(items: list[tuple[Any, Any]], repeat: int) -> None:
    print(f"    {'calls/req':>9}  {'own ms/req':>10}  {'cum ms/req':>10}  function")
    for (filename, line, function), (_, calls, own, cumulative, _) in items:
        where = filename.replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/python3.11/site-packages/", "")
        per_request = f"{calls / repeat:9.1f}  {own * 1000 / repeat:10.2f}  {cumulative * 1000 / repeat:10.2f}"
        print(f"    {per_request}  {where}:{line}({function})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("article")
    parser.add_argument("detail")
    parser.add_argument("authorization")
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_render")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    if settings.MIDDLEWARE[:1] != [FORGETS] or settings.STORED_ARTICLE_PAGES:
        sys.exit(
            f"bench.profiling: run with bench.settings_render ({FORGETS} first, STORED_ARTICLE_PAGES off), "
            f"not {settings.SETTINGS_MODULE}"
        )

    client = Client()
    repeat = 3 if arguments.quick else 30
    profile(
        f"article page miss, page rendered again (no stored page) {arguments.article}",
        lambda: client.get(arguments.article),
        repeat,
    )
    profile(
        f"API detail miss {arguments.detail}",
        lambda: client.get(arguments.detail, HTTP_AUTHORIZATION=arguments.authorization),
        repeat,
    )


if __name__ == "__main__":
    main()
