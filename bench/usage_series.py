"""Usage-series latency over an account with millions of raw events.

    .ci/dev python -m bench.usage_series [--events 10000000] [--requests 200]
                                           [--database-url URL] [--keep]

Creates a fresh database (on DATABASE_URL's server, else on an embedded PostgreSQL in
.data/bench), migrates it, seeds 5 accounts, then loads --events raw events for one
account over the 90 days before today (99% `requests`, 1% `storage_gb`, a MAX meter),
server-side, in chunks of one statement each: keys first, then the events that are
new, as the write contract of 0002_usage.sql says; the statement-level trigger rolls
each chunk into usage_hourly. It checks the rollup against the raw events, then sends
real GraphQL requests through the ASGI app (httpx, sequential, after a warm-up) for
HOUR over 7 days, DAY over 30 and MONTH over 90, checks every total against the raw
events, and prints latency percentiles, SQL statements per request and the plan of
the rollup read. The database is dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from auth.tokens import mint
from bench.events import LoadError, load_events
from gateway import migrate
from gateway.app import create_app
from gateway.clock import SystemClock
from gateway.seed import seed
from gateway.settings import DEV_SECRET, load
from loaders.usage import BUCKETS

if TYPE_CHECKING:
    Conn = asyncpg.Connection[asyncpg.Record]

DAYS: Final = 90
# Per meter: raw events against the rollup.
RECONCILE: Final = """
SELECT m.key, e.n AS raw_count, h.n AS rollup_count, e.s AS raw_sum, h.s AS rollup_sum,
       e.m AS raw_max, h.m AS rollup_max
  FROM (SELECT meter_id, count(*) AS n, sum(quantity) AS s, max(quantity) AS m
          FROM usage_events WHERE account_id = $1 GROUP BY 1) e
  FULL JOIN (SELECT meter_id, sum(event_count) AS n, sum(quantity_sum) AS s,
                    max(quantity_max) AS m
               FROM usage_hourly WHERE account_id = $1 GROUP BY 1) h USING (meter_id)
  JOIN meters m ON m.id = meter_id
 ORDER BY 1"""

RAW_SUM: Final = """
SELECT coalesce(sum(quantity), 0) FROM usage_events
 WHERE account_id = $1 AND meter_id = $2 AND occurred_at >= $3 AND occurred_at < $4"""

PLAN_CACHE: Final = """
SELECT generic_plans, custom_plans FROM pg_prepared_statements
 WHERE statement LIKE '%JOIN usage_hourly h%' AND statement LIKE '%ORDER BY k.n, h.hour%'"""

QUERY: Final = """
query Bench($id: ID!, $from: DateTime!, $to: DateTime!, $g: UsageGranularity) {
  account(id: $id) {
    usage(meter: "requests", from: $from, to: $to, granularity: $g) {
      from to total points { start quantity }
    }
  }
}"""


@dataclass(frozen=True)
class Case:
    granularity: str
    days: int


CASES: Final = (Case("HOUR", 7), Case("DAY", 30), Case("MONTH", DAYS))


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def fail(message: str) -> None:
    print(f"FAIL: {message}", flush=True)
    raise SystemExit(1)


async def reconcile(conn: Conn, account: str) -> None:
    t0 = time.perf_counter()
    rows = await conn.fetch(RECONCILE, account)
    print(f"rollup vs raw events ({time.perf_counter() - t0:.1f} s):")
    for r in rows:
        same = (r["raw_count"], r["raw_sum"], r["raw_max"]) == (
            r["rollup_count"],
            r["rollup_sum"],
            r["rollup_max"],
        )
        print(
            f"  {r['key']:<13} events {r['raw_count']:>11,}  sum raw {r['raw_sum']} "
            f"rollup {r['rollup_sum']}  max {r['raw_max']}/{r['rollup_max']}  "
            f"{'OK' if same else 'MISMATCH'}"
        )
        if not same:
            fail(f"usage_hourly disagrees with usage_events for {r['key']}")
    hours = await conn.fetchval("SELECT count(*) FROM usage_hourly WHERE account_id = $1", account)
    print(f"  usage_hourly rows for the account: {hours:,}")


async def explain(conn: Conn, account: str, meter: str, start: datetime, end: datetime) -> None:
    """The loader's rollup read, as a one-off (custom) plan and as the cached generic plan."""
    args = ([account], [account], [meter], [start], [end], ["day"])
    custom = [r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + BUCKETS, *args)]
    await conn.execute("PREPARE bench_hourly AS " + BUCKETS)
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    # EXECUTE takes no bind parameters: let the server quote the values as literals.
    execute = await conn.fetchval(
        "SELECT format('EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_hourly(%L::text[], "
        "%L::text[], %L::text[], %L::timestamptz[], %L::timestamptz[], %L::text[])', "
        "$1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[])",
        *args,
    )
    generic = [r[0] for r in await conn.fetch(execute)]
    await conn.execute("RESET plan_cache_mode; DEALLOCATE bench_hourly")
    print(f"EXPLAIN (ANALYZE, BUFFERS) of the rollup read, {start:%Y-%m-%d} .. {end:%Y-%m-%d}:")
    for label, plan in (("custom", custom), ("generic", generic)):
        text = "\n".join(plan)
        scans = [
            line.strip()
            for line in plan
            if "Scan" in line and " on " in line and "Function Scan" not in line
        ]
        timing = next((line for line in plan if line.startswith("Execution Time")), "?")
        hits = [line.strip() for line in plan if "Buffers:" in line][:1]
        print(f"  {label}: {timing}; {'; '.join(hits)}")
        for scan in scans:
            print(f"    {scan.split('  (')[0]}")
        if "usage_hourly" not in text or "usage_events" in text:
            fail(f"the {label} plan does not read usage_hourly alone:\n{text}")


