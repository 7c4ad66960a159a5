"""Millions of raw usage events for one account, generated on the server.

Each chunk is one statement (`generate_series`) that claims the events' idempotency keys
in `usage_event_keys` and inserts the events whose key was new into `usage_events`, as
the write contract of 0002_usage.sql says, so the statement-level trigger rolls the
chunk into `usage_hourly` in the same transaction. 99% of the events go to `requests`
(SUM), every 100th to `storage_gb` (MAX), spread evenly over `days` days.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import asyncpg

    Conn = asyncpg.Connection[asyncpg.Record]

MAX_METER_EVERY: Final = 100  # every 100th event goes to storage_gb (MAX)
CHUNK: Final = 1_000_000

# One statement per chunk: generate, claim the keys, insert the events whose key was new.
LOAD: Final = """
WITH gen AS (
    SELECT n,
           CASE WHEN n % $6 = 0 THEN $3 ELSE $2 END AS meter_id,
           CASE WHEN n % $6 = 0 THEN (50 + n % 200)::numeric(24,6)
                ELSE (1 + n % 10)::numeric(24,6) END AS quantity,
           $4::timestamptz + make_interval(secs => n * $5::float8) AS occurred_at
      FROM generate_series($7::bigint, $8::bigint) AS n
), claimed AS (
    INSERT INTO usage_event_keys (account_id, idempotency_key, meter_id, quantity, occurred_at)
    SELECT $1, 'bench-' || n, meter_id, quantity, occurred_at FROM gen
    ON CONFLICT DO NOTHING
    RETURNING account_id, idempotency_key, meter_id, quantity, occurred_at
)
INSERT INTO usage_events (account_id, meter_id, quantity, occurred_at, idempotency_key)
SELECT account_id, meter_id, quantity, occurred_at, idempotency_key FROM claimed"""

METERS: Final = "SELECT key, id FROM meters"


class LoadError(Exception):
    """A chunk did not insert every event it generated (keys already taken?)."""


async def load_events(
    conn: Conn, account: str, start: datetime, days: int, events: int, chunk: int = CHUNK
) -> float:
    """Load `events` events over [start, start + days); returns the seconds it took."""
    meters = {r["key"]: r["id"] for r in await conn.fetch(METERS)}
    await conn.execute(
        "SELECT ensure_usage_partitions($1, $2)",
        start - timedelta(days=1),
        start + timedelta(days=days + 1),
    )
    step = days * 86_400 / events
    print(f"loading {events:,} events in chunks of {chunk:,} ...", flush=True)
    began = time.perf_counter()
    for lo in range(0, events, chunk):
        hi = min(events, lo + chunk) - 1
        t0 = time.perf_counter()
        args = (meters["requests"], meters["storage_gb"], start, step, MAX_METER_EVERY, lo, hi)
        inserted = int((await conn.execute(LOAD, account, *args)).split()[-1])
        if inserted != hi - lo + 1:
            raise LoadError(f"chunk {lo:,}..{hi:,} inserted {inserted:,} events")
        dt = time.perf_counter() - t0
        print(
            f"  {hi + 1:>12,} events  chunk {dt:6.1f} s  ({inserted / dt:,.0f} rows/s)", flush=True
        )
    loaded = time.perf_counter() - began
    print(
        f"load: {events:,} events in {loaded:.1f} s = {events / loaded:,.0f} events/s", flush=True
    )
    t0 = time.perf_counter()
    # Now rather than by autovacuum in the middle of the measurements.
    await conn.execute("VACUUM (ANALYZE) usage_events, usage_event_keys, usage_hourly")
    print(f"vacuum analyze: {time.perf_counter() - t0:.1f} s", flush=True)
    return time.perf_counter() - began
