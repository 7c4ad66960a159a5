"""Usage ingestion throughput through the API: `recordUsage` batches of 1,000 events.

Creates a fresh database (migrated, 5 seeded accounts), then sends `--batches` batches of
1,000 events through the ASGI app (in-process, real HTTP requests via httpx) with
`--clients` concurrent clients, each on its own account; every event has a new
idempotency key, a random meter and an instant inside the account's open period. Checks
that every batch recorded 1,000 events and that the hourly rollup holds their exact sum,
then prints events per second and the latency of a batch.

    .ci/dev python -m bench.usage_ingest [--batches 40] [--clients 1 4] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx

from auth.tokens import mint
from bench.databases import database_name, server_dsn, with_database
from gateway import migrate
from gateway.app import create_app
from gateway.clock import FixedClock
from gateway.seed import seed
from gateway.settings import DEV_SECRET, load
from resolvers.periods import iso

SEEDED = datetime(2026, 11, 15, tzinfo=UTC)
NOW = SEEDED + timedelta(hours=12)
BATCH = 1000
RECORD = """mutation($input: RecordUsageInput!) {
  recordUsage(input: $input) { recorded userErrors { message } } }"""
LIVE = """
SELECT a.id, s.current_period_start
  FROM accounts a JOIN subscriptions s ON s.account_id = a.id
 WHERE s.status = 'ACTIVE' AND NOT s.cancel_at_period_end AND s.current_period_end > $1
 ORDER BY a.id"""


def batch(rng: random.Random, start: datetime) -> tuple[list[dict[str, str]], Decimal]:
    events, total = [], Decimal(0)
    span = int((NOW - start).total_seconds())
    for _ in range(BATCH):
        quantity = Decimal(rng.randint(1, 10_000))
        at = start + timedelta(seconds=rng.randrange(span))
        meter = rng.choice(("requests", "bandwidth_gb"))
        events.append({
            "meter": meter, "quantity": str(quantity), "occurredAt": iso(at),
            "idempotencyKey": secrets.token_hex(12),
        })  # fmt: skip
        total += quantity
    return events, total


async def client_run(
    client: httpx.AsyncClient, account: str, start: datetime, batches: int, seed_value: int
) -> tuple[list[float], Decimal]:
    rng = random.Random(seed_value)
    token = mint(DEV_SECRET, role="customer", accounts=[account], ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {token}"}
    latencies, sent = [], Decimal(0)
    for _ in range(batches):
        events, total = batch(rng, start)
        body = {"query": RECORD, "variables": {"input": {"accountId": account, "events": events}}}
        began = time.perf_counter()
        answer = (await client.post("/graphql", json=body, headers=headers)).json()
        latencies.append(time.perf_counter() - began)
        assert answer["data"]["recordUsage"] == {"recorded": BATCH, "userErrors": []}, answer
        sent += total
    return latencies, sent


async def measure(dsn: str, clients: int, batches: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    accounts = (await pool.fetch(LIVE, NOW))[:clients]
    before = await pool.fetchval("SELECT coalesce(sum(quantity_sum), 0) FROM usage_hourly")
    app = create_app(load({"DATABASE_URL": dsn, "BILLING_ENV": "dev"}), FixedClock(NOW))
    per_client = max(1, batches // clients)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as c:
            began = time.perf_counter()
            runs = await asyncio.gather(*(
                client_run(c, a["id"], a["current_period_start"], per_client, n)
                for n, a in enumerate(accounts)
            ))  # fmt: skip
            elapsed = time.perf_counter() - began
    after = await pool.fetchval("SELECT coalesce(sum(quantity_sum), 0) FROM usage_hourly")
    await pool.close()
    if after - before != sum(sent for _, sent in runs):
        raise SystemExit("the rollup does not hold the events' exact sum")
    latencies = sorted(x for lat, _ in runs for x in lat)
    events = per_client * len(accounts) * BATCH
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000
    print(
        f"clients {len(accounts)}: {events:,} events in {elapsed:.1f} s = {events / elapsed:,.0f}"
        f" events/s; a batch of {BATCH:,}: p50 {p50:.0f} ms, p99 {p99:.0f} ms",
        flush=True,
    )


async def fresh_database(server: str) -> str:
    name = f"bench_ingest_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = with_database(server, name)
    await migrate.migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await seed(conn, accounts=8, seed=1, as_of=SEEDED)
    finally:
        await conn.close()
    return dsn


async def main() -> None:
    args = parse_args()
    server = server_dsn(args.database_url)
    dsn = await fresh_database(server)
    try:
        for clients in args.clients:
            await measure(dsn, clients, args.batches)
    finally:
        admin = await asyncpg.connect(server)
        name = database_name(dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batches", type=int, default=40, help="batches of 1,000 per run")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    p.add_argument("--database-url", default=None)
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main())
