"""Several app servers behind the shipped proxy (deploy/multiserver.py, deploy/servers.py).

The drill starts its own PostgreSQL, Redis, two gunicorns and Varnish, so it needs ``initdb``,
``redis-server`` and ``varnishd`` (with varnish-modules): without them these tests skip
locally and fail under ``CI=true``, as the proxy tests do.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.multiserver import main, missing_tools
from deploy.servers import VCL, Varnish, free_port, request, vcl_for

ROOT = Path(__file__).resolve().parent.parent
PHASES = (
    "a. stop one app server",
    "b. restart Redis",
    "c. restart PostgreSQL",
    "d. publish_scheduled on both at once",
    "e. withdraw while Redis restarts",
)


def require(reason: str) -> None:
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI installs it: see .ci/run)")
        pytest.skip(reason)


# --- The VCL with several app servers ------------------------------------------------------------


def test_vcl_for_several_ports_copies_the_backend_once_per_server_into_a_round_robin_director():
    vcl = vcl_for(VCL.read_text(), [38001, 38002])
    assert "backend default" not in vcl
    for n, port in ((1, 38001), (2, 38002)):
        assert f'backend app{n} {{\n    .host = "127.0.0.1";\n    .port = "{port}";' in vcl
        assert f"app_servers.add_backend(app{n});" in vcl
    assert vcl.count(".probe = {") == 2  # each server is probed, so a stopped one goes sick
    assert "directors.round_robin()" in vcl
    # The director is chosen before the shipped vcl_recv runs (its returns would skip a later one).
    assert vcl.index("set req.backend_hint = app_servers.backend();") < vcl.index("if (req.restarts == 0)")
    # A retry goes to the server after the one that failed.
    assert 'if (bereq.http.X-Proxy-Failed == "app1") {\n            set bereq.backend = app2;' in vcl
    assert '} elsif (bereq.http.X-Proxy-Failed == "app2") {\n            set bereq.backend = app1;' in vcl


def test_vcl_for_one_port_only_points_the_shipped_backend_at_it():
    shipped = VCL.read_text()
    assert vcl_for(shipped, 38005) == shipped.replace('.port = "8000";', '.port = "38005";')


class _Backend(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"from the live server"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def one_of_two_servers_down(tmp_path: Path) -> Iterator[Varnish]:
    """Varnish with two backends in its director: one nobody listens on, one that answers."""
    require(Varnish.available())
    live = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=live.serve_forever, daemon=True).start()
    dead = free_port()
    varnish = Varnish([dead, live.server_address[1]], directory=tmp_path / "varnish")
    varnish.directory.mkdir()
    try:
        varnish.start()
        yield varnish
    finally:
        varnish.stop()
        live.shutdown()


@pytest.mark.own_servers
def test_a_get_the_stopped_server_did_not_answer_is_answered_by_the_other(one_of_two_servers_down):
    # Passed, never kept (the API), so each request reaches a backend; the probes have not yet
    # marked the stopped one sick (healthy from the start), so the director still sends it half.
    answers = [request(one_of_two_servers_down.port, f"/api/v1/things/?n={n}", timeout=30) for n in range(8)]
    assert [(a.status, a.body) for a in answers] == [(200, b"from the live server")] * 8


# --- The drill ------------------------------------------------------------------------------------


def test_the_drill_refuses_too_few_articles_for_its_phases_before_starting_anything(capsys):
    with pytest.raises(SystemExit) as refused:
        main(["--articles=3", "--scheduled=2"])
    assert refused.value.code == 2
    assert "--articles must be at least --scheduled + 2" in capsys.readouterr().err


@pytest.mark.multiserver
@pytest.mark.own_servers
def test_two_app_servers_behind_the_proxy_ride_out_every_fault(tmp_path):
    """Goals: no error for a cached article page in any phase, no 500 anywhere, each due revision published once."""
    require(missing_tools())
    report_path = tmp_path / "report.json"
    drill = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.multiserver",
            "--outage=2",
            "--settle=2",
            "--articles=6",
            "--scheduled=2",
            f"--report={report_path}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = drill.communicate(timeout=600)  # a bound on a hung drill, not an assertion about time
    finally:
        if drill.poll() is None:
            drill.terminate()  # SIGTERM: the drill stops what it started before it exits
            stdout, stderr = drill.communicate(timeout=120)
    finished = subprocess.CompletedProcess(drill.args, drill.returncode, stdout, stderr)
    output = f"{finished.stdout[-6000:]}\n{finished.stderr[-4000:]}"
    assert report_path.exists(), output
    report = json.loads(report_path.read_text())
    phases = {phase["name"]: phase for phase in report["phases"]}
    assert set(PHASES) <= set(phases), output
    for name in PHASES:
        assert phases[name]["cached_article_requests"] > 0, output
        assert phases[name]["cached_article_errors"] == 0, output
    assert {name: phase["five_hundreds"] for name, phase in phases.items() if phase["five_hundreds"]} == {}, output
    revisions = report["publication"]["revisions"]
    assert len(revisions) == 2, output
    for found in revisions.values():
        assert (found["state"], found["publications"], found["supersessions"]) == ("published", 1, 1), output
    assert len(report["publication"]["command_lines"]) == 2, output
    assert set(report["proxy_serves"].values()) == {True}, output  # the command's purge reached the proxy
    withdrawal = report["withdrawal"]
    assert set(withdrawal["before_the_withdrawal"]) == {"200"}, output  # live, and in Redis
    assert withdrawal["pending_after_the_withdrawal"] == 1, output  # Redis down: the drop was kept
    assert set(withdrawal["while_redis_is_down"]) == {"410"}, output
    assert set(withdrawal["after_retry"]) == {"410"}, output
    assert report["passed"], output
    assert finished.returncode == 0, output
