"""The servers under test: gunicorn (2 sync workers, production settings) and, when present, Varnish."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import procstat

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
REQUEST_TIMEOUT_S = 120  # the bench's client gives up after this; the row says so
SECRET_KEY = "bench-only-not-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def request(
    port: int, path: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> Response:
    """One request on a new connection, timed; headers keyed in lower case."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    started = time.perf_counter()
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        content = answer.read()
    finally:
        connection.close()
    return Response(
        answer.status, {k.lower(): v for k, v in answer.getheaders()}, content, time.perf_counter() - started
    )


def server_environment(*, database_url: str, redis_url: str, cache_prefix: str, bytes_dir: Path) -> dict[str, str]:
    """Production settings on plain http over loopback: only the TLS redirect is off (by its own variable)."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": cache_prefix,
        "PARTNER_API_RATE": "1000000000/minute",
        "LOG_LEVEL": "WARNING",
        "BENCH_BYTES_DIR": str(bytes_dir),
    }


@dataclass
class Gunicorn:
    """``gunicorn contentsite.wsgi`` with ``WORKERS`` sync workers on a free loopback port."""

    name: str
    environment: dict[str, str]
    settings: str = "bench.settings"
    log: Path = field(default_factory=lambda: Path(tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")[1]))
    python: str = sys.executable
    application: str = "contentsite.wsgi:application"
    directory: Path = ROOT
    ready_path: str = "/robots.txt"
    port: int = 0
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        self.port = free_port()
        command = [
            self.python,
            "-m",
            "gunicorn",
            f"--workers={WORKERS}",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{self.port}",
            "--timeout=300",
            f"--chdir={self.directory}",
            self.application,
        ]
        environment = {**self.environment, "DJANGO_SETTINGS_MODULE": self.settings}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=environment, stdout=log, stderr=log, cwd=self.directory)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if request(self.port, self.ready_path).status == 200 and len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"gunicorn {self.name} did not answer within {timeout:.0f} s: {self.log.read_text()[-2000:]}"
        )

    def workers(self) -> list[int]:
        return procstat.children(self.process.pid) if self.process else []

    def peak_memory_mb(self) -> float:
        return max((procstat.peak_memory_kb(pid) for pid in self.workers()), default=0) / 1024

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


VCL = ROOT / "deploy" / "varnish" / "default.vcl"
_BACKEND = re.compile(r"(backend\s+\w+\s*\{[^}]*?\.host\s*=\s*)\"[^\"]*\"(\s*;[^}]*?\.port\s*=\s*)\"[^\"]*\"", re.S)


def vcl_for(text: str, port: int) -> str:
    """The project's VCL with every backend pointed at 127.0.0.1:``port``."""
    return _BACKEND.sub(rf'\g<1>"127.0.0.1"\g<2>"{port}"', text)


@dataclass
class Varnish:
    """``varnishd`` on a free loopback port in front of a gunicorn, with its own work directory and malloc storage."""

    backend_port: int
    vcl: Path = VCL
    port: int = 0
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-varnish-")))

    @staticmethod
    def available() -> str:
        """Why Varnish cannot be measured here, or "" when it can."""
        if not any((Path(d) / "varnishd").exists() for d in ("/usr/sbin", "/usr/bin", "/usr/local/sbin")):
            return "varnishd is not installed"
        if not VCL.exists():
            return f"{VCL.relative_to(ROOT)} does not exist yet"
        return ""

    def start(self) -> None:
        self.port = free_port()
        self.directory.chmod(0o755)  # varnishd run as root reads the VCL as its own unprivileged user
        vcl = self.directory / "bench.vcl"
        vcl.write_text(vcl_for(self.vcl.read_text(), self.backend_port))
        command = [
            "varnishd",
            "-a",
            f"127.0.0.1:{self.port}",
            "-f",
            str(vcl),
            "-n",
            str(self.directory / "work"),
            "-s",
            "malloc,128m",
            "-P",
            str(self.directory / "varnishd.pid"),
        ]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
        if finished.returncode != 0:
            raise RuntimeError(f"varnishd refused to start: {(finished.stderr or finished.stdout)[-1500:]}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                request(self.port, "/robots.txt")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("varnishd did not answer within 30 s")

    def pids(self) -> list[int]:
        """The manager and its cache child (the one that serves)."""
        master = self.master()
        return [master, *procstat.children(master)] if master else []

    def master(self) -> int:
        try:
            return int((self.directory / "varnishd.pid").read_text())
        except (OSError, ValueError):
            return 0

    def stop(self) -> None:
        master = self.master()
        if master:
            with contextlib.suppress(ProcessLookupError):
                os.kill(master, signal.SIGTERM)
