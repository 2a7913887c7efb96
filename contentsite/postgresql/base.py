"""Django's PostgreSQL backend, except that a server that did not answer in time is not waited for again at once.

A hung or cut-off server accepts a connection and never answers: each attempt waits libpq's
``connect_timeout`` (``DATABASE_CONNECT_TIMEOUT_SECONDS``) before the request answers 503. One request
could wait several times over (a partner's request answered without DRF that then asks the full stack,
the keys owed to Redis read once more), and every request of the worker waits again. So after an attempt
times out, this process's next attempts within the same time fail at once, as that one did
(``ConnectionTimeout``, a 503): a worker waits at most once per timeout, and a request at most once. A
server that refuses connections (restarting) fails at once anyway, and is tried again every time. And a COMMIT that
fails says so (``during_commit``): what it was committing may have been saved.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.backends.postgresql import base
from psycopg.errors import ConnectionTimeout

# Per process, per database alias: until when (``time.monotonic``) no new connection is tried, after one timed out.
_not_tried_until: dict[str, float] = {}


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        until = _not_tried_until.get(self.alias)
        if until is not None and time.monotonic() < until:
            raise ConnectionTimeout("connection timeout expired a moment ago: not tried again yet")
        try:
            connection = super().get_new_connection(conn_params)
        except ConnectionTimeout:
            seconds = conn_params.get("connect_timeout") or settings.DATABASE_CONNECT_TIMEOUT_SECONDS
            _not_tried_until[self.alias] = time.monotonic() + float(seconds)
            raise
        _not_tried_until.pop(self.alias, None)
        return connection

    def commit(self) -> None:
        """Commit; an error doing so is marked ``during_commit``: the server may have committed before the connection
        was lost (it restarted, or was killed, as the COMMIT reached it), and nobody can know. A form whose COMMIT
        went unanswered is then not said "not received" (``contentsite.middleware.WritesSeen``)."""
        try:
            super().commit()
        except DatabaseError as error:
            error.during_commit = True  # type: ignore[attr-defined]
            raise


def forget_timeouts() -> None:
    """Try every database again at once (tests)."""
    _not_tried_until.clear()
