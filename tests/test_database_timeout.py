"""A PostgreSQL that does not answer in time is waited for once, not by every attempt (``contentsite.postgresql``).

A server that hangs (or whose host is cut off) accepts the connection and never answers. Each attempt waited
the whole connect timeout; a partner's request answered without DRF that then asked the full stack waited twice,
four times with Redis down as well (found from outside: 10 to 21 s where the timeout is 5), and holds a worker as
long. Here the hung server is a socket that accepts and never answers, counting the connections it is asked for.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from contentsite.postgresql.base import forget_timeouts

ENGINE = "contentsite.postgresql"  # the project's backend (the settings choose it)


class SilentServer:
    """Accepts connections and never answers, as a hung PostgreSQL does; counts the connections made to it."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def hung(django_db_blocker: Any) -> Iterator[Any]:
    """A connection handler with one database, ``hung``, on the silent server, through the project's backend."""
    server = SilentServer()
    forget_timeouts()
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": ENGINE,
                "NAME": "hung",
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": str(server.port),
                "OPTIONS": {"connect_timeout": 2},  # libpq's least
            }
        }
    )
    with django_db_blocker.unblock():  # a database of its own, not the tests' one
        yield server, handler["default"]
    handler.close_all()
    server.close()
    forget_timeouts()


def test_a_server_that_did_not_answer_in_time_is_not_asked_again_at_once(hung):
    server, database = hung
    for _ in range(3):  # a request answered without DRF, the full stack after it, the owed keys read
        with pytest.raises(OperationalError, match="timeout"):
            database.ensure_connection()
    assert len(server.accepted) == 1, "waited for once, not by every attempt"


def test_it_is_asked_again_once_the_timeout_has_passed(hung, monkeypatch):
    from contentsite.postgresql import base

    server, database = hung
    with pytest.raises(OperationalError):
        database.ensure_connection()
    later = base.time.monotonic() + 2.1
    monkeypatch.setattr(base.time, "monotonic", lambda: later)
    with pytest.raises(OperationalError):
        database.ensure_connection()
    assert len(server.accepted) == 2
