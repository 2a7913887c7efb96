"""Servers of a test's own, to stop and start in the middle of it (never the machine's shared ones).

A fault test needs a Redis or a PostgreSQL it may kill: ``RedisServer`` and ``PostgresServer``
start one on a free loopback port of their own range, in a temporary directory, and stop it by
its process id. Missing tools skip the test locally and fail it under CI (``CI=true``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deploy.servers import free_port

REDIS_PORTS = range(26379, 26400)
POSTGRES_PORTS = range(25432, 25450)
START_TIMEOUT_S = 60


def find_tool(name: str) -> str | None:
    """A server binary on PATH, or (Debian's PostgreSQL keeps initdb off PATH) in the newest PostgreSQL's bin."""
    found = shutil.which(name)
    if found is None:
        candidates = sorted(
            Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda path: int(path.parts[-3]), reverse=True
        )
        found = str(candidates[0]) if candidates else None
    return found


def require_tool(*names: str) -> list[str]:
    """The binaries' paths; skip (locally) or fail (under CI) when one is missing."""
    found = [find_tool(name) for name in names]
    missing = [name for name, path in zip(names, found, strict=True) if path is None]
    if missing:
        message = f"needs {', '.join(missing)} on PATH"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return [path for path in found if path]


class NetworkCut:
    """Every packet to and from one loopback port dropped (nftables), as when a server's host is cut off by the
    network or frozen: a kept connection's data is never acknowledged and never answered, and a new connection's
    SYN goes unanswered. Unlike a stopped process (``hang``), whose kernel still acknowledges what it is sent. Needs
    root and ``nft``: skipped locally without them, failed under CI. A context manager; its table is removed on
    leaving, and one a killed test left behind is removed on entering."""

    def __init__(self, port: int) -> None:
        (self.nft,) = require_tool("nft")
        if os.geteuid() != 0:
            message = "cutting a port off needs root (nftables)"
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(message)
            pytest.skip(message)
        self.port = port
        self.table = f"contentsite_test_cut_{port}"

    def _nft(self, *arguments: str, check: bool = True) -> None:
        subprocess.run([self.nft, *arguments], check=check, capture_output=True, timeout=30)

    def __enter__(self) -> NetworkCut:
        self._nft("delete", "table", "inet", self.table, check=False)
        self._nft("add", "table", "inet", self.table)
        self._nft("add", "chain", "inet", self.table, "out", "{ type filter hook output priority 0; policy accept; }")
        for direction in ("dport", "sport"):
            self._nft("add", "rule", "inet", self.table, "out", "ip", "daddr", "127.0.0.1", "tcp", direction,
                      str(self.port), "drop")  # fmt: skip
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._nft("delete", "table", "inet", self.table)


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition: object, what: str, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.05)


