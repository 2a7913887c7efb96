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


# CI runs the suite on SQLite and on PostgreSQL at once (``.ci/run``): each run takes its own share of every range
# (``CONTENTSITE_PORT_SHARE``, "<share>/<shares>"), so that the servers one starts (its own PostgreSQL, Redis,
# gunicorn, Varnish, each on the first free port of a range) never take a port the other probed free a moment ago.
@pytest.mark.parametrize(
    "ports",
    [LISTEN_PORTS, multiserver.POSTGRES_PORTS, multiserver.REDIS_PORTS, outages.POSTGRES_PORTS, outages.REDIS_PORTS],
)
def test_two_runs_at_once_take_ports_from_shares_that_do_not_meet(ports, monkeypatch):
    taken = []
    for share in ("0/2", "1/2"):
        monkeypatch.setenv("CONTENTSITE_PORT_SHARE", share)
        mine = {free_port(ports) for _ in range(10)}
        assert mine <= set(ports)
        taken.append(mine)
    assert not taken[0] & taken[1]


@pytest.mark.parametrize("ports", [outages.POSTGRES_PORTS, outages.REDIS_PORTS, multiserver.POSTGRES_PORTS])
def test_each_share_of_a_small_range_still_has_room(ports):
    """A run's own servers of one kind, with one left behind by a test that failed: room for several in each share."""
    assert len(ports[1::2]) >= 8


@pytest.mark.parametrize("share", ["1/1", "2/2", "-1/2", "a/b", "1", "0/0"])
def test_a_share_that_is_none_is_refused_naming_the_variable(share, monkeypatch):
    monkeypatch.setenv("CONTENTSITE_PORT_SHARE", share)
    with pytest.raises(ValueError, match="CONTENTSITE_PORT_SHARE"):
        free_port()
