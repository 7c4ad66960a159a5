"""`.ci/dev bench [options]`: the gateway against the Python floor, on one dataset.

Prepares the dataset once (1,000 seeded accounts and one account with 10 M usage
events; reused while its recorded version matches), starts `billing-gateway serve`
with 1 and 2 workers and the floor, checks that they all give the same answers, then
drives each workload with wrk in interleaved rounds at each connection count, and
prints and saves req/s, latency, SQL, CPU and memory per request (bench/README.md).

The database: --database-url, else BENCH_DATABASE_URL, else DATABASE_URL (the server:
the bench uses database `bench` on it), else an embedded PostgreSQL in .data/bench.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from bench import balance, dataset, verify, workloads
from bench.run import Options, run

DEFAULTS = {"workloads": list(workloads.NAMES), "connections": [2, 8, 32], "workers": [1, 2]}


def _names(text: str) -> list[str]:
    return [x for x in text.split(",") if x]


def _numbers(text: str) -> list[int]:
    return [int(x) for x in _names(text)]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--workloads",
        type=_names,
        default=DEFAULTS["workloads"],
        help=f"comma-separated, of {','.join(workloads.NAMES)} (default: all)",
    )
    p.add_argument(
        "--connections",
        type=_numbers,
        default=DEFAULTS["connections"],
        help="comma-separated connection counts (default 2,8,32)",
    )
    p.add_argument(
        "--workers",
        type=_numbers,
        default=DEFAULTS["workers"],
        help="gateway worker counts (default 1,2)",
    )
    p.add_argument("--duration", type=float, default=10.0, help="seconds per round (10)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per system (2)")
    p.add_argument("--dashboards", type=int, default=20, help="dashboard accounts asked in turn")
    p.add_argument("--no-cache", action="store_true", help="skip the response-cache probe")
    p.add_argument("--no-save", action="store_true", help="print only; write no results")
    p.add_argument(
        "--balance",
        type=int,
        metavar="RUNS",
        default=0,
        help="instead: the worker-balance investigation, RUNS runs at 8 connections"
        " (or the first of --connections)",
    )
    p.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL"),
    )
    p.add_argument("--database", default="bench", help="database name on that server (bench)")
    p.add_argument("--events", type=int, default=10_000_000, help="raw events of the big account")
    p.add_argument("--reseed", action="store_true", help="prepare the dataset again")
    p.add_argument("--prepare-only", action="store_true", help="prepare the dataset and stop")
    return p


@contextmanager
def server_dsn(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from gateway import embedded

    server = embedded.start(Path(".data/bench"))
    try:
        yield embedded.dsn(server)
    finally:
        server.cleanup()


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (and SIGINT where a shell ignored it) end the run like Ctrl-C: every
    server the bench started is stopped on the way out."""
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    args = parser().parse_args()
    unknown = set(args.workloads) - set(workloads.NAMES)
    if unknown:
        parser().error(f"unknown workloads: {', '.join(sorted(unknown))}")
    with server_dsn(args.database_url) as dsn:
        data = asyncio.run(dataset.prepare(dsn, args.database, args.events, args.reseed))
        if args.prepare_only:
            return
        if args.balance:
            conns = args.connections[0] if args.connections != DEFAULTS["connections"] else 8
            job = balance.investigate(data, args.balance, args.duration, conns, not args.no_save)
            asyncio.run(job)
            return
        chosen = asyncio.run(workloads.build(data.dsn, args.workloads, args.dashboards))
        options = Options(
            workloads=args.workloads,
            connections=args.connections,
            workers=args.workers,
            seconds=args.duration,
            rounds=args.rounds,
            warmup=args.warmup,
            cache=not args.no_cache,
            save=not args.no_save,
            full_set=all(getattr(args, k) == v for k, v in DEFAULTS.items()),
        )
        try:
            asyncio.run(run(options, data, chosen))
        except verify.Disagreement as exc:
            raise SystemExit(f"bench: nothing measured, the systems disagree: {exc}") from None


if __name__ == "__main__":
    main()
