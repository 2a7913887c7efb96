"""Processes of a deployment, started and stopped by pid: gunicorn, Varnish, PostgreSQL, Redis.

Used by the multi-server drill (``deploy/multiserver.py``) and the bench (``bench/``). Everything
listens on loopback only; every class stops exactly the processes it started.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VCL = ROOT / "deploy" / "varnish" / "default.vcl"
REQUEST_TIMEOUT_S = 120
PROC = Path("/proc")


# Where a server started here listens unless told: below the kernel's ephemeral range (``ip_local_port_range``,
# 32768-60999 by default), which the local end of every outgoing connection is taken from. A port there, found free,
# could be taken by any connection made before the server binds it (it was: a gunicorn connecting to Redis took the
# drill's Varnish port); below it, only a listening server holds a port, and the probe sees those.
LISTEN_PORTS = range(20000, 25000)


# Two runs at once on one machine (``.ci/run`` runs the suite on SQLite and on PostgreSQL side by side) each take
# their own share of every range: "<share>/<shares>", e.g. "1/2" (the default, "0/1", is all of it). A server is
# started on a port a probe found free a moment before; another run probing the same range then could take it.
PORT_SHARE_VARIABLE = "CONTENTSITE_PORT_SHARE"


def port_share(ports: range) -> range:
    """This run's share of ``ports`` (``PORT_SHARE_VARIABLE``): every n-th port, from its own first."""
    value = os.environ.get(PORT_SHARE_VARIABLE, "0/1")
    share, _, shares = value.partition("/")
    if not (share.isdigit() and shares.isdigit() and int(share) < int(shares)):
        raise ValueError(f"{PORT_SHARE_VARIABLE}={value!r}: give '<share>/<shares>', the share from 0, e.g. '1/2'.")
    return ports[int(share) :: int(shares)]


def free_port(ports: range | None = None) -> int:
    """A loopback port nobody listens on: the first free one of this run's share of ``ports`` (``port_share``); by
    default one of ``LISTEN_PORTS``, from a random place in them, so that two servers probed before either binds do
    not pick the same port."""
    anywhere = ports is None
    ports = port_share(LISTEN_PORTS if ports is None else ports)
    candidates: Sequence[int] = ports
    if anywhere:
        start = random.randrange(len(ports))  # noqa: S311 (a place to start looking, not a secret)
        candidates = [*ports[start:], *ports[:start]]
    for port in candidates:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError(f"no free port in {ports}")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


def request(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = REQUEST_TIMEOUT_S,
) -> Response:
    """One request on a new connection, timed; headers keyed in lower case."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
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


def parse_stat_parent(text: str) -> int:
    """The parent pid in a /proc/<pid>/stat line (counted from the last ``)``: names may hold spaces)."""
    return int(text[text.rindex(")") + 2 :].split()[1])


def children(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (gunicorn's workers, Varnish's cache process)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = parse_stat_parent((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent:
            found.append(int(entry.name))
    return found


def _stop(process: subprocess.Popen | None, timeout: float = 30, sig: int = signal.SIGTERM) -> None:
    """Signal ``process`` (by its pid), wait for it, and kill it if it will not go."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(path: Path, size: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


