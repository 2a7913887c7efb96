"""The bench's groups of cases, and the run that holds their servers, databases and output."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import procstat, report, wrk
from .measure import CaseError, Target, check, compared_row
from .report import Row
from .servers import ROOT, Gunicorn, Varnish, request, server_environment

DATA = ROOT / "bench" / ".data"
POSTGRES = "postgres://postgres@127.0.0.1:5432/"
# The bench's PostgreSQL databases are "<prefix>_small" and "<prefix>_large": two checkouts on one server each set
# their own prefix, so neither drops and refills the other's.
POSTGRES_PREFIX_VARIABLE = "BENCH_POSTGRES_PREFIX"
ARTICLE = "/articles/{slug}/"
API_DETAIL = "/api/v1/articles/{slug}/"
GROUPS = ("pages", "varnish", "wagtail", "scale", "profile", "hostile")
# What the miss rows' server misses (``bench.settings_nocache``, ``bench.memos``), the render path's
# (``bench.settings_render``) and the cold reference's (``bench.settings_cold``).
MISS = "page caches miss: shared cache (live identity too) and the process's page memos; the stored page is read"
RENDER = "page caches miss and no stored page: the page rendered again from what is live, content parts memoised"
COLD = "every memo forgotten before each request, no stored page: page, content parts, Markdown rendered"
DEFAULT_GROUPS = ("pages", "varnish", "wagtail", "scale", "profile")


@dataclass
class Database:
    """One database at one size: where it is and the facts ``bench.fixtures`` returned for it."""

    vendor: str
    size: int
    name: str  # PostgreSQL database name, or the SQLite file
    facts: dict[str, Any]

    @property
    def url(self) -> str:
        return POSTGRES + self.name if self.vendor == "postgresql" else f"sqlite:///{self.name}"

    def backend_pids(self) -> list[int]:
        return procstat.postgres_backends(self.name) if self.vendor == "postgresql" else []


class Bench:
    """A run: prepares databases, starts and stops servers, collects rows, prints and saves the output."""

    def __init__(self, arguments: argparse.Namespace) -> None:
        self.arguments = arguments
        self.rows: list[Row] = []
        self.lines: list[str] = []
        self.servers: list[Gunicorn | Varnish] = []
        self.bytes_dir = Path(tempfile.mkdtemp(prefix="bench-bytes-"))
        self.databases: dict[tuple[str, int], Database] = {}

    # --- output -------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def add(self, rows: list[Row], title: str) -> None:
        self.rows += rows
        self.say("")
        self.say(title)
        self.say(report.group_table(rows))
        self.save()

    def save(self) -> None:
        output: Path = self.arguments.output
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("\n".join(self.lines) + "\n")

    # --- the run --------------------------------------------------------------------------

    def run(self) -> None:
        arguments = self.arguments
        started = datetime.datetime.now(tz=datetime.UTC)
        self.say(f"make bench, {started:%Y-%m-%d %H:%M} UTC; groups {', '.join(arguments.groups)}")
        self.say(
            f"gunicorn {2} sync workers, DJANGO_SETTINGS_MODULE=bench.settings (production + the bench URLconf); "
            "SECURE_SSL_REDIRECT=false by environment (plain http on loopback)."
        )
        self.say(
            f"wrk, 2 connections, {arguments.rounds} interleaved rounds of {arguments.seconds:g} s per comparison; "
            "value = CPU per request of the server's workers (+ PostgreSQL backends) from /proc; "
            "ratio = median of rounds."
        )
        if not wrk.available() and any(g in arguments.groups for g in ("pages", "varnish", "wagtail", "scale")):
            self.say("wrk is not installed: only the in-process groups can run.")
            arguments.groups = [g for g in arguments.groups if g in ("profile", "hostile")]
        self._flush_redis()
        if {"pages", "varnish", "wagtail", "profile"} & set(arguments.groups):
            self.pages()
        if "scale" in arguments.groups:
            for vendor in arguments.databases:
                self.scale(vendor)
        if "hostile" in arguments.groups:
            self.say("")
            self.say("hostile inputs (in-process, SQLite)")
            self._subprocess_output([sys.executable, "-m", "bench.hostile"], os.environ.copy())
        elapsed = datetime.datetime.now(tz=datetime.UTC) - started
        self.say("")
        self.say(f"summary (run took {elapsed.total_seconds() / 60:.1f} min)")
        self.say(report.summary_table(self.rows))
        self.save()
        self.say(f"\nwritten to {self.arguments.output}")

    def close(self) -> None:
        for server in reversed(self.servers):
            with contextlib.suppress(Exception):
                server.stop()
        self.servers.clear()

    def _flush_redis(self) -> None:
        try:
            import redis

            redis.Redis.from_url(self.arguments.redis_url).flushdb()
        except Exception as error:
            self.say(f"could not empty {self.arguments.redis_url}: {error}")

    def _subprocess_output(self, command: list[str], environment: dict[str, str]) -> None:
        finished = subprocess.run(  # noqa: S603
            command, env={**environment, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True, text=True, check=False
        )
        for line in finished.stdout.splitlines():
            self.say(line)
        if finished.returncode:
            self.say(f"  failed ({finished.returncode}): {finished.stderr.strip()[-1500:]}")

    # --- databases and servers ------------------------------------------------------------------

    def database(self, vendor: str, size: int) -> Database:
        """The database for ``vendor`` at ``size`` live articles, loaded (once per run) by ``bench.fixtures``."""
        key = (vendor, size)
        if key in self.databases:
            return self.databases[key]
        if vendor == "postgresql":
            name = postgres_name("small" if size == self.arguments.sizes[0] else "large")
        else:
            DATA.mkdir(parents=True, exist_ok=True)
            name = str(DATA / f"sqlite-{size}.sqlite3")
        database = Database(vendor, size, name, {})
        started = datetime.datetime.now(tz=datetime.UTC)
        for attempt in (1, 2):
            if vendor == "postgresql":
                _psql(f"CREATE DATABASE {name}", tolerate="already exists")
            database.facts = _fixtures(database.url, size)
            if database.facts["live_articles"] == size or attempt == 2:
                break
            # Loaded for another size earlier (a --quick run): start again from an empty database.
            if vendor == "postgresql":
                _psql(f"DROP DATABASE {name} WITH (FORCE)")
            else:
                Path(name).unlink()
        seconds = (datetime.datetime.now(tz=datetime.UTC) - started).total_seconds()
        self.say(f"{vendor} at {size:,}: {database.facts['live_articles']:,} live articles, ready in {seconds:.0f} s")
        self.databases[key] = database
        return database

    def gunicorn(self, name: str, database: Database, *, settings: str = "bench.settings") -> Gunicorn:
        environment = server_environment(
            database_url=database.url,
            redis_url=self.arguments.redis_url,
            cache_prefix=f"bench-{database.vendor}-{database.size}",
            bytes_dir=self.bytes_dir,
        )
        server = Gunicorn(name, environment, settings=settings)
        self._collectstatic(environment)
        server.start()
        self.servers.append(server)
        return server

    def stop(self, server: Gunicorn | Varnish) -> None:
        server.stop()
        self.servers.remove(server)

    _static_collected = False

    def _collectstatic(self, environment: dict[str, str]) -> None:
        """Production's manifest storage needs collectstatic, once per run."""
        if self._static_collected:
            return
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            env={**environment, "DJANGO_SETTINGS_MODULE": "bench.settings"},
            cwd=ROOT,
            check=True,
        )
        self._static_collected = True

    def capture(self, name: str, server: Gunicorn, target: Target) -> Target:
        """Save ``target``'s real response as the minimal view's bytes; return the minimal view's target."""
        body = target.body.encode() if target.body is not None else None
        answer = request(server.port, target.path, method=target.method, headers=target.headers, body=body)
        if answer.status != 200:
            raise CaseError(f"{target.path} answered {answer.status} when capturing its bytes")
        (self.bytes_dir / f"{name}.body").write_bytes(answer.body)
        (self.bytes_dir / f"{name}.type").write_text(answer.headers.get("content-type", "text/html"))
        return Target(
            f"minimal view ({name})",
            lambda: server.port,
            f"/__bench__/bytes/{name}/",
            server.workers,
            method=target.method,
            body=target.body,
        )

    def captured(self, name: str) -> bytes:
        """The body ``capture`` saved as ``name``."""
        return (self.bytes_dir / f"{name}.body").read_bytes()

    def target(self, label: str, server: Gunicorn, path: str, database: Database, **options: Any) -> Target:
        return Target(label, lambda: server.port, path, server.workers, database.backend_pids, **options)

    def compare(
        self, group: str, case: str, value: Target, baseline: Target, goal: float | None, label: str, **options: Any
    ) -> Row:
        self.say(f"  measuring {group}: {case} ...")
        row, _, _ = compared_row(
            group,
            case,
            value,
            baseline,
            goal=goal,
            baseline_label=label,
            rounds=self.arguments.rounds,
            seconds=self.arguments.seconds,
            **options,
        )
        return row

    # --- pages: hit, 304, miss, evaluate; through Varnish; against Wagtail; profiles -------------

    def pages(self) -> None:
        vendor = "postgresql" if "postgresql" in self.arguments.databases else self.arguments.databases[0]
        database = self.database(vendor, self.arguments.sizes[0])
        facts = database.facts
        api = {"Authorization": f"Api-Key {facts['api_key']}"}
        cached = self.gunicorn("cached", database)
        self.say(f"{vendor} at {database.size:,}: {store_pages(cached.environment, limit=facts['live_articles'])}")
        uncached = self.gunicorn("no cache", database, settings="bench.settings_nocache")
        self.say(f"miss rows: a second gunicorn, bench.settings_nocache ({MISS}).")
        rendered: Gunicorn | None = None  # started only for the groups with rows on it
        if {"pages", "wagtail"} & set(self.arguments.groups):
            rendered = self.gunicorn("render", database, settings="bench.settings_render")
            self.say(f"rendered-again rows: a third gunicorn, bench.settings_render ({RENDER}).")
        group = f"pages ({vendor}, {database.size:,} articles)"
        article = ARTICLE.format(slug=facts["demo_slug"])
        long_article = ARTICLE.format(slug=facts["long_slug"])
        detail = API_DETAIL.format(slug=facts["demo_slug"])
        rows: list[Row] = []
        if "pages" in self.arguments.groups:
            rows = self._page_rows(group, database, cached, uncached, rendered, article, long_article, detail, api)
            self.add(rows, group)
        if "varnish" in self.arguments.groups:
            self.add(self._varnish_rows(cached, database, article), f"varnish ({vendor})")
        if "wagtail" in self.arguments.groups:
            self.add(self._wagtail_rows(uncached, rendered, database, article, long_article), "wagtail comparison")
        if "profile" in self.arguments.groups:
            self._profiles(uncached, database, article, detail, api)
        if rendered is not None:
            self.stop(rendered)
        self.stop(uncached)
        self.stop(cached)

    def _page_rows(
        self,
        group: str,
        database: Database,
        cached: Gunicorn,
        uncached: Gunicorn,
        rendered: Gunicorn,
        article: str,
        long_article: str,
        detail: str,
        api: dict[str, str],
    ) -> list[Row]:
        facts = database.facts
        rows = []
        minimal = "minimal view, same bytes"
        try:
            page = self.target("article page", cached, article, database)
            rows.append(
                self.compare(
                    group, "article page, cache hit", page, self.capture("article", cached, page), 1.5, minimal
                )
            )
            rows.append(
                self._not_modified(group, "article page, 304 (If-None-Match)", cached, article, database, {}, "article")
            )
            api_detail = self.target("API detail", cached, detail, database, headers=api)
            self.capture("api-detail", cached, api_detail)
            rows.append(
                self._not_modified(
                    group, "API detail, 304 (If-None-Match)", cached, detail, database, api, "api-detail"
                )
            )
            rows.append(
                self._not_modified(
                    group,
                    "API detail, 304, reference: vs the minimal view after the same key check and rate count",
                    cached,
                    detail,
                    database,
                    api,
                    "api-detail",
                    baseline=(
                        self._admitted(cached, "api-detail", 1, api),
                        "minimal view + key check and rate count (1 Redis round trip)",
                        None,
                    ),
                )
            )
            evaluate = self.target(
                "evaluate",
                cached,
                f"/api/v1/pathways/{facts['pathway_slug']}/evaluate/",
                database,
                method="POST",
                headers={**api, "Content-Type": "application/json"},
                body=json.dumps({"answers": facts["answers"]}),
            )
            rows.append(
                self.compare(
                    group,
                    "triage evaluate API (POST)",
                    evaluate,
                    self.capture("evaluate", cached, evaluate),
                    2.0,
                    minimal,
                )
            )
            rows.append(
                self.compare(
                    group,
                    "triage evaluate API, reference: vs the minimal view after the same two shared counts",
                    evaluate,
                    self._admitted(cached, "evaluate", 2, api, evaluate.body),
                    None,
                    "minimal view + key check, rate count and outcome count (2 Redis round trips)",
                )
            )
            rows.append(
                self.compare(
                    group,
                    "triage evaluate API, reference: the same, on the partner API's own middleware",
                    evaluate,
                    self._admitted(cached, "evaluate", 2, api, evaluate.body, on_api_middleware=True),
                    None,
                    "minimal view on PARTNER_API_MIDDLEWARE + the same 2 round trips",
                )
            )
            # The miss reads the stored page (``bench.settings_nocache``); the render path, as a reference, renders
            # it again (``bench.settings_render``). Its bytes are captured under a name of its own, and compared: a
            # stored page is only ever a copy of the page rendered afresh.
            for server, name, reads, what in (
                (uncached, "article", "stored page", MISS),
                (rendered, "article-rendered", "page rendered again", RENDER),
            ):
                miss = self.target(f"article miss ({reads})", server, article, database)
                long_miss = self.target(f"30-section miss ({reads})", server, long_article, database)
                demo_miss = self.compare(
                    group,
                    f"article page miss, demo ({reads})",
                    miss,
                    self.capture(name, server, miss),
                    None,
                    minimal,
                )
                demo_miss.detail = f"{what}; {demo_miss.detail}"
                if name != "article":
                    same = "same" if self.captured(name) == self.captured("article") else "NOT the same"
                    demo_miss.detail = f"{same} bytes as the stored page; {demo_miss.detail}"
                rows.append(demo_miss)
                rows.append(
                    self.compare(
                        group,
                        f"article page miss, 30 sections vs demo ({reads})",
                        long_miss,
                        miss,
                        2.0,
                        f"demo article miss ({reads})",
                    )
                )
            detail_miss = self.target("API detail miss", uncached, detail, database, headers=api)
            api_miss = self.compare(
                group,
                "API detail miss (body built again)",
                detail_miss,
                self.capture("api-detail", uncached, detail_miss),
                None,
                minimal,
            )
            # The API keeps its body in the shared cache only (``PartnerView.cached_body``), never in the process.
            api_miss.detail = f"shared cache misses, no per-process body memo; {api_miss.detail}"
            rows.append(api_miss)
        except (CaseError, OSError) as error:
            rows.append(Row(group, "pages", error=str(error)))
        for server in (cached, uncached, rendered):
            rows.append(
                Row(
                    group,
                    f"worker peak memory ({server.name})",
                    value=server.peak_memory_mb(),
                    unit="MB",
                    detail="VmHWM, largest worker",
                )
            )
        return rows

    def _not_modified(
        self,
        group: str,
        case: str,
        server: Gunicorn,
        path: str,
        database: Database,
        headers: dict[str, str],
        name: str,
        baseline: tuple[Target, str, float | None] | None = None,
    ) -> Row:
        """``path`` asked again with the validator of a first GET (its ETag, else its Last-Modified), expecting 304;
        against the minimal view with ``name``'s bytes (goal 1x), or ``baseline`` (target, label, goal)."""
        first = request(server.port, path, headers=headers)
        if "etag" in first.headers:
            condition = {"If-None-Match": first.headers["etag"]}
        elif "last-modified" in first.headers:
            condition = {"If-Modified-Since": first.headers["last-modified"]}
        else:
            return Row(
                group, case, goal=baseline[2] if baseline else 1.0, error=f"{path} sends neither ETag nor Last-Modified"
            )
        value = self.target(case, server, path, database, headers={**headers, **condition}, expect=304)
        if baseline is None:
            minimal = Target(f"minimal view ({name})", lambda: server.port, f"/__bench__/bytes/{name}/", server.workers)
            baseline = (minimal, "minimal view, 200 with the bytes", 1.0)
        target, label, goal = baseline
        return self.compare(group, case, value, target, goal, label)

    def _admitted(
        self,
        server: Gunicorn,
        name: str,
        trips: int,
        api: dict[str, str],
        body: str | None = None,
        *,
        on_api_middleware: bool = False,
    ) -> Target:
        """The minimal view with ``name``'s bytes after ``trips`` shared-cache round trips of the API's own
        (``bench.views.admitted_bytes``): what the partner API's shared rules cost on their own. On the site's
        whole middleware, as the minimal view; or on the partner API's own (``PARTNER_API_MIDDLEWARE``)."""
        prefix = "api-admitted" if on_api_middleware else "admitted"
        return Target(
            f"minimal view + {trips} round trip(s) ({name}{', API middleware' if on_api_middleware else ''})",
            lambda: server.port,
            f"/__bench__/{prefix}/{trips}/{name}/",
            server.workers,
            method="GET" if body is None else "POST",
            headers={**api, **({"Content-Type": "application/json"} if body is not None else {})},
            body=body,
        )

    def _varnish_rows(self, cached: Gunicorn, database: Database, article: str) -> list[Row]:
        group = "varnish"
        unavailable = Varnish.available()
        if unavailable:
            return [
                Row(group, "article page vs static file through Varnish", goal=1.5, error=f"skipped: {unavailable}")
            ]
        varnish = Varnish(cached.port)
        try:
            varnish.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            return [Row(group, "article page vs static file through Varnish", goal=1.5, error=f"skipped: {error}")]
        self.servers.append(varnish)
        try:
            pids: Callable[[], list[int]] = lambda: [*varnish.pids(), *cached.workers()]  # noqa: E731
            page = Target("article via Varnish", lambda: varnish.port, article, pids, database.backend_pids)
            static = Target("static file via Varnish", lambda: varnish.port, "/static/css/site.css", pids)
            for target in (page, static):
                check(target)
            x_cache = request(varnish.port, article).headers.get("x-cache", "(no X-Cache header)")
            latency = self.compare(
                group,
                "article page vs static file, p50 latency",
                page,
                static,
                1.5,
                "static file via Varnish",
                metric="p50",
            )
            latency.detail = f"X-Cache: {x_cache}; {latency.detail}"
            cpu = self.compare(
                group,
                "article page vs static file, CPU (varnishd + workers)",
                page,
                static,
                None,
                "static file via Varnish",
            )
            return [latency, cpu]
        except (CaseError, OSError) as error:
            return [Row(group, "article page vs static file through Varnish", goal=1.5, error=str(error))]
        finally:
            self.stop(varnish)

    def _wagtail_rows(
        self, uncached: Gunicorn, rendered: Gunicorn, database: Database, article: str, long_article: str
    ) -> list[Row]:
        from . import wagtail

        group = "wagtail"
        reason = wagtail.prepare(self.say)
        if reason:
            return [
                Row(group, "article page miss vs Wagtail page of the same size", goal=0.5, error=f"skipped: {reason}")
            ]
        server = wagtail.server()
        try:
            server.start()
        except RuntimeError as error:
            return [
                Row(group, "article page miss vs Wagtail page of the same size", goal=0.5, error=f"skipped: {error}")
            ]
        self.servers.append(server)
        # The cold reference: the demo article from a process that keeps no memo (``bench.settings_cold``).
        cold = self.gunicorn("cold", database, settings="bench.settings_cold")
        try:
            rows = []
            for case, ours, theirs, goal, what in (
                (
                    "demo article miss (stored page) vs Wagtail page, same size",
                    (uncached, article),
                    wagtail.DEMO_PATH,
                    0.5,
                    MISS,
                ),
                (
                    "30-section miss (stored page) vs Wagtail page, same size",
                    (uncached, long_article),
                    wagtail.LONG_PATH,
                    0.5,
                    MISS,
                ),
                (
                    "demo article miss, page rendered again (no stored page) vs Wagtail page",
                    (rendered, article),
                    wagtail.DEMO_PATH,
                    None,
                    RENDER,
                ),
                (
                    "30-section miss, page rendered again (no stored page) vs Wagtail page",
                    (rendered, long_article),
                    wagtail.LONG_PATH,
                    None,
                    RENDER,
                ),
                ("demo article cold miss (no memo) vs Wagtail page", (cold, article), wagtail.DEMO_PATH, None, COLD),
            ):
                ours_server, path = ours
                value = self.target(case, ours_server, path, database)
                baseline = Target("Wagtail page", lambda: server.port, theirs, server.workers)
                row = self.compare(group, case, value, baseline, goal, "Wagtail 8 page (SQLite)")
                sizes = len(request(ours_server.port, path).body), len(request(server.port, theirs).body)
                row.detail = f"{what}; page bytes {sizes[0]:,} vs {sizes[1]:,}; {row.detail}"
                rows.append(row)
            return rows
        finally:
            self.stop(cold)
            self.stop(server)

    def _profiles(self, uncached: Gunicorn, database: Database, article: str, detail: str, api: dict[str, str]) -> None:
        self.say("")
        # The render path: where the costs of a miss are. The miss server reads a stored page, one query.
        self.say(
            f"profiles (cProfile, in-process Django test client, as the render path, bench.settings_render: {RENDER})"
        )
        environment = {**uncached.environment, "DJANGO_SETTINGS_MODULE": "bench.settings_render"}
        command = [sys.executable, "-m", "bench.profiling", article, detail, api["Authorization"]]
        if self.arguments.quick:
            command.append("--quick")
        self._subprocess_output(command, environment)
        self.save()

    # --- scale: the lists, lookup, search, home and sitemap at two sizes ---------------------------

    def scale(self, vendor: str) -> None:
        small_size, large_size = self.arguments.sizes
        small, large = self.database(vendor, small_size), self.database(vendor, large_size)
        small_server = self.gunicorn(f"{vendor} {small_size}", small)
        large_server = self.gunicorn(f"{vendor} {large_size}", large)
        group = f"scale ({vendor}, {large_size:,} vs {small_size:,} articles)"
        rows = []
        for case, path_of, needs_key in _scale_cases(small, small_server):
            targets = []
            for database, server in ((large, large_server), (small, small_server)):
                headers = {"Authorization": f"Api-Key {database.facts['api_key']}"} if needs_key else {}
                targets.append(self.target(case, server, path_of(database.facts), database, headers=headers))
            rows.append(self.compare(group, case, targets[0], targets[1], 1.5, f"same at {small_size:,}"))
        for server in (small_server, large_server):
            rows.append(
                Row(
                    group,
                    f"worker peak memory ({server.name})",
                    value=server.peak_memory_mb(),
                    unit="MB",
                    detail="VmHWM, largest worker",
                )
            )
        self.add(rows, group)
        self.stop(large_server)
        self.stop(small_server)