async def measure(
    client: httpx.AsyncClient,
    token: str,
    account: str,
    case: Case,
    end: datetime,
    requests: int,
    warmup: int,
) -> tuple[list[float], Counter[int], dict[str, Any]]:
    variables = {
        "id": account,
        "from": (end - timedelta(days=case.days)).isoformat(),
        "to": end.isoformat(),
        "g": case.granularity,
    }
    body = {"query": QUERY, "variables": variables}
    headers = {"Authorization": f"Bearer {token}"}
    timings: list[float] = []
    statements: Counter[int] = Counter()
    first: dict[str, Any] = {}
    for i in range(warmup + requests):
        t0 = time.perf_counter()
        response = await client.post("/graphql", json=body, headers=headers)
        elapsed = (time.perf_counter() - t0) * 1000
        payload: dict[str, Any] = response.json()
        if response.status_code != 200 or payload.get("errors") or not payload.get("data"):
            fail(f"{case.granularity}: HTTP {response.status_code} {str(payload)[:500]}")
        series = payload["data"]["account"]["usage"]
        if not first:
            first = series
        elif series["total"] != first["total"]:
            fail(f"{case.granularity}: total changed between requests")
        if i >= warmup:
            timings.append(elapsed)
            statements[int(payload.get("extensions", {}).get("sqlStatements", -1))] += 1
    return timings, statements, first


async def bench_app(
    dsn: str, conn: Conn, account: str, meter: str, end: datetime, requests: int, warmup: int
) -> None:
    token = mint(DEV_SECRET, role="customer", accounts=[account], ttl_seconds=3600)
    app = create_app(load({"DATABASE_URL": dsn, "BILLING_ENV": "dev"}))
    results = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for case in CASES:
                results.append(
                    (case, *await measure(client, token, account, case, end, requests, warmup))
                )
        # Which plan PostgreSQL settled on for the rollup read on the app's connections.
        plans: Counter[str] = Counter()
        for _ in range(app.state.services.pool.get_size()):
            async with app.state.services.pool.acquire() as pooled:
                for r in await pooled.fetch(PLAN_CACHE):
                    plans["generic"] += r["generic_plans"]
                    plans["custom"] += r["custom_plans"]
    print(f"GraphQL account.usage(meter: requests), {requests} sequential requests each:")
    print(
        f"  {'granularity':<18}{'points':>7}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}"
        f"  {'SQL/request':<12} total"
    )
    for case, timings, statements, series in results:
        lo, hi = parse_time(series["from"]), parse_time(series["to"])
        raw = await conn.fetchval(RAW_SUM, account, meter, lo, hi)
        total = Decimal(series["total"])
        points = sum(Decimal(p["quantity"]) for p in series["points"])
        if total != raw or points != raw:
            fail(f"{case.granularity}: total {total}, Σ points {points}, raw events {raw}")
        ordered = sorted(timings)
        stats = "".join(f"{percentile(ordered, q):9.1f}" for q in (0.5, 0.9, 0.99, 1.0))
        per_request = ",".join(str(n) for n in sorted(statements))
        label = f"{case.granularity} / {case.days} d"
        print(
            f"  {label:<18}{len(series['points']):>7}{stats}  {per_request:<12} "
            f"{total} (= raw events over [{lo:%Y-%m-%d}, {hi:%Y-%m-%d}))"
        )
    load1, _, _ = os.getloadavg()
    print(
        "  (latencies in ms, in-process ASGI: HTTP parsing, auth, GraphQL, SQL, JSON; "
        f"load average {load1:.1f} on {os.cpu_count()} CPUs)"
    )
    print(
        f"  rollup read executions on the app's pool: {plans['generic']} with the generic plan, "
        f"{plans['custom']} with custom plans"
    )


async def run(args: argparse.Namespace, server_dsn: str) -> None:
    name = f"bench_usage_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = with_database(server_dsn, name)
    print(f"database {name}")
    try:
        await migrate.migrate(dsn)
        end = SystemClock().now().replace(hour=0, minute=0, second=0, microsecond=0)
        conn = await asyncpg.connect(dsn)
        try:
            summary = await seed(conn, accounts=5, seed=1, as_of=end)
            account = summary.account_ids[0]
            meters = {r["key"]: r["id"] for r in await conn.fetch("SELECT key, id FROM meters")}
            start = end - timedelta(days=DAYS)
            print(f"account {account}, events over [{start:%Y-%m-%d}, {end:%Y-%m-%d})")
            try:
                await load_events(conn, account, start, DAYS, args.events, args.chunk)
            except LoadError as exc:
                fail(str(exc))
            await reconcile(conn, account)
            day = CASES[1]
            await explain(conn, account, meters["requests"], end - timedelta(days=day.days), end)
            await bench_app(dsn, conn, account, meters["requests"], end, args.requests, args.warmup)
        finally:
            await conn.close()
    finally:
        if args.keep:
            print(f"kept database: {dsn}")
        else:
            admin = await asyncpg.connect(server_dsn)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
            print(f"dropped database {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--data-dir", type=Path, default=Path(".data/bench"))
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    if args.events < 1 or args.requests < 1 or args.chunk < 1:
        parser.error("--events, --requests and --chunk must be positive")
    if args.database_url:
        asyncio.run(run(args, args.database_url))
        return
    from gateway import embedded

    server = embedded.start(args.data_dir)
    try:
        asyncio.run(run(args, embedded.dsn(server)))
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
