"""The bench's instrument: what it reads from wrk and /proc, its ratios and goals, and its server.

The bench itself (``python -m bench``) takes minutes and measures time, so the suite tests only
its parts: parsing, counting, the table, and one bounded start of its server.
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from articles import rendering, views
from bench import procstat, wrk
from bench.__main__ import parse_arguments
from bench.measure import Target, measure
from bench.report import Row, median_ratio, summary_table
from bench.servers import Gunicorn, request, server_environment, vcl_for
from deploy.servers import children

WRK_OUTPUT = """\
Running 3s test @ http://127.0.0.1:40123/articles/amlodipine-peripheral-neuropathy/
  2 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.64ms    3.19ms  64.21ms   93.13%
    Req/Sec   132.53     18.22   170.00     70.00%
  Latency Distribution
     50%    7.10ms
     75%    8.02ms
     90%    9.54ms
     99%    1.20s
  795 requests in 3.01s, 20.57MB read
  Socket errors: connect 0, read 795, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:    264.13
Transfer/sec:      6.83MB
"""


def test_wrk_output_gives_requests_duration_percentiles_and_errors():
    result = wrk.parse(WRK_OUTPUT)
    assert result.requests == 795
    assert result.seconds == pytest.approx(3.01)
    assert result.p50_ms == pytest.approx(7.10)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.percentiles_ms[90] == pytest.approx(9.54)
    assert result.non_2xx_3xx == 4
    # Read errors are gunicorn's sync workers closing each connection: not errors of the case.
    assert result.errors == 4 + 2


def test_wrk_output_without_errors_and_in_microseconds():
    output = WRK_OUTPUT.replace("     50%    7.10ms", "     50%  812.00us")
    output = "\n".join(line for line in output.splitlines() if "errors" not in line and "Non-2xx" not in line)
    result = wrk.parse(output)
    assert result.p50_ms == pytest.approx(0.812)
    assert result.errors == 0


def test_wrk_output_without_a_request_count_is_refused():
    with pytest.raises(ValueError, match="no request count"):
        wrk.parse("unable to connect to 127.0.0.1:9 Connection refused\n")


def test_wrk_script_sets_method_headers_and_body_as_lua_strings():
    script = wrk.lua_script("POST", {"If-None-Match": '"abc"'}, '{"answers": {"stroke": "yes"}}')
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["If-None-Match"] = "\\"abc\\""' in script
    assert 'wrk.body = "{\\"answers\\": {\\"stroke\\": \\"yes\\"}}"' in script


def test_proc_stat_fields_are_counted_after_the_command_name():
    # A command name may hold spaces and parentheses.
    line = "4242 (gunicorn: (worker) x) S 4200 4242 4242 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 1 0 7 0 0"
    assert procstat.parse_stat(line) == (4200, 150, 25)


def test_peak_memory_is_vmhwm():
    status = "Name:\tgunicorn\nVmPeak:\t  300000 kB\nVmHWM:\t   91234 kB\nVmRSS:\t   90000 kB\n"
    assert procstat.parse_peak_memory_kb(status) == 91234
    assert procstat.parse_peak_memory_kb("Name:\tkthreadd\n") == 0


def test_cpu_of_a_live_process_grows_and_a_gone_one_counts_nothing():
    before = procstat.cpu_seconds([os.getpid()])
    sum(n * n for n in range(3_000_000))
    assert procstat.cpu_seconds([os.getpid()]) > before
    assert procstat.cpu_seconds([2**22 + 1]) == 0  # above any pid_max
    assert os.getpid() in children(os.getppid())


def test_ratio_is_the_median_of_rounds_and_ignores_rounds_without_a_baseline():
    assert median_ratio([(3.0, 1.0), (4.0, 2.0), (10.0, 2.0)]) == pytest.approx(3.0)
    assert median_ratio([(3.0, 0.0), (2.0, 1.0)]) == pytest.approx(2.0)
    assert math.isnan(median_ratio([]))


def test_rows_say_met_not_met_or_error_and_the_summary_counts_goals():
    rows = [
        Row("pages", "hit", value=1.4, baseline=1.0, ratio=1.4, goal=1.5),
        Row("pages", "304", value=2.0, baseline=1.0, ratio=2.0, goal=1.0),
        Row("pages", "miss", value=9.0, baseline=1.0, ratio=9.0),
        Row("varnish", "page", goal=1.5, error="skipped: no VCL"),
    ]
    assert [row.status for row in rows] == ["met", "NOT MET", "-", "ERROR"]
    summary = summary_table(rows)
    assert "1 of 3 goals met." in summary
    assert "miss" not in summary  # no goal: shown in its group's table only
    assert "skipped: no VCL" in summary


def test_vcl_backend_is_pointed_at_the_bench_server():
    vcl = 'vcl 4.1;\nbackend default {\n    .host = "app";\n    .port = "8000";\n}\n'
    assert '.host = "127.0.0.1";\n    .port = "40123";' in vcl_for(vcl, 40123)


def test_quick_run_is_small_and_sqlite_only():
    arguments = parse_arguments(["--quick"])
    assert arguments.sizes == [20, 60]
    assert arguments.databases == ["sqlite"]
    assert "wagtail" not in arguments.groups
    assert parse_arguments(["--only", "scale", "--databases", "postgresql"]).groups == ["scale"]


@pytest.fixture
def bench_server(tmp_path: Path):
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is not installed (apt-get install wrk)")
        pytest.skip("wrk is not installed")
    (tmp_path / "page.body").write_bytes(b"<p>captured</p>")
    (tmp_path / "page.type").write_text("text/html; charset=utf-8")
    environment = server_environment(
        database_url=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        redis_url="",
        cache_prefix="bench-test",
        bytes_dir=tmp_path,
    )
    # Production's manifest storage needs collectstatic, as the bench runs it (staticfiles/ is git-ignored).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "bench.settings"},
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
    )
    server = Gunicorn("test", environment, log=tmp_path / "gunicorn.log")
    server.start(timeout=60)
    yield server
    server.stop()


@pytest.mark.own_servers
def test_bench_server_answers_the_minimal_view_and_is_measured(bench_server):
    answer = request(bench_server.port, "/__bench__/bytes/page/")
    assert (answer.status, answer.body) == (200, b"<p>captured</p>")
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert request(bench_server.port, "/__bench__/bytes/nothing/").status == 404
    assert len(bench_server.workers()) == 2

    sample = measure(Target("minimal", lambda: bench_server.port, "/__bench__/bytes/page/", bench_server.workers), 1)
    assert sample.requests > 0
    assert sample.errors == 0
    assert sample.server_cpu_s > 0
    assert bench_server.peak_memory_mb() > 0


@pytest.fixture
def reference_bytes(settings, tmp_path, monkeypatch):
    """The bench's URLconf, and ``{"ok": true}`` captured as the bytes named ``reference``."""
    settings.ROOT_URLCONF = "bench.urls"
    (tmp_path / "reference.body").write_bytes(b'{"ok": true}')
    (tmp_path / "reference.type").write_text("application/json")
    monkeypatch.setenv("BENCH_BYTES_DIR", str(tmp_path))
    from bench.views import captured

    captured.cache_clear()
    yield
    captured.cache_clear()