def _scale_cases(small: Database, server: Gunicorn) -> list[tuple[str, Callable[[dict[str, Any]], str], bool]]:
    """(case, path for a database's facts, needs the API key); the sitemap's first part if it is an index."""
    lookup = "/api/v1/lookup/?mainSearchCriteria.v.cs={system}&mainSearchCriteria.v.c={code}"
    cases: list[tuple[str, Callable[[dict[str, Any]], str], bool]] = [
        ("home /", lambda facts: "/", False),
        ("/sitemap.xml", lambda facts: "/sitemap.xml", False),
    ]
    sitemap = request(server.port, "/sitemap.xml")
    if b"<sitemapindex" in sitemap.body:
        first = re.search(rb"<loc>\s*([^<\s]+)\s*</loc>", sitemap.body)
        if first:
            part = urllib.parse.urlsplit(first[1].decode())
            path = part.path + (f"?{part.query}" if part.query else "")
            cases.append(("sitemap index's first part", lambda facts: path, False))
    cases += [
        # Words every bench article has (bench.fixtures: "bench article <n>" in each summary, the bench
        # symptom in each): a full page of results at both sizes, from every article ranked at 100 and
        # from 100,000 matches at the large size, the most a query can match.
        ("search, a word in every article", lambda facts: "/search/?q=bench", False),
        # Misspelt: nothing found, "Showing results for symptom" from the trigram index, then its results.
        ("search, misspelt word of every article", lambda facts: "/search/?q=sympton", False),
        ("search, nothing found", lambda facts: "/search/?q=zzyzx", False),
        # Every bench article shows this symptom (bench.fixtures.BULK_PREFIX): its first page of 50.
        ("symptom page /symptoms/<symptom>/", lambda facts: "/symptoms/bench-symptom/", False),
        ("/api/v1/articles/ first page", lambda facts: "/api/v1/articles/", True),
        (
            "?updated_since=<20 min ago>",
            lambda facts: f"/api/v1/articles/?updated_since={urllib.parse.quote(facts['updated_since'])}",
            True,
        ),
        # A medication has 5 articles at 100 and 5,000 at 100,000: pages of 5 at both, so the case
        # measures the library's size, not the page's (a page of 50 costs more than one of 5 anywhere).
        (
            "?medication=<one of 20>, pages of 5",
            lambda facts: f"/api/v1/articles/?medication={facts['medication']}&limit=5",
            True,
        ),
        (
            "lookup, SNOMED CT code of every article",
            lambda facts: lookup.format(system="2.16.840.1.113883.6.96", code=facts["snomed"]),
            True,
        ),
        (
            "lookup, RxCUI of one medication in 20, pages of 5",
            lambda facts: lookup.format(system="2.16.840.1.113883.6.88", code=facts["rxcui"]) + "&limit=5",
            True,
        ),
    ]
    return cases


