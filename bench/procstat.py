"""CPU time and peak memory of processes, read from /proc: the server's own counters, not the client's clock."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_stat(text: str) -> tuple[int, int, int]:
    """(parent pid, utime, stime) in clock ticks from a /proc/<pid>/stat line.

    The command name in parentheses may itself hold spaces and parentheses, so
    fields are counted from the last ``)``.
    """
    fields = text[text.rindex(")") + 2 :].split()
    # After the name: state(3) ppid(4) ... utime(14) stime(15), numbered as in proc(5).
    return int(fields[1]), int(fields[11]), int(fields[12])


def parse_peak_memory_kb(status: str) -> int:
    """VmHWM (peak resident set size) in kB from a /proc/<pid>/status text; 0 if absent."""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pids: Iterable[int]) -> float:
    """User plus system CPU seconds used so far by ``pids``; a process that has gone counts nothing."""
    ticks = 0
    for pid in pids:
        try:
            _, utime, stime = parse_stat((PROC / str(pid) / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        ticks += utime + stime
    return ticks / CLOCK_TICKS


def peak_memory_kb(pid: int) -> int:
    try:
        return parse_peak_memory_kb((PROC / str(pid) / "status").read_text())
    except OSError:
        return 0


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL backend processes connected to ``database`` (their title names it: ``postgres: ... user db``)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in f"{title} ":
            found.append(int(entry.name))
    return found
