"""Running wrk and reading what it prints: requests, duration, latency percentiles, errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    percentiles_ms: dict[int, float] = field(default_factory=dict)
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def p50_ms(self) -> float:
        return self.percentiles_ms.get(50, float("nan"))

    @property
    def p99_ms(self) -> float:
        return self.percentiles_ms.get(99, float("nan"))

    @property
    def errors(self) -> int:
        # Read errors are how wrk counts a server closing a connection (gunicorn's sync workers do, each time).
        return self.non_2xx_3xx + sum(count for kind, count in self.socket_errors.items() if kind != "read")


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse(output: str) -> WrkResult:
    """What ``wrk --latency`` printed; raises ValueError if it printed no request count."""
    match = _REQUESTS.search(output)
    if match is None:
        raise ValueError(f"wrk printed no request count: {output.strip()[-300:]!r}")
    result = WrkResult(requests=int(match[1]), seconds=_ms(match[2], match[3]) / 1000)
    result.percentiles_ms = {int(p): _ms(value, unit) for p, value, unit in _PERCENTILE.findall(output)}
    if non := _NON_2XX.search(output):
        result.non_2xx_3xx = int(non[1])
    if socket := _SOCKET.search(output):
        result.socket_errors = dict(
            zip(("connect", "read", "write", "timeout"), map(int, socket.groups()), strict=True)
        )
    return result


def lua_script(method: str, headers: dict[str, str], body: str | None) -> str:
    """A wrk script setting the method, headers and body of every request (JSON strings are valid Lua strings)."""
    lines = [f"wrk.method = {json.dumps(method)}"]
    lines += [f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    return "\n".join(lines) + "\n"


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    url: str,
    *,
    seconds: float,
    connections: int = 2,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: str | None = None,
    timeout_s: int = 30,
) -> WrkResult:
    """Load ``url`` for ``seconds`` with ``connections`` connections over as many threads."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as directory:
        script = Path(directory) / "request.lua"
        script.write_text(lua_script(method, headers or {}, body))
        command = [
            "wrk",
            f"--threads={connections}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            f"--timeout={timeout_s}s",
            "--latency",
            f"--script={script}",
            url,
        ]
        limit = seconds + timeout_s + 30
        finished = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=False)  # noqa: S603
    return parse(finished.stdout + finished.stderr)