def store_pages(environment: dict[str, str], *, limit: int) -> str:
    """Store the pages of up to ``limit`` live articles that have none or a stale one (``manage.py
    store_article_pages``, as a deployment's schedule runs it), with the servers' settings and ``environment``, after
    collectstatic: a page is stored for the release of the static files it links to, so one stored by
    ``bench.fixtures`` (base settings) is never served by a server on production's. The command's line of output."""
    arguments = ["manage.py", "store_article_pages", "--limit", str(limit)]
    return _python(arguments, {**environment, "DJANGO_SETTINGS_MODULE": "bench.settings"}, "store_article_pages")


def _python(arguments: list[str], environment: dict[str, str], what: str) -> str:
    """Run ``python arguments`` in the project's directory with ``environment``: its output, or an error naming
    ``what`` with the end of its stderr."""
    finished = subprocess.run(  # noqa: S603
        [sys.executable, *arguments], env=environment, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if finished.returncode:
        raise RuntimeError(f"{what} failed: {finished.stderr.strip()[-2000:]}")
    return finished.stdout.strip()


def postgres_name(label: str) -> str:
    """The name of the bench's PostgreSQL database ``label`` ("small" or "large"), from ``POSTGRES_PREFIX_VARIABLE``."""
    return f"{os.environ.get(POSTGRES_PREFIX_VARIABLE, 'cs_bench')}_{label}"


def _psql(statement: str, tolerate: str = "") -> None:
    finished = subprocess.run(  # noqa: S603
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", statement],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode and not (tolerate and tolerate in finished.stderr):
        raise RuntimeError(f"psql {statement!r}: {finished.stderr.strip()}")


def _fixtures(url: str, size: int) -> dict[str, Any]:
    environment = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    output = _python(["-m", "bench.fixtures", "--size", str(size)], environment, f"bench.fixtures for {url}")
    return json.loads(output.splitlines()[-1])
