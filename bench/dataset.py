"""The bench's dataset, prepared once per database and reused by every run.

`billing-gateway seed --accounts 1000 --seed 1 --as-of 2026-11-15` (through the seed
code itself), plus one extra account holding 10,000,000 raw usage events over the 90
days before the as-of date. The table `bench.dataset` records which version is loaded:
a rerun whose version matches skips the preparation; any other version (other flags, or
a change to the seed code or the migrations) drops the database and prepares it again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.events import load_events
from gateway import migrate
from gateway.seed import seed

AS_OF: Final = datetime(2026, 11, 15, tzinfo=UTC)
ACCOUNTS: Final = 1000
SEED: Final = 1
EVENT_DAYS: Final = 90
BIG_ACCOUNT: Final = "acct_bench10m"
ROOT: Final = Path(__file__).resolve().parent.parent
# What the data depends on besides the numbers: a change to any of these re-prepares.
SOURCES: Final = ("gateway/seed/*.py", "gateway/migrations/*.sql", "bench/events.py")

RECORD: Final = """
CREATE SCHEMA bench;
CREATE TABLE bench.dataset (version text NOT NULL, prepared_at timestamptz NOT NULL,
                            seed_seconds float8 NOT NULL, events_seconds float8 NOT NULL,
                            counts jsonb NOT NULL)"""
READ_RECORD: Final = """
SELECT version, seed_seconds, events_seconds, counts FROM bench.dataset
 WHERE to_regclass('bench.dataset') IS NOT NULL"""
BIG_ACCOUNT_ROW: Final = """
INSERT INTO accounts (id, name, currency, tax_rate, created_at)
VALUES ($1, 'Bench: 10 M usage events', 'USD', 0, $2)"""


@dataclass(frozen=True)
class Dataset:
    dsn: str
    version: str
    seed_seconds: float
    events_seconds: float
    counts: dict[str, int]
    prepared_now: bool


def version(events: int) -> str:
    digest = hashlib.sha256()
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    day = AS_OF.date().isoformat()
    return (
        f"accounts={ACCOUNTS} seed={SEED} as_of={day} events={events} "
        f"code={digest.hexdigest()[:12]}"
    )


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


async def prepare(server_dsn: str, name: str, events: int, force: bool = False) -> Dataset:
    """The dataset in database `name` on the server, prepared unless already there."""
    dsn = with_database(server_dsn, name)
    wanted = version(events)
    found = None if force else await _recorded(server_dsn, dsn, name)
    if found is not None and found["version"] == wanted:
        print(f"dataset: reusing database {name!r} ({wanted})", flush=True)
        return _dataset(dsn, found, prepared_now=False)
    why = "forced" if force else ("none recorded" if found is None else found["version"])
    print(f"dataset: preparing database {name!r} ({wanted}; was: {why})", flush=True)
    await _recreate(server_dsn, name)
    return await _fill(dsn, wanted, events)


async def _recorded(server_dsn: str, dsn: str, name: str) -> dict[str, Any] | None:
    admin = await asyncpg.connect(server_dsn)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await admin.close()
    if not exists:
        return None
    conn = await asyncpg.connect(dsn)
    try:
        has_table = await conn.fetchval("SELECT to_regclass('bench.dataset') IS NOT NULL")
        row = await conn.fetchrow(READ_RECORD) if has_table else None
        return None if row is None else dict(row)
    finally:
        await conn.close()


async def _recreate(server_dsn: str, name: str) -> None:
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _fill(dsn: str, wanted: str, events: int) -> Dataset:
    await migrate.migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        summary = await seed(conn, accounts=ACCOUNTS, seed=SEED, as_of=AS_OF)
        seed_seconds = time.perf_counter() - t0
        print(f"seed: {ACCOUNTS} accounts in {seed_seconds:.1f} s", flush=True)
        await conn.execute(BIG_ACCOUNT_ROW, BIG_ACCOUNT, AS_OF)
        start = AS_OF - timedelta(days=EVENT_DAYS)
        events_seconds = await load_events(conn, BIG_ACCOUNT, start, EVENT_DAYS, events)
        counts = summary.counts | {"big_account_events": events}
        record = {
            "version": wanted,
            "seed_seconds": seed_seconds,
            "events_seconds": events_seconds,
            "counts": counts,
        }
        await conn.execute(RECORD)
        await conn.execute(
            "INSERT INTO bench.dataset VALUES ($1, now(), $2, $3, $4::jsonb)",
            wanted,
            seed_seconds,
            events_seconds,
            json.dumps(counts),
        )
    finally:
        await conn.close()
    return _dataset(dsn, record, prepared_now=True)


def _dataset(dsn: str, record: dict[str, Any], prepared_now: bool) -> Dataset:
    counts = record["counts"]
    return Dataset(
        dsn=dsn,
        version=record["version"],
        seed_seconds=float(record["seed_seconds"]),
        events_seconds=float(record["events_seconds"]),
        counts=json.loads(counts) if isinstance(counts, str) else dict(counts),
        prepared_now=prepared_now,
    )