def redis_cache(url: str) -> dict[str, Any]:
    """``CACHES`` for the project's Redis backend at ``url``, with short timeouts."""
    return {
        "default": {
            "BACKEND": "contentsite.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "outage-test",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@dataclass
class RedisServer:
    """``redis-server`` with no persistence on a port of its own, in a temporary directory."""

    port: int = 0
    process: subprocess.Popen | None = None
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="outage-redis-")))
    # Made to fail its saves (``refuse_writes("MISCONF")``): stopped as a crash, since stopping it cleanly saves.
    cannot_save: bool = False
    # Saves its data when stopped and loads it when started again, as Redis does with its default configuration.
    persistent: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, from_snapshot: Path | None = None) -> RedisServer:
        """Start it (``from_snapshot``: holding what ``snapshot`` saved, instead of what it saved when it stopped)."""
        (redis_server,) = require_tool("redis-server")
        if from_snapshot is not None:
            self.directory.mkdir(exist_ok=True)
            shutil.copyfile(from_snapshot, self.directory / "dump.rdb")
        if not self.port:
            self.port = free_port(REDIS_PORTS)
        self.directory.mkdir(exist_ok=True)
        save = "3600 1" if self.persistent else ""
        options = ["--bind", "127.0.0.1", "--dir", str(self.directory), "--save", save, "--appendonly", "no"]
        self.process = subprocess.Popen(
            [redis_server, "--port", str(self.port), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: listening(self.port), f"redis-server on {self.port}")
        return self

    def hang(self) -> None:
        """Stop it answering while it keeps its port (SIGSTOP): connections are accepted, nothing is read, as when
        Redis is stuck (swapping, a slow fork) or the network drops its packets."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self, *, keep_data: bool = False) -> None:
        """Stop it (a persistent one saves first); ``keep_data``: leave its directory for the next ``start``."""
        if self.process and self.process.poll() is None:
            self.resume()  # if it hangs
            if self.cannot_save:  # SIGTERM makes it save first, which fails, and it would keep running
                self.process.kill()
            else:
                self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        wait_until(lambda: not listening(self.port), f"redis-server on {self.port} to stop")
        if not keep_data:
            shutil.rmtree(self.directory, ignore_errors=True)
        self.cannot_save = False

    def snapshot(self) -> Path:
        """Save what it holds now (``SAVE``) to a file of its own: what a replica that stopped copying at this moment
        holds, or what a Redis restarted from a save made now loads (``stop(keep_data=True)``, then
        ``start(from_snapshot=...)``)."""
        import redis

        with redis.Redis(port=self.port) as server:
            server.save()
        saved = Path(tempfile.mkstemp(prefix="outage-redis-", suffix=".rdb")[1])
        shutil.copyfile(self.directory / "dump.rdb", saved)
        return saved

    def refuse_writes(self, why: str) -> None:
        """Make this server refuse every write from now on, for real, with the error code ``why``: ``OOM`` (full,
        with no eviction), ``READONLY`` (a replica, of a primary that does not answer) or ``MISCONF`` (it cannot
        save to its disk, and ``stop-writes-on-bgsave-error`` stops writes until it can)."""
        import redis  # the tests' own client: commands the cache never sends

        server = redis.Redis(port=self.port)
        if why == "OOM":
            server.config_set("maxmemory-policy", "noeviction")
            server.config_set("maxmemory", 1)
        elif why == "READONLY":
            server.replicaof("127.0.0.1", free_port(REDIS_PORTS))
        elif why == "MISCONF":
            self.cannot_save = True
            server.config_set("save", "3600 1")
            server.config_set("stop-writes-on-bgsave-error", "yes")
            shutil.rmtree(self.directory)
            server.bgsave()
            wait_until(lambda: server.info("persistence")["rdb_last_bgsave_status"] == "err", "a failed save")
        else:
            raise ValueError(why)
        with pytest.raises(redis.ResponseError) as refused:
            server.set("refused", 1)
        assert why in (refused.value.status_code, str(refused.value).partition(" ")[0])

    def take_writes(self) -> None:
        """Undo ``refuse_writes("OOM")`` or ``("READONLY")``: no memory limit, a primary again (as a replica is
        promoted by a failover), keeping what it holds."""
        import redis

        server = redis.Redis(port=self.port)
        server.config_set("maxmemory", 0)
        server.replicaof("NO", "ONE")
        server.set("taken", 1)


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of its own (``initdb`` in a temporary directory, run as user postgres)."""

    port: int = 0
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="outage-pg-")))
    as_postgres: list[str] = field(default_factory=list)
    initdb: str = "initdb"
    pg_ctl: str = "pg_ctl"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_postgres, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        self.initdb, self.pg_ctl = require_tool("initdb", "pg_ctl")
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.directory, "postgres")
        if not self.port:
            self.port = free_port(POSTGRES_PORTS)
        data = self.directory / "data"
        if not data.exists():
            self._run(self.initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
        self._run(
            self.pg_ctl,
            "-D",
            str(data),
            "-l",
            str(self.directory / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        return self

    def hang(self) -> None:
        """Stop it answering while it keeps its port, as when the server is stuck or cut off: the connections the
        app holds end (their backends terminated), and a new one is accepted and never answered (the postmaster
        stopped with SIGSTOP)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        os.kill(self._postmaster(), signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self._postmaster(), signal.SIGCONT)

    def _postmaster(self) -> int:
        return int((self.directory / "data" / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        """Stop at once (immediate mode: what a crash looks like to the app)."""
        self._run(self.pg_ctl, "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        wait_until(lambda: not listening(self.port), f"PostgreSQL on {self.port} to stop")

    def remove(self) -> None:
        if (self.directory / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def manage(environment: dict[str, str], *arguments: str, settings: str) -> str:
    """``manage.py <arguments>`` in a process of its own with ``environment`` and ``settings``: its output."""
    finished = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        env={**environment, "DJANGO_SETTINGS_MODULE": settings},
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return finished.stdout