@pytest.mark.django_db
def test_the_reference_view_does_the_apis_shared_cache_work_then_answers_the_bytes(
    client, api_key, settings, reference_bytes
):
    """``/__bench__/admitted/``: the minimal view after the API's own key check and rate count (and an outcome
    count): a wrong key is refused as the API refuses it, and each request is counted on the partner's limit."""
    settings.PARTNER_API_RATE = "2/minute"
    key = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    for trips in (1, 2):
        answer = client.post(f"/__bench__/admitted/{trips}/reference/", **key)
        assert (answer.status_code, answer.content) == (200, b'{"ok": true}')
    assert client.get("/__bench__/admitted/1/reference/", HTTP_AUTHORIZATION="Api-Key wrong.key").status_code == 401
    # Both were counted on the partner's shared limit: the API's next request is its third in the window.
    assert client.get("/api/v1/articles/", **key).status_code == 429


@pytest.mark.django_db
def test_the_reference_on_the_api_middleware_runs_where_the_api_runs(client, api_key, settings, reference_bytes):
    """``/__bench__/api-admitted/``: the same reference, on the partner API's own middleware (no session), as the
    API's views are; never answered early."""
    key = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    answer = client.post("/__bench__/api-admitted/2/reference/", **key)
    assert (answer.status_code, answer.content) == (200, b'{"ok": true}')
    assert not hasattr(answer.wsgi_request, "session")
    assert answer["Content-Security-Policy"] == settings.PARTNER_API_CONTENT_SECURITY_POLICY
    again = client.get("/__bench__/api-admitted/1/reference/", HTTP_IF_NONE_MATCH='"x"', **key)
    assert again.status_code == 200
    assert client.get("/__bench__/api-admitted/1/reference/", HTTP_AUTHORIZATION="Api-Key wrong.key").status_code == 401


