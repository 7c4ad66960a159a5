"""Writing the demo data with asyncpg: into an empty, migrated database, in one
transaction, by COPY in foreign-key order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import asyncpg

from gateway.seed.clock import as_utc, midnight
from gateway.seed.dataset import SeedData, build_seed_data
from gateway.seed.tables import COLUMNS
from gateway.seed.usage import USAGE_DAYS
from resolvers import engine

IS_EMPTY: Final = "SELECT NOT EXISTS (SELECT 1 FROM accounts)"
COUNT_HOURLY: Final = "SELECT count(*) FROM usage_hourly"


@dataclass
class SeedSummary:
    account_ids: list[str]
    partner_ids: list[str]
    counts: dict[str, int]  # rows per table


async def is_empty(conn: asyncpg.Connection) -> bool:
    """True when the database holds no accounts (the demo data may be seeded)."""
    return bool(await conn.fetchval(IS_EMPTY))


async def seed(
    conn: asyncpg.Connection,
    *,
    accounts: int = 50,
    seed: int = 1,
    as_of: datetime,
    usage_days: int = USAGE_DAYS,
) -> SeedSummary:
    """Fill an empty, migrated database with the demo data, in one transaction.

    `as_of` (taken to 00:00 UTC) is "now" for the data: live subscriptions' periods
    contain it and the `usage_days` (90) days of usage events end at it.
    """
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    when = midnight(as_utc(as_of))
    async with conn.transaction():
        if not await is_empty(conn):
            raise RuntimeError("the database already holds accounts; seed only fills an empty one")
        data = build_seed_data(accounts=accounts, seed=seed, as_of=when, usage_days=usage_days)
        await _write(conn, data, when, since=when - timedelta(days=usage_days))
        hourly = int(await conn.fetchval(COUNT_HOURLY))
    counts = {table: len(rows) for table, rows in data.rows.items()}
    counts["usage_hourly"] = hourly
    return SeedSummary(data.account_ids, data.partner_ids, counts)


async def _write(conn: asyncpg.Connection, data: SeedData, when: datetime, since: datetime) -> None:
    """Usage partitions for the event window and ahead (the engine's rule), then every table."""
    await engine.ensure_partitions(conn, when, since=since)
    for table, columns in COLUMNS.items():
        if data.rows[table]:
            await conn.copy_records_to_table(table, records=data.rows[table], columns=columns)
