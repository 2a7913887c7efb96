"""The servers the tests, the bench and the drill start listen below the kernel's ephemeral port range.

Found in CI (stop 28): the multi-server drill's Varnish could not bind 127.0.0.1:38600, "Address already in
use". Its ports (and PostgreSQL's, Redis's and gunicorn's) were chosen inside the range the kernel gives the
local end of every outgoing connection (``ip_local_port_range``, 32768-60999 by default): any connection made
between the probe that found the port free and the server's bind (a gunicorn connecting to Redis, say) could
take it. Below that range only a listening server can hold a port, and the probe sees those.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import multiserver
from deploy.servers import LISTEN_PORTS, free_port
from tests import outages


def ephemeral_ports() -> range:
    low, high = (int(part) for part in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return range(low, high + 1)


@pytest.mark.parametrize(
    "ports",
    [
        LISTEN_PORTS,
        multiserver.POSTGRES_PORTS,
        multiserver.REDIS_PORTS,
        multiserver.APP_PORTS,
        multiserver.VARNISH_PORTS,
        outages.POSTGRES_PORTS,
        outages.REDIS_PORTS,
    ],
)
def test_every_port_range_is_below_the_ephemeral_range(ports):
    assert ports.stop <= ephemeral_ports().start, ports


def test_a_free_port_by_default_is_one_of_the_listen_ports_and_not_the_same_each_time():
    ports = {free_port() for _ in range(20)}
    assert ports <= set(LISTEN_PORTS)
    assert len(ports) > 1  # two servers probed before either binds rarely get the same port
