"""One measurement: load a URL for a fixed time, count the server's (and database's) CPU per request.

CPU comes from the processes' own counters in /proc (gunicorn's workers, PostgreSQL's backends,
varnishd), never from the client's clock; latency percentiles come from wrk. Requests slower than
``SLOW_SECONDS`` are sent one after another by this process instead (wrk would cut the last ones
off mid-request and their CPU would be counted without them).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import procstat, wrk
from .report import Row, median_ratio
from .servers import REQUEST_TIMEOUT_S, request

SLOW_SECONDS = 0.25


class CaseError(Exception):
    """A response that is not what the case expects: printed as an error row, the bench goes on."""


@dataclass
class Target:
    label: str
    port: Callable[[], int]
    path: str
    server_pids: Callable[[], list[int]]
    database_pids: Callable[[], list[int]] = list
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    expect: int = 200


@dataclass
class Sample:
    requests: int
    server_cpu_s: float
    database_cpu_s: float
    p50_ms: float
    p99_ms: float
    errors: int = 0

    @property
    def cpu_ms_per_request(self) -> float:
        if not self.requests:
            return math.nan
        return (self.server_cpu_s + self.database_cpu_s) * 1000 / self.requests


def _snapshot(pids: list[int]) -> dict[int, float]:
    return {pid: procstat.cpu_seconds([pid]) for pid in pids}


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots; a process that appeared in between counts from its start."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _wait_idle(pids: list[int], limit_s: float = 60) -> None:
    """Let requests the client gave up on finish, so that their CPU lands in this round, not the next."""
    deadline = time.monotonic() + limit_s
    last = procstat.cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.15)
        now = procstat.cpu_seconds(pids)
        if now == last:
            return
        last = now


def check(target: Target) -> float:
    """One request answered as the case expects; return its latency in seconds."""
    body = target.body.encode() if target.body is not None else None
    answer = request(target.port(), target.path, method=target.method, headers=target.headers, body=body)
    if answer.status != target.expect:
        raise CaseError(f"{target.label}: {target.method} {target.path} answered {answer.status}, not {target.expect}")
    return answer.seconds


def measure(target: Target, seconds: float, *, slow: bool | None = None) -> Sample:
    """Load ``target`` for about ``seconds`` and count what it cost the server.

    ``slow`` (sequential requests) is decided by one checked request unless the caller knows.
    """
    if slow is None:
        slow = check(target) > SLOW_SECONDS
    servers = target.server_pids()
    before_server, before_database = _snapshot(servers), _snapshot(target.database_pids())
    if slow:
        latencies, errors = _sequential(target, seconds)
        requests = len(latencies)
        p50, p99 = _percentile(latencies, 50), _percentile(latencies, 99)
    else:
        result = wrk.run(
            f"http://127.0.0.1:{target.port()}{target.path}",
            seconds=seconds,
            method=target.method,
            headers=target.headers,
            body=target.body,
        )
        requests, p50, p99, errors = result.requests, result.p50_ms, result.p99_ms, result.errors
    _wait_idle(servers)
    return Sample(
        requests=requests,
        server_cpu_s=_spent(before_server, _snapshot(servers)),
        database_cpu_s=_spent(before_database, _snapshot(target.database_pids())),
        p50_ms=p50,
        p99_ms=p99,
        errors=errors,
    )


def _sequential(target: Target, seconds: float) -> tuple[list[float], int]:
    """Requests one at a time for about ``seconds``, at least one: (latencies in ms, errors)."""
    body = target.body.encode() if target.body is not None else None
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds
    while not latencies or time.monotonic() < deadline:
        answer = request(target.port(), target.path, method=target.method, headers=target.headers, body=body)
        errors += answer.status != target.expect
        latencies.append(answer.seconds * 1000)
    return latencies, errors


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(len(ordered) * percent / 100) - 1)] if ordered else math.nan


def compare(value: Target, baseline: Target, *, rounds: int, seconds: float) -> tuple[list[Sample], list[Sample]]:
    """Interleaved rounds (value, baseline, value, baseline, ...) after a warm-up of each.

    The warm-up is one checked request, then a short load unless that request was slow (a
    request of seconds is its own warm-up: another would only make the run longer).
    """
    slow = {}
    for target in (value, baseline):
        slow[id(target)] = check(target) > SLOW_SECONDS
        if not slow[id(target)]:
            measure(target, min(1.0, seconds), slow=False)
    pairs = []
    for _ in range(rounds):
        pairs.append(
            (measure(value, seconds, slow=slow[id(value)]), measure(baseline, seconds, slow=slow[id(baseline)]))
        )
    return [a for a, _ in pairs], [b for _, b in pairs]


def latency_summary(samples: list[Sample]) -> str:
    p50 = statistics.median(s.p50_ms for s in samples)
    p99 = statistics.median(s.p99_ms for s in samples)
    return f"p50 {p50:.1f} / p99 {p99:.1f} ms"


def compared_row(
    group: str,
    case: str,
    value: Target,
    baseline: Target,
    *,
    goal: float | None,
    baseline_label: str,
    rounds: int,
    seconds: float,
    metric: str = "cpu",
) -> tuple[Row, list[Sample], list[Sample]]:
    """A row comparing ``value`` with ``baseline``: CPU per request (or p50 latency), median ratio of rounds."""
    try:
        values, baselines = compare(value, baseline, rounds=rounds, seconds=seconds)
    except TimeoutError:
        # The worker goes on with the request it was given: let it finish before the next case counts CPU.
        _wait_idle([*value.server_pids(), *baseline.server_pids()], limit_s=REQUEST_TIMEOUT_S * 3)
        error = f"a request got no answer within {REQUEST_TIMEOUT_S} s"
        return Row(group, case, goal=goal, baseline_label=baseline_label, error=error), [], []
    except (CaseError, OSError, ValueError, RuntimeError) as error:
        return Row(group, case, goal=goal, baseline_label=baseline_label, error=str(error)), [], []

    def of(sample: Sample) -> float:
        return sample.cpu_ms_per_request if metric == "cpu" else sample.p50_ms

    errors = sum(s.errors for s in values + baselines)
    detail = (
        f"{latency_summary(values)} vs {latency_summary(baselines)}; "
        f"{sum(s.requests for s in values):,} vs {sum(s.requests for s in baselines):,} requests"
    )
    if any(s.database_cpu_s for s in values + baselines):
        db = statistics.median(s.database_cpu_s * 1000 / s.requests for s in values if s.requests)
        detail += f"; of which database {db:.2f} ms/req"
    row = Row(
        group,
        case,
        value=statistics.median(of(s) for s in values),
        baseline=statistics.median(of(s) for s in baselines),
        ratio=median_ratio(zip(map(of, values), map(of, baselines), strict=True)),
        goal=goal,
        unit="ms CPU/req" if metric == "cpu" else "ms p50",
        baseline_label=baseline_label,
        detail=detail,
        error=f"{errors} unexpected responses" if errors else "",
    )
    return row, values, baselines
