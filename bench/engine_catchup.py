"""How long the billing engine takes to bring an idle database current.

Seeds `--accounts` accounts (default 1,000) at 2026-11-15 into a template database once,
then for each worker count copies the template and times `billing-gateway worker --once`
processes (started together) catching up `--months` months (default 13) later. Checks
that every run issued the same invoices (a digest of subscription, period, total) and
prints boundaries, wall time and boundaries per second.

    .ci/dev python -m bench.engine_catchup [--accounts 1000] [--months 13] \\
        [--workers 1 2] [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Without --database-url (or BENCH_DATABASE_URL) it uses the embedded PostgreSQL in
.data/bench. The template database is kept between runs (`bench_engine_<accounts>`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.databases import database_name, server_dsn, with_database
from gateway import migrate
from gateway.seed import seed
from resolvers.periods import add_months, iso

SEEDED = datetime(2026, 11, 15, tzinfo=UTC)
CLI = str(Path(sys.executable).parent / "billing-gateway")
DIGEST = """
SELECT subscription_id, boundary_at, period_start, period_end, total FROM invoices
 WHERE boundary_at >= $1 ORDER BY subscription_id, boundary_at"""


async def ensure_template(server: str, accounts: int) -> str:
    name = f"bench_engine_{accounts}"
    admin = await asyncpg.connect(server)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = with_database(server, name)
    if not exists:
        started = time.perf_counter()
        await migrate.migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            summary = await seed(conn, accounts=accounts, seed=1, as_of=SEEDED)
        finally:
            await conn.close()
        print(f"seeded {summary.counts} in {time.perf_counter() - started:.0f} s", flush=True)
    return dsn


async def twin(server: str, template: str, name: str) -> str:
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        source = database_name(template)
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    finally:
        await admin.close()
    return with_database(server, name)


async def digest(dsn: str) -> tuple[int, str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(DIGEST, SEEDED)
    finally:
        await conn.close()
    text = "\n".join(f"{r[0]} {iso(r[1])} {iso(r[2])} {iso(r[3])} {r[4]}" for r in rows)
    return len(rows), hashlib.sha256(text.encode()).hexdigest()[:16]


def catch_up(dsn: str, workers: int, at: datetime) -> float:
    env = {**os.environ, "DATABASE_URL": dsn, "BILLING_ENV": "dev", "BILLING_NOW": iso(at)}
    started = time.perf_counter()
    command = [CLI, "worker", "--once"]  # our own CLI with fixed arguments
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit("a worker failed")
    return time.perf_counter() - started


async def main() -> None:
    args = parse_args()
    server = server_dsn(args.database_url)
    template = await ensure_template(server, args.accounts)
    at = add_months(SEEDED, args.months) + timedelta(minutes=30)
    print(f"catching up from {iso(SEEDED)} to {iso(at)} ({args.months} months)")
    seen = set()
    for workers in args.workers:
        dsn = await twin(server, template, f"bench_engine_run_{workers}")
        seconds = catch_up(dsn, workers, at)
        boundaries, fingerprint = await digest(dsn)
        seen.add(fingerprint)
        rate = boundaries / seconds
        print(
            f"workers {workers}: {boundaries} boundaries in {seconds:.1f} s"
            f" = {rate:.0f} per s (invoice digest {fingerprint})",
            flush=True,
        )
    if len(seen) != 1:
        raise SystemExit("runs with different worker counts issued different invoices")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--months", type=int, default=13)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--database-url", default=None)
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main())
