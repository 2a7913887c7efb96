"""Health probes for load balancers and orchestration: ``/healthz`` (alive) and ``/readyz`` (ready for traffic).

``/healthz`` says the process answers: no database, no cache, nothing that an
outage elsewhere could fail, so an orchestrator restarts only a process that is
truly stuck. ``/readyz`` says this app server can do its work: the database
answers, the cache answers a set/get round trip, and every migration is
applied; otherwise 503 naming the failing part, so a load balancer sends
traffic elsewhere until it recovers (each probe checks afresh: nothing to restart).

Both are answered by ``HealthCheckMiddleware``, first in ``MIDDLEWARE``: before
``ALLOWED_HOSTS`` and the HTTPS redirect (a probe comes to the app server's own
address over plain HTTP), before sessions and the request log (probes every few
seconds would drown it; a failing part is logged, sampled, instead). Neither
writes to the database, neither is kept by a cache (``Cache-Control: no-store``;
the VCL passes them too), and the bodies name parts and states, never errors
(those go to the log).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"
READYZ_PATH = "/readyz"
OK = "ok"
UNAVAILABLE = "unavailable"
PENDING = "pending"
NOT_CHECKED = "not checked"
# How long a load balancer should wait before asking a server that is not ready again.
RETRY_AFTER_SECONDS = 5
# The cache round trip's key, one per process; it expires on its own.
_CACHE_PROBE_KEY = f"readyz:{uuid.uuid4().hex}"
_CACHE_PROBE_TIMEOUT = 30


def check_database(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the database answers a ``SELECT 1``; a broken connection is closed so the next probe reconnects."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("Readiness: database %r unavailable", alias, exc_info=True)
        connection.close_if_unusable_or_obsolete()
        return False
    return True


def check_cache() -> bool:
    """Whether the cache keeps what it is given: a set then a get of a fresh value."""
    value = uuid.uuid4().hex
    try:
        cache.set(_CACHE_PROBE_KEY, value, _CACHE_PROBE_TIMEOUT)
        kept = cache.get(_CACHE_PROBE_KEY) == value
    except Exception:
        logger.warning("Readiness: cache unavailable", exc_info=True)
        return False
    if not kept:  # a cache that turns its errors into misses fails here
        logger.warning("Readiness: cache unavailable: it did not keep a value (set, then get)")
    return kept


def pending_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations this code has that the database has not applied (a read of ``django_migrations``)."""
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def check_migrations() -> bool:
    """Whether every migration is applied; a server running newer code than its database is not ready."""
    try:
        pending = pending_migrations()
    except Exception:
        logger.warning("Readiness: migrations could not be read", exc_info=True)
        return False
    if pending:
        logger.warning("Readiness: %d migrations not applied, first %s", len(pending), pending[0])
    return not pending


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive: answers without touching anything else."""
    return _no_store(JsonResponse({"status": OK}))


def readyz(request: HttpRequest) -> HttpResponse:
    """Database, cache and migrations: 200 when all are fine, else 503 naming the failing parts."""
    checks = {"database": OK if check_database() else UNAVAILABLE, "cache": OK if check_cache() else UNAVAILABLE}
    if checks["database"] == OK:
        checks["migrations"] = OK if check_migrations() else PENDING
    else:
        checks["migrations"] = NOT_CHECKED  # they live in the database
    failing = [name for name, state in checks.items() if state not in (OK, NOT_CHECKED)]
    if not failing:
        return _no_store(JsonResponse({"status": OK, "checks": checks}))
    response = JsonResponse({"status": UNAVAILABLE, "failing": failing, "checks": checks}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _no_store(response)


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {HEALTHZ_PATH: healthz, READYZ_PATH: readyz}


class HealthCheckMiddleware:
    """Answer ``/healthz`` and ``/readyz`` before anything else runs (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _no_store(HttpResponse(status=405))
            response["Allow"] = "GET, HEAD"
            return response
        return probe(request)
