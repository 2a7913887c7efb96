"""The multi-server drill: two app servers behind the shipped proxy, under load, through four faults.

    python -m deploy.multiserver [--outage 4] [--settle 3] [--rate 80] [--report report.json]

It starts everything it needs, on loopback, and stops all of it (by pid) when it ends, however it
ends: a PostgreSQL of its own (``initdb`` in a temporary directory, the first free port from 27432), a redis-server of
its own (28379-28389), two gunicorn app servers with the production settings (29000-29099) and
Varnish with ``deploy/varnish/default.vcl``, its backend copied once per app server into a
round-robin director (29600-29699). It loads content through the review workflow
(``deploy/drill_content.py``), some of it scheduled to go live during the run, warms the article
pages in the proxy, then puts bounded load on the proxy (a few threads, ``--rate`` requests a
second) while it runs, one after the other:

    a. stop one app server (SIGTERM), then start it again;
    b. restart Redis (stopped for ``--outage`` seconds);
    c. restart its PostgreSQL (``pg_ctl stop -m fast``, ``--outage`` seconds down, start);
    d. run ``manage.py publish_scheduled`` with both app servers' environments at the same moment;
    e. withdraw an article while Redis is down; Redis comes back with what it saved (the old
       pointer and page); then run ``manage.py retry_invalidations`` on both at once.

It prints, per phase, the requests, the answers that were not 2xx/3xx by status, the 500s, and
the errors for cached article pages; then, per scheduled revision, whether it was published
exactly once (its state and the audit log). It exits 1 when a goal is missed: an error for a
cached article page in any phase, a 500 anywhere, a scheduled revision not published exactly once,
or the withdrawn article answering anything but 410 (on either app server or through the proxy)
once the retry has run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.servers import ROOT, Gunicorn, PostgreSQL, Redis, Varnish, free_port, request

# Below the kernel's ephemeral range, as ``deploy.servers.LISTEN_PORTS`` is (which says why), and apart from it.
POSTGRES_PORTS = range(27432, 27450)
REDIS_PORTS = range(28379, 28390)
APP_PORTS = range(29000, 29100)
VARNISH_PORTS = range(29600, 29700)
DATABASE = "multiserver"
REDIS_RETRY_AFTER_SECONDS = 1
CACHED_ARTICLE = "cached article"
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
# The last line of a logged traceback: ``redis.exceptions.ConnectionError: Error 111 connecting ...``.
_EXCEPTION = re.compile(r"^((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?:Error|Exception|Unavailable)\b[^\n]{0,120})", re.M)
# What each thread asks for, in turn: mostly article pages the proxy holds, and some that reach an
# app server (a query string the proxy has never seen, the home page, search, the partner API).
MIX = (
    CACHED_ARTICLE,
    CACHED_ARTICLE,
    "article miss",
    CACHED_ARTICLE,
    "home",
    CACHED_ARTICLE,
    "api",
    CACHED_ARTICLE,
    "search",
    CACHED_ARTICLE,
    "scheduled article",
    CACHED_ARTICLE,
)


def missing_tools() -> str:
    """Why the drill cannot run here, or "" when it can."""
    reasons = [reason for reason in (Varnish.available(), PostgreSQL.available(), Redis.available()) if reason]
    return "; ".join(reasons)


@dataclass
class PhaseTally:
    """What the readers saw during one phase."""

    name: str
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)  # non-2xx/3xx answers by status
    socket_errors: Counter = field(default_factory=Counter)  # no answer at all, by exception
    cached_article_requests: int = 0
    cached_article_errors: int = 0
    by_kind: Counter = field(default_factory=Counter)  # errors by kind of request
    examples: dict[str, str] = field(default_factory=dict)  # the first answer of each kind of error, abridged

    @property
    def five_hundreds(self) -> int:
        return self.statuses.get(500, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": self.requests,
            "errors_by_status": {str(k): v for k, v in sorted(self.statuses.items())},
            "socket_errors": dict(self.socket_errors),
            "errors_by_kind": dict(self.by_kind),
            "five_hundreds": self.five_hundreds,
            "cached_article_requests": self.cached_article_requests,
            "cached_article_errors": self.cached_article_errors,
            "examples": self.examples,
        }


class Load:
    """A few threads asking the proxy for ``MIX`` at a bounded total rate, tallied by the current phase."""

    def __init__(
        self, port: int, urls: dict[str, Callable[[], str]], api_key: str, *, threads: int, rate: float
    ) -> None:
        self.port = port
        self.urls = urls
        self.api_key = api_key
        self.threads = threads
        self.interval = threads / rate
        self.phase = "baseline"
        self.tallies: dict[str, PhaseTally] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), name=f"load-{n}", daemon=True)
            worker.start()
            self.workers.append(worker)

    def stop(self) -> None:
        self.stopping.set()
        for worker in self.workers:
            worker.join(timeout=60)

    def _record(self, phase: str, kind: str, status: int | None, error: str = "", body: bytes = b"") -> None:
        with self.lock:
            tally = self.tallies.setdefault(phase, PhaseTally(phase))
            tally.requests += 1
            failed = status is None or status >= 400
            if status is None:
                tally.socket_errors[error] += 1
            elif status >= 400:
                tally.statuses[status] += 1
            if failed:
                tally.by_kind[kind] += 1
                text = body[:2000].decode("utf-8", "replace")
                title = _TITLE.search(text)
                example = " ".join((title.group(1) if title else text[:300]).split())[:160] or error
                tally.examples.setdefault(f"{kind} {status or error}", example)
            if kind == CACHED_ARTICLE:
                tally.cached_article_requests += 1
                tally.cached_article_errors += failed

    def _run(self, offset: int) -> None:
        connection: http.client.HTTPConnection | None = None
        kinds = itertools.islice(itertools.cycle(MIX), offset, None)
        next_at = time.monotonic()
        while not self.stopping.is_set():
            kind = next(kinds)
            phase = self.phase  # the phase the request starts in is the one it counts for
            headers = {"X-Forwarded-Proto": "https"}
            if kind == "api":
                headers["Authorization"] = f"Api-Key {self.api_key}"
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("GET", self.urls[kind](), headers=headers)
                answer = connection.getresponse()
                body = answer.read()
                self._record(phase, kind, answer.status, body=body)
                if answer.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                self._record(phase, kind, None, type(error).__name__)
                if connection is not None:
                    connection.close()
                connection = None
            next_at += self.interval
            self.stopping.wait(max(0.0, next_at - time.monotonic()))
        if connection is not None:
            connection.close()


@dataclass
class Drill:
    """One run of the drill: ``run()`` starts everything, runs the phases, stops everything, returns the report."""

    outage: float = 4.0
    settle: float = 3.0
    rate: float = 80.0
    threads: int = 4
    articles: int = 10
    scheduled: int = 3
    keep: bool = False  # keep the app servers' logs and the database files afterwards
    say: Callable[[str], None] = print
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="multiserver-")))
    started: list[Any] = field(default_factory=list)  # everything to stop, in the order started

    def run(self) -> dict[str, Any]:
        """Start everything, run the phases, stop everything; the report."""
        try:
            return self._run()
        finally:
            self.stop_all()

    def stop_all(self) -> None:
        for thing in reversed(self.started):
            with contextlib.suppress(Exception):
                thing.stop()
        self.started.clear()
        if self.keep and getattr(self, "postgres", None) is not None:
            self.say(f"Kept the logs and the database's files in {self.workdir} and {self.postgres.directory}")
            return
        if getattr(self, "postgres", None) is not None:
            self.postgres.remove()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- Setting up ---------------------------------------------------------------------------

    def _start(self, thing: Any, *args: Any) -> Any:
        self.started.append(thing)
        thing.start(*args)
        return thing

    def _environment(self, varnish_port: int) -> dict[str, str]:
        """Production settings, as an operator would set them, on plain http over loopback."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))},
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "contentsite.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": self.postgres.url(DATABASE),
            "REDIS_URL": self.redis.url,
            "CACHE_KEY_PREFIX": "multiserver",
            "PROXY_PURGE_URLS": f"http://127.0.0.1:{varnish_port}",
            "TRUSTED_PROXY_COUNT": "1",
            "LOG_LEVEL": "WARNING",
            # Redis is asked again a second after it last failed to answer (phase e watches what it is then asked).
            "REDIS_RETRY_AFTER_SECONDS": str(REDIS_RETRY_AFTER_SECONDS),
        }

    def _side_by_side(self, *commands: tuple[str, list[str], dict[str, str]]) -> list[str]:
        """Run Python commands at the same time (all started before any is waited for); their outputs."""
        running = [
            (
                what,
                subprocess.Popen(  # noqa: S603
                    [sys.executable, *arguments],
                    env=environment,
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
            for what, arguments, environment in commands
        ]
        try:
            outputs = []
            for what, process in running:
                out, err = process.communicate(timeout=600)
                if process.returncode != 0:
                    raise RuntimeError(f"{what} failed ({process.returncode}): {err[-3000:]}")
                outputs.append(out)
            return outputs
        finally:
            for _, process in running:
                if process.poll() is None:
                    process.kill()
                    process.wait()

    def _setup(self) -> None:
        self.postgres = PostgreSQL(free_port(POSTGRES_PORTS))
        self.say(f"PostgreSQL of its own on {self.postgres.port}, Redis of its own, in {self.workdir}")
        self.postgres.init()
        self._start(self.postgres)
        self.postgres.create_database(DATABASE)
        self.redis = Redis(free_port(REDIS_PORTS), directory=self.workdir / "redis")
        self._start(self.redis)
        varnish_port = free_port(VARNISH_PORTS)
        self.environment = self._environment(varnish_port)
        self.say("Content through the review workflow, some of it scheduled")
        # Side by side: the content (migrations, the workflow) and the static files (production's manifest).
        content, _ = self._side_by_side(
            (
                "loading the content",
                [
                    "-m",
                    "deploy.drill_content",
                    "load",
                    f"--articles={self.articles}",
                    f"--scheduled={self.scheduled}",
                    # Due about when phase d starts; phase d waits for it if the phases before were quicker.
                    f"--publish-in={3 * (self.outage + self.settle) + 25:.0f}",
                ],
                {**self.environment, "DJANGO_SETTINGS_MODULE": "contentsite.settings.base"},
            ),
            ("collectstatic", ["manage.py", "collectstatic", "--noinput", "-v0"], self.environment),
        )
        self.content = json.loads(content.strip().splitlines()[-1])
        self.apps = []
        for name in ("app1", "app2"):
            app = Gunicorn(name, self.environment, log=self.workdir / f"{name}.log", ports=APP_PORTS)
            self.apps.append(self._start(app))
        self.varnish = Varnish([app.port for app in self.apps], port=varnish_port, directory=self.workdir / "varnish")
        self.varnish.directory.mkdir()
        self._start(self.varnish)
        self.say(f"App servers on {', '.join(str(a.port) for a in self.apps)}, Varnish on {varnish_port}; warming")

    def _warm(self) -> list[str]:
        """Ask the proxy for each article page until it holds it; the pages it could not keep are an error."""
        scheduled = set(self.content["scheduled_slugs"])
        paths = [f"/articles/{slug}/" for slug in self.content["slugs"] if slug not in scheduled]
        for path in [*paths, "/", *(f"/articles/{slug}/" for slug in scheduled)]:
            for _ in range(5):
                answer = request(self.varnish.port, path, headers={"X-Forwarded-Proto": "https"}, timeout=30)
                if answer.headers.get("x-cache") == "HIT":
                    break
            else:
                raise RuntimeError(f"the proxy does not keep {path} (last answer {answer.status})")
        return paths

    # --- The phases ---------------------------------------------------------------------------

    def _run(self) -> dict[str, Any]:
        self._setup()
        cached = self._warm()
        withdrawn = cached.pop()  # withdrawn in phase e: the load never asks for it
        scheduled = [f"/articles/{slug}/" for slug in self.content["scheduled_slugs"]]
        counter = itertools.count()
        urls: dict[str, Callable[[], str]] = {
            CACHED_ARTICLE: _cycle(cached),
            "scheduled article": _cycle(scheduled or cached),
            "article miss": lambda: f"{cached[0]}?drill={next(counter)}",
            "home": lambda: "/",
            "search": lambda: "/search/?q=amlodipine",
            "api": lambda: "/api/v1/articles/",
        }
        load = Load(self.varnish.port, urls, self.content["api_key"], threads=self.threads, rate=self.rate)
        self.load = load
        published_lines: list[str] = []
        withdrawal: dict[str, Any] = {}
        load.start()
        try:
            time.sleep(self.settle)
            self._phase("a. stop one app server", self._stop_one_app_server)
            self._phase("b. restart Redis", self._restart_redis)
            self._phase("c. restart PostgreSQL", self._restart_postgres)
            self._phase("d. publish_scheduled on both at once", lambda: published_lines.extend(self._publish_both()))
            self._phase(
                "e. withdraw while Redis restarts",
                lambda: withdrawal.update(self._withdraw_while_redis_restarts(withdrawn)),
            )
        finally:
            load.stop()
        publication = self._verify(published_lines)
        readers = self._readers_see(publication["revisions"])
        phases = [load.tallies[name].as_dict() for name in load.tallies]
        goals = {
            "cached_article_pages_never_failed": all(p["cached_article_errors"] == 0 for p in phases),
            "no_500_anywhere": all(p["five_hundreds"] == 0 for p in phases),
            "published_exactly_once": publication["exactly_once"],
            "proxy_serves_the_published_revisions": all(readers.values()),
            "withdrawn_article_gone_everywhere_after_the_retry": set(withdrawal["after_retry"]) == {"410"},
        }
        return {
            "phases": phases,
            "publication": publication,
            "proxy_serves": readers,
            "withdrawal": withdrawal,
            "app_exceptions": self._exceptions(),
            "goals": goals,
            "passed": all(goals.values()),
        }

    def _readers_see(self, revisions: dict[str, Any]) -> dict[str, bool]:
        """Whether the proxy serves each scheduled revision's page once it is published (the purge reached it)."""
        seen = {}
        for found in revisions.values():
            answer = request(
                self.varnish.port, f"/articles/{found['slug']}/", headers={"X-Forwarded-Proto": "https"}, timeout=30
            )
            seen[found["slug"]] = answer.status == 200 and f"Revision {found['number']}".encode() in answer.body
        return seen

    def _exceptions(self) -> dict[str, int]:
        """The exceptions the app servers logged (a traceback's last line), with how often."""
        found: Counter = Counter()
        for app in self.apps:
            with contextlib.suppress(OSError):
                found.update(_EXCEPTION.findall(app.log.read_text(errors="replace")))
        return dict(found.most_common(10))

    def _phase(self, name: str, action: Callable[[], None]) -> None:
        self.say(f"Phase {name}")
        self.load.phase = name
        action()
        time.sleep(self.settle)  # the phase's recovery counts as part of it

    def _stop_one_app_server(self) -> None:
        app = self.apps[0]
        app.stop()
        time.sleep(self.outage)
        app.start()  # same port: the proxy's probe finds it again

    def _restart_redis(self) -> None:
        self.redis.stop()
        time.sleep(self.outage)
        self.redis.start()

    def _restart_postgres(self) -> None:
        self.postgres.stop("fast")
        time.sleep(self.outage)
        self.postgres.start()

    def _withdraw_while_redis_restarts(self, path: str) -> dict[str, Any]:
        """Withdraw the article at ``path`` while Redis is down (its drop fails and is kept); Redis then starts with
        what it saved, the old pointer and page among it. What the article answers, on each app server and through
        the proxy: while Redis is down, once it is back, and after ``retry_invalidations`` on both servers at once
        (as cron runs it on each)."""
        before = self._answers(path, seconds=0.5)  # readers of it: its pointer and page are in Redis
        self.redis.stop()  # it saves what it holds
        (output,) = self._side_by_side(
            (
                "withdrawing",
                ["-m", "deploy.drill_content", "withdraw", f"--slug={path.strip('/').rsplit('/', 1)[-1]}"],
                {**self.environment, "DJANGO_SETTINGS_MODULE": "contentsite.settings.base"},
            )
        )
        pending = json.loads(output.strip().splitlines()[-1])["pending_invalidations"]
        while_down = self._answers(path, seconds=self.outage)
        self.redis.start()
        back = self._answers(path, seconds=3 * REDIS_RETRY_AFTER_SECONDS + self.settle)
        retried = self._side_by_side(
            *(
                (f"retry_invalidations ({app.name})", ["manage.py", "retry_invalidations"], app.environment)
                for app in self.apps
            )
        )
        return {
            "path": path,
            "before_the_withdrawal": before,
            "pending_after_the_withdrawal": pending,
            "while_redis_is_down": while_down,
            "once_redis_is_back": back,
            "retry_output": [out.strip() for out in retried],
            "after_retry": self._answers(path, seconds=1),
        }

    def _answers(self, path: str, *, seconds: float) -> dict[str, int]:
        """The statuses ``path`` answers through the proxy and on each app server, asked in turn for ``seconds``."""
        statuses: Counter = Counter()
        ports = [self.varnish.port, *(app.port for app in self.apps)]
        deadline = time.monotonic() + seconds
        while True:
            for port in ports:
                try:
                    answer = request(port, path, headers={"X-Forwarded-Proto": "https"}, timeout=30)
                    statuses[str(answer.status)] += 1
                except OSError as error:
                    statuses[type(error).__name__] += 1
            if time.monotonic() >= deadline:
                return dict(statuses)
            time.sleep(0.1)

    def _publish_both(self) -> list[str]:
        due = datetime.datetime.fromisoformat(self.content["publish_at"])
        wait = (due - datetime.datetime.now(tz=datetime.UTC)).total_seconds()
        if wait > 0:
            self.say(f"Waiting {wait:.0f} s for the scheduled time")
            time.sleep(wait + 0.5)
        # Two machines' cron firing together: both processes started before either is waited for.
        outputs = self._side_by_side(
            *(
                (f"publish_scheduled ({app.name})", ["manage.py", "publish_scheduled"], app.environment)
                for app in self.apps
            )
        )
        return [line for out in outputs for line in out.splitlines() if line.startswith("Published ")]

    def _verify(self, published_lines: list[str]) -> dict[str, Any]:
        revisions = ",".join(str(pk) for pk in self.content["scheduled_revisions"])
        (output,) = self._side_by_side(
            (
                "verifying the publications",
                ["-m", "deploy.drill_content", "verify", f"--revisions={revisions}"],
                {**self.environment, "DJANGO_SETTINGS_MODULE": "contentsite.settings.base"},
            )
        )
        found = json.loads(output.strip().splitlines()[-1])
        once = all(
            (r["state"], r["publications"], r["supersessions"], r["published_revisions"]) == ("published", 1, 1, 1)
            for r in found.values()
        )
        return {
            "revisions": found,
            "command_lines": published_lines,
            "exactly_once": once
            and len(found) == len(self.content["scheduled_revisions"])
            and len(published_lines) == len(found),
        }


def _cycle(items: list[str]) -> Callable[[], str]:
    iterator: Iterator[str] = itertools.cycle(items)
    lock = threading.Lock()

    def following() -> str:
        with lock:
            return next(iterator)

    return following


def table(report: dict[str, Any]) -> str:
    """The report as text: one row per phase, then the publications, then the goals."""
    rows = [
        f"{'phase':<40} {'requests':>8} {'500s':>5} {'cached errors':>14}  not 2xx/3xx (by status, socket)",
    ]
    for phase in report["phases"]:
        errors = ", ".join(f"{status}: {count}" for status, count in phase["errors_by_status"].items())
        sockets = ", ".join(f"{name}: {count}" for name, count in phase["socket_errors"].items())
        rows.append(
            f"{phase['name']:<40} {phase['requests']:>8} {phase['five_hundreds']:>5} "
            f"{phase['cached_article_errors']:>6} of {phase['cached_article_requests']:<6}  "
            f"{'; '.join(x for x in (errors, sockets) if x) or '-'}"
            + (
                f"  [{', '.join(f'{k}: {v}' for k, v in phase['errors_by_kind'].items())}]"
                if phase["errors_by_kind"]
                else ""
            )
        )
    examples = [(phase["name"], kind, text) for phase in report["phases"] for kind, text in phase["examples"].items()]
    if examples:
        rows.append("")
        rows.append("first answer of each kind of error:")
        rows += [f"  {name[:2]} {kind}: {text[:100]}" for name, kind, text in examples]
    rows.append("")
    rows.append("scheduled revision            state       publications  supersessions  live revisions")
    for pk, found in report["publication"]["revisions"].items():
        rows.append(
            f"{pk:>6} {found['slug']:<22} {found['state']:<11} {found['publications']:>12} "
            f"{found['supersessions']:>14} {found['published_revisions']:>15}"
        )
    if report["app_exceptions"]:
        rows.append("")
        rows.append("exceptions in the app servers' logs:")
        rows += [f"  {count:>5} x {line}" for line, count in report["app_exceptions"].items()]
    rows.append(
        "the proxy serves the published revision of "
        + ", ".join(f"{slug}: {'yes' if seen else 'NO'}" for slug, seen in report["proxy_serves"].items())
    )
    rows.append(f"publish_scheduled reported {len(report['publication']['command_lines'])} publications in all")
    withdrawal = report["withdrawal"]
    rows.append(
        f"withdrawn while Redis restarted: {withdrawal['path']} ({withdrawal['pending_after_the_withdrawal']} "
        f"invalidations left pending); answers before {withdrawal['before_the_withdrawal']}, "
        f"while Redis was down {withdrawal['while_redis_is_down']}, "
        f"once it was back {withdrawal['once_redis_is_back']}, after retry_invalidations {withdrawal['after_retry']}"
    )
    rows.append("")
    rows += [f"{'met ' if met else 'MISSED'} {goal.replace('_', ' ')}" for goal, met in report["goals"].items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outage", type=float, default=4, help="seconds each service stays down")
    parser.add_argument("--settle", type=float, default=3, help="seconds of load after each phase's action")
    parser.add_argument("--rate", type=float, default=80, help="requests a second, all threads together")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--articles", type=int, default=10, help="live articles (their pages are kept by the proxy)")
    parser.add_argument("--scheduled", type=int, default=3, help="of those, how many get a scheduled revision")
    parser.add_argument("--report", type=Path, help="also write the report here, as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the app servers' logs and the database files")
    arguments = parser.parse_args(argv)
    if arguments.articles < arguments.scheduled + 2:
        # The load reads at least one article with no scheduled revision; phase e withdraws another.
        parser.error("--articles must be at least --scheduled + 2")
    # A supervisor's (or the test's) SIGTERM unwinds like Ctrl-C: everything started is stopped by pid.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if reason := missing_tools():
        print(f"cannot run the drill: {reason}", file=sys.stderr)
        return 2
    started = time.monotonic()
    drill = Drill(
        outage=arguments.outage,
        settle=arguments.settle,
        rate=arguments.rate,
        threads=arguments.threads,
        articles=arguments.articles,
        scheduled=arguments.scheduled,
        keep=arguments.keep,
        say=lambda line: print(f"{time.monotonic() - started:6.1f} s  {line}", flush=True),
    )
    report = drill.run()
    print()
    print(table(report))
    if arguments.report:
        arguments.report.write_text(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
