"""The servers under test: gunicorn (2 sync workers, production settings) and, when present, Varnish.

The process helpers live in ``deploy.servers`` (the multi-server drill uses them too); the bench
adds its settings, its environment and the memory it reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deploy.servers import REQUEST_TIMEOUT_S, ROOT, VCL, Response, Varnish, free_port, request, vcl_for
from deploy.servers import Gunicorn as _Gunicorn

from . import procstat

__all__ = [
    "REQUEST_TIMEOUT_S",
    "ROOT",
    "VCL",
    "Gunicorn",
    "Response",
    "Varnish",
    "free_port",
    "request",
    "server_environment",
    "vcl_for",
]

WORKERS = 2
SECRET_KEY = "bench-only-not-secret-" + "x" * 40


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
class Gunicorn(_Gunicorn):
    """The bench's gunicorn: its own settings (the minimal views), ``WORKERS`` workers, peak memory read."""

    settings: str = "bench.settings"
    workers_count: int = WORKERS

    def peak_memory_mb(self) -> float:
        return max((procstat.peak_memory_kb(pid) for pid in self.workers()), default=0) / 1024
