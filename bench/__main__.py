"""``make bench``: the read path measured side by side, as ratios against goals (issue 9).

Every case runs on gunicorn (2 sync workers, production settings via ``bench.settings``) over
loopback, loaded by wrk for a fixed time in interleaved rounds (value, baseline, value, ...);
the cost of a request is the CPU the server's workers (and PostgreSQL's backends) used, read
from /proc, divided by the requests wrk counted. Each row shows the median ratio of the rounds
next to its goal. Groups (``--only``): pages, varnish, wagtail, scale, profile, hostile.

    python -m bench                      # everything but hostile (about 15 minutes)
    python -m bench --quick              # a smoke run: small sizes, SQLite, one short round
    python -m bench --only scale --databases postgresql --sizes 100,100000
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .groups import DEFAULT_GROUPS, GROUPS, Bench

ROOT = Path(__file__).resolve().parent.parent


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 20,60, SQLite, 1 round of 1 s")
    parser.add_argument("--sizes", default="100,100000", help="live articles at the small and the large size")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--only", action="append", choices=sorted(GROUPS), help="run only this group (repeatable)")
    parser.add_argument("--hostile", action="store_true", help="also time hostile inputs (in-process)")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measurement round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per comparison")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.txt")
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.sizes, arguments.seconds, arguments.rounds = "20,60", 1.0, 1
        if "--databases" not in (argv if argv is not None else sys.argv):
            arguments.databases = "sqlite"
    arguments.sizes = sorted(int(size) for size in arguments.sizes.split(","))
    arguments.databases = [name.strip() for name in arguments.databases.split(",") if name.strip()]
    for name in arguments.databases:
        if name not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {name!r}: choose sqlite, postgresql or both")
    if len(arguments.sizes) != 2:
        parser.error("--sizes takes two sizes: small,large")
    groups = arguments.only or [*DEFAULT_GROUPS]
    if arguments.quick and not arguments.only:
        groups = [group for group in groups if group in ("pages", "scale", "profile")]
    if arguments.hostile and "hostile" not in groups:
        groups.append("hostile")
    arguments.groups = groups
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    # Stopped by Ctrl-C or kill, even when started in the background: the servers are stopped too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(arguments)
    try:
        bench.run()
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