def bench_settings(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The bench's settings module ``name`` as its servers import it (production's, from the bench's environment)."""
    environment = server_environment(
        database_url=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        redis_url="",
        cache_prefix="bench-test",
        bytes_dir=tmp_path,
    )
    for variable in ("SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT"):
        monkeypatch.setenv(variable, environment[variable])
    for module in [module for module in sys.modules if module.startswith(("bench.settings", "contentsite.settings."))]:
        monkeypatch.delitem(sys.modules, module)
    return importlib.import_module(name)


def as_bench_server(name: str, settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """This process, with the middleware, cache and stored pages of the bench's server on settings ``name``."""
    served = bench_settings(name, monkeypatch, tmp_path)
    settings.MIDDLEWARE = served.MIDDLEWARE
    settings.CACHES = served.CACHES
    settings.STORED_ARTICLE_PAGES = served.STORED_ARTICLE_PAGES
    return served


@pytest.fixture
def miss_server(settings, monkeypatch, tmp_path):
    """This process, as the bench's miss server (``bench.settings_nocache``)."""
    return as_bench_server("bench.settings_nocache", settings, monkeypatch, tmp_path)


@pytest.fixture
def render_server(settings, monkeypatch, tmp_path):
    """This process, as the bench's render path server (``bench.settings_render``)."""
    return as_bench_server("bench.settings_render", settings, monkeypatch, tmp_path)


@pytest.fixture
def stored_article(published_article):
    """The demo article, live, with its page stored (``on_commit`` never runs in a test's transaction)."""
    from articles.stored_pages import store_pages

    assert store_pages([published_article.article_id]) == 1
    return published_article


def _renders(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the article page, its content parts and Markdown are rendered from here on."""
    from articles import presentation

    counted: Counter[str] = Counter()
    page, parts, markdown = views.render_to_string, presentation.content_parts, rendering._rendered.__wrapped__

    def count(name: str, render: Callable[..., Any]) -> Callable[..., Any]:
        def counting(*args: Any, **kwargs: Any) -> Any:
            counted[name] += 1
            return render(*args, **kwargs)

        return counting

    monkeypatch.setattr(views, "render_to_string", count("page", page))
    monkeypatch.setattr(presentation, "content_parts", count("parts", parts))
    monkeypatch.setattr(
        rendering, "_rendered", functools.lru_cache(rendering.RENDERED_CACHE_SIZE)(count("markdown", markdown))
    )
    return counted


@pytest.mark.django_db
def test_the_render_server_renders_each_page_again_from_the_memoised_parts_of_unchanged_content(
    client, stored_article, render_server, monkeypatch
):
    """Found by profiling the miss rows: with only the shared cache missing (``DummyCache``), the process's page memos
    answered every request after the first (13.3 ms in-process against 27.8 ms rendered), so the "miss" never
    rendered the page. The miss servers forget the whole pages they kept before each request, first in their
    middleware; on the render path the stored page is not read either, so the page is rendered again each time; a
    revision's content parts stay memoised (issue 9: unchanged Markdown is not rendered again)."""
    from bench.memos import forget_every_memo

    assert render_server.MIDDLEWARE[0] == "bench.memos.ForgetPageMemosMiddleware"
    path = f"/articles/{stored_article.article.slug}/"
    forget_every_memo()  # what storing the page memoised: its parts are rendered once below
    renders = _renders(monkeypatch)
    for _ in range(3):
        assert client.get(path).status_code == 200
    assert renders["page"] == 3
    assert renders["parts"] == 1


@pytest.mark.django_db
def test_the_miss_server_reads_the_stored_page_each_time_and_renders_nothing(
    client, stored_article, miss_server, monkeypatch
):
    """The miss rows' server: the shared cache and the page memos miss on every request, and the page is the one
    stored when the article went live, read, not rendered."""
    from articles.models import StoredPage

    assert miss_server.MIDDLEWARE[0] == "bench.memos.ForgetPageMemosMiddleware"
    path = f"/articles/{stored_article.article.slug}/"
    renders = _renders(monkeypatch)
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == 200
        assert response.content.decode() == StoredPage.objects.get(article=stored_article.article).html
    assert renders == {}


@pytest.mark.django_db
def test_the_miss_server_forgets_the_page_memos_for_a_partner_api_request_too(
    client, api_key, published_article, miss_server
):
    """A partner API request leaves the site's middleware for the API's own (``PARTNER_API_MIDDLEWARE``) at the early
    answer: the miss server's forgetting runs before that, so the API detail miss is one too."""
    from contentsite import early

    views._pages.put("kept", ("<p>kept</p>", ()), 11)
    early._answers.put("kept", object(), 1)
    response = client.get(
        f"/api/v1/articles/{published_article.article.slug}/", HTTP_AUTHORIZATION=f"Api-Key {api_key}"
    )
    assert response.status_code == 200
    assert views._pages.get("kept") is None
    assert early._answers.get("kept") is None


@pytest.mark.django_db
def test_the_cold_server_renders_page_parts_and_markdown_each_time(
    client, stored_article, settings, monkeypatch, tmp_path
):
    """The cold reference (``bench.settings_cold``): every memo forgotten before each request, as in a process that
    has rendered nothing yet, and no stored page read."""
    served = as_bench_server("bench.settings_cold", settings, monkeypatch, tmp_path)
    assert served.MIDDLEWARE[0] == "bench.memos.ForgetEveryMemoMiddleware"
    path = f"/articles/{stored_article.article.slug}/"
    renders = _renders(monkeypatch)
    each = []
    for _ in range(2):
        assert client.get(path).status_code == 200
        each.append(dict(renders))
    assert each[0]["markdown"] > 0
    assert each[1] == {name: 2 * count for name, count in each[0].items()}
    assert each[0]["page"] == each[0]["parts"] == 1


def test_the_render_server_renders_from_what_is_live_without_the_stored_pages(monkeypatch, tmp_path):
    """The render path (``bench.settings_render``): the miss server's settings with stored article pages off, so each
    miss renders the page again from what is live (its content parts memoised), as every miss did before pages were
    stored; its rows are references beside the miss rows, which read the stored page."""
    served = bench_settings("bench.settings_render", monkeypatch, tmp_path)
    assert served.STORED_ARTICLE_PAGES is False
    assert served.MIDDLEWARE[0] == "bench.memos.ForgetPageMemosMiddleware"
    assert served.CACHES["default"]["BACKEND"] == "django.core.cache.backends.dummy.DummyCache"


def test_the_miss_server_reads_the_stored_pages_whatever_the_environment_says(monkeypatch, tmp_path):
    """The miss rows' server (``bench.settings_nocache``) misses the shared cache and the page memos, and reads the
    stored page: even if the bench is started with ``STORED_ARTICLE_PAGES=false`` in its environment."""
    monkeypatch.setenv("STORED_ARTICLE_PAGES", "false")
    assert bench_settings("bench.settings_nocache", monkeypatch, tmp_path).STORED_ARTICLE_PAGES is True


def test_the_cold_server_keeps_nothing_not_even_a_stored_page(monkeypatch, tmp_path):
    served = bench_settings("bench.settings_cold", monkeypatch, tmp_path)
    assert served.STORED_ARTICLE_PAGES is False
    assert served.MIDDLEWARE[1:] == bench_settings("bench.settings_render", monkeypatch, tmp_path).MIDDLEWARE[1:]


def test_the_benchs_postgresql_databases_are_named_from_a_prefix_of_its_environment(monkeypatch):
    """Two benches on one PostgreSQL (two checkouts) each fill their own databases: ``BENCH_POSTGRES_PREFIX``."""
    from bench.groups import postgres_name

    assert postgres_name("small") == "cs_bench_small"
    monkeypatch.setenv("BENCH_POSTGRES_PREFIX", "cs_h1_bench")
    assert postgres_name("large") == "cs_h1_bench_large"


def test_the_profile_refuses_settings_that_would_read_the_stored_page(tmp_path):
    """The profiles show the render path (``bench.settings_render``), where a miss's costs are: with the miss server's
    settings every request would read the stored page, so ``bench.profiling`` refuses them, as it refuses settings
    that keep the page memos."""
    environment = server_environment(
        database_url=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        redis_url="",
        cache_prefix="bench-test",
        bytes_dir=tmp_path,
    )
    for module in ("bench.settings_nocache", "bench.settings"):
        finished = subprocess.run(
            [sys.executable, "-m", "bench.profiling", "/articles/x/", "/api/v1/articles/x/", "Api-Key x", "--quick"],
            env={**environment, "DJANGO_SETTINGS_MODULE": module},
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert finished.returncode == 1, finished.stderr
        assert "run with bench.settings_render" in finished.stderr


# Run with a bench server's settings: how many times the demo article's page is rendered for a GET of it.
RENDERS_OF_A_GET = """
import django
django.setup()
from django.test import Client
from articles import views
renders = []
render = views.render_to_string
views.render_to_string = lambda *args, **kwargs: renders.append(1) or render(*args, **kwargs)
response = Client().get("/articles/amlodipine-peripheral-neuropathy/")
print(response.status_code, len(renders))
"""


@pytest.mark.own_servers
def test_the_miss_server_serves_the_pages_the_bench_stored(tmp_path):
    """Found by the smoke run: pages stored by ``bench.fixtures`` (base settings, static files named as they are)
    were never served by the servers (production's settings, static files' names hashed: another page, another
    ``page_format``), so the "stored page" miss rendered every page (50 renders in 50 GETs). The bench stores the
    pages of its pages group's database with the servers' own settings and environment (``bench.groups.store_pages``);
    the miss server then renders nothing, and the render path renders the page."""
    from bench.groups import _fixtures, store_pages

    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    facts = _fixtures(url, 0)
    environment = server_environment(database_url=url, redis_url="", cache_prefix="bench-test", bytes_dir=tmp_path)
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "bench.settings"},
        cwd=root,
        check=True,
    )
    assert store_pages(environment, limit=facts["live_articles"]).startswith("Stored ")
    for module, renders in (("bench.settings_nocache", 0), ("bench.settings_render", 1)):
        finished = subprocess.run(
            [sys.executable, "-c", RENDERS_OF_A_GET],
            env={**environment, "DJANGO_SETTINGS_MODULE": module},
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert finished.stdout.split() == ["200", str(renders)], (module, finished.stderr[-2000:])