@dataclass
class Gunicorn:
    """``gunicorn contentsite.wsgi`` with ``workers`` sync workers on a loopback port (from ``ports`` if given)."""

    name: str
    environment: dict[str, str]
    settings: str = "contentsite.settings.production"
    log: Path = field(default_factory=lambda: Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1]))
    python: str = sys.executable
    application: str = "contentsite.wsgi:application"
    directory: Path = ROOT
    ready_path: str = "/robots.txt"
    workers_count: int = 2
    ports: range | None = None
    port: int = 0
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        """Start it (on the port it had, if it ran before) and wait until it answers with all its workers."""
        if not self.port:
            self.port = free_port(self.ports)
        command = [
            self.python,
            "-m",
            "gunicorn",
            f"--workers={self.workers_count}",
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
                raise RuntimeError(f"gunicorn {self.name} exited: {_tail(self.log)}")
            try:
                ready = request(self.port, self.ready_path, timeout=10).status == 200
                if ready and len(self.workers()) == self.workers_count:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.name} did not answer within {timeout:.0f} s: {_tail(self.log)}")

    def workers(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def stop(self) -> None:
        """SIGTERM: gunicorn stops accepting, finishes the requests in hand, then exits."""
        _stop(self.process)


_BACKEND = re.compile(r"(backend\s+\w+\s*\{[^}]*?\.host\s*=\s*)\"[^\"]*\"(\s*;[^}]*?\.port\s*=\s*)\"[^\"]*\"", re.S)
# The shipped VCL's one backend, probe included (its only nested braces), to copy once per app server.
_DEFAULT_BACKEND = re.compile(r"^backend default \{\n.*?^\}\n", re.S | re.M)


def vcl_for(text: str, ports: int | Sequence[int]) -> str:
    """The project's VCL with its backend at 127.0.0.1:``ports``; several ports make a round-robin director.

    With several, the shipped ``backend default`` block (probe and timeouts included) is copied
    once per app server, and a ``vcl_recv`` placed before the shipped one sends each request to
    the director (Varnish runs same-named subroutines in the order they are written).
    """
    if isinstance(ports, int):
        return _BACKEND.sub(rf'\g<1>"127.0.0.1"\g<2>"{ports}"', text)
    match = _DEFAULT_BACKEND.search(text)
    if match is None:
        raise ValueError("the VCL has no 'backend default { ... }' block to copy")
    block = match.group(0)
    backends = "\n".join(
        _BACKEND.sub(rf'\g<1>"127.0.0.1"\g<2>"{port}"', block.replace("backend default", f"backend app{n}", 1))
        for n, port in enumerate(ports, start=1)
    )
    members = "".join(f"    app_servers.add_backend(app{n});\n" for n in range(1, len(ports) + 1))
    director = (
        "import directors;\n\n"
        f"{backends}\n"
        "sub vcl_init {\n    new app_servers = directors.round_robin();\n"
        f"{members}"
        "}\n\n"
        "sub vcl_recv {\n    set req.backend_hint = app_servers.backend();\n}\n\n"
        # The shipped vcl_backend_error names the server that did not answer and retries once:
        # the retry goes to the next one (round robin alone might pick the same server again).
        "sub vcl_backend_fetch {\n    if (bereq.retries > 0) {\n"
        + "".join(
            f'        {"if" if n == 1 else "} elsif"} (bereq.http.X-Proxy-Failed == "app{n}") {{\n'
            f"            set bereq.backend = app{n % len(ports) + 1};\n"
            for n in range(1, len(ports) + 1)
        )
        + "        }\n    }\n}\n"
    )
    return text[: match.start()] + director + text[match.end() :]


@dataclass
class Varnish:
    """``varnishd -F`` with the project's VCL in front of one or several app servers, stopped by its pid."""

    backends: int | Sequence[int]
    vcl: Path = VCL
    ports: range | None = None
    port: int = 0
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="varnish-")))
    process: subprocess.Popen | None = None

    @staticmethod
    def executable() -> str:
        return shutil.which("varnishd") or next(
            (str(p) for p in (Path("/usr/sbin/varnishd"), Path("/usr/local/sbin/varnishd")) if p.exists()), ""
        )

    @staticmethod
    def available() -> str:
        """Why Varnish cannot run here, or "" when it can."""
        if not Varnish.executable():
            return "varnishd is not installed"
        if not VCL.exists():
            return f"{VCL.relative_to(ROOT)} does not exist yet"
        return ""

    def start(self, timeout: float = 30) -> None:
        if not self.port:
            self.port = free_port(self.ports)
        self.directory.chmod(0o755)
        vcl = self.directory / "deployed.vcl"
        vcl.write_text(vcl_for(self.vcl.read_text(), self.backends))
        self.log = self.directory / "varnishd.log"
        command = [
            self.executable(),
            "-F",  # foreground: the process we start is the one we stop
            "-j",
            "none",  # no privilege separation: runs as whoever runs it, from a temporary directory
            "-a",
            f"127.0.0.1:{self.port}",
            "-f",
            str(vcl),
            "-n",
            str(self.directory / "work"),
            "-s",
            "malloc,128m",
            "-p",
            "vsl_space=1M",
        ]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"varnishd refused to start: {_tail(self.log)}")
            try:
                request(self.port, "/robots.txt", timeout=10)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"varnishd did not answer within {timeout:.0f} s: {_tail(self.log)}")

    def pids(self) -> list[int]:
        """The manager and its cache child (the one that serves)."""
        if self.process is None or self.process.poll() is not None:
            return []
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        _stop(self.process)


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run ``command`` as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def postgres_tool(name: str) -> str:
    """Where ``initdb``/``pg_ctl`` are: on the PATH, or in Debian's versioned directory."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((str(v / name) for v in versions if (v / name).exists()), "")


@dataclass
class PostgreSQL:
    """A PostgreSQL cluster of its own (``initdb`` in a temporary directory), on one loopback port."""

    port: int
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pg-")))
    started: bool = False

    @staticmethod
    def available() -> str:
        missing = [tool for tool in ("initdb", "pg_ctl") if not postgres_tool(tool)]
        if os.geteuid() == 0 and not shutil.which("runuser"):
            missing.append("runuser")
        return f"{', '.join(missing)} not found" if missing else ""

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 120) -> None:
        finished = subprocess.run(_as_postgres(list(command)), capture_output=True, text=True, timeout=timeout)  # noqa: S603
        if finished.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {(finished.stderr or finished.stdout)[-1500:]}")

    def init(self) -> None:
        self.directory.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(postgres_tool("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        """``pg_ctl start``, waiting up to two minutes for it to accept connections (a busy machine is slow);
        if it does not, the error carries the server's own log, which says why."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.directory / "log"
        try:
            self._run(
                postgres_tool("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(log), "-w", "-t", "120", "start"
            )
        except RuntimeError as error:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
            raise RuntimeError(f"{error}\nThe server's log ({log}):\n{tail}") from None
        self.started = True

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m fast``: the server ends every connection and stops (by its postmaster pid)."""
        if not self.started:
            return
        try:
            self._run(postgres_tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int((self.data / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)
        self.started = False

    def create_database(self, name: str) -> None:
        self._run(
            postgres_tool("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name
        )

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class Redis:
    """``redis-server`` of its own on one loopback port, stopped by its pid. With a ``directory`` it saves what it
    holds there when stopped and loads it when started again, as Redis's default configuration does; without, it
    keeps nothing."""

    port: int
    directory: Path | None = None
    process: subprocess.Popen | None = None

    @staticmethod
    def available() -> str:
        return "" if shutil.which("redis-server") else "redis-server is not installed"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--appendonly", "no"]
        if self.directory is None:
            command += ["--save", ""]
        else:
            self.directory.mkdir(exist_ok=True)
            command += ["--save", "3600 1", "--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.process.returncode}) on port {self.port}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        _stop(self.process)


def setup_django_for_script(purpose: str) -> None:
    """Django with the base settings and the demo accounts on, for a script run on its own (the bench's
    and the drill's content loaders), so that content goes through the real workflow."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "contentsite.settings.base"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", f"{purpose}-only-" + "x" * 50)
    os.environ["DEMO_ACCOUNTS_ENABLED"] = "true"
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    import django

    django.setup()
