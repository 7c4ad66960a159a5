"""Writes of the mutations: subscription changes, usage events, grants. Each runs on the
mutation's connection inside its transaction; every statement that names an account
or subscription from the input carries the request's reach, so an object out of reach
is not there at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

import asyncpg

from loaders.billing import Conn
from loaders.reach import in_reach
from loaders.subscriptions import LIVE, SUBSCRIPTION_COLUMNS

Row = asyncpg.Record

# --- subscriptions ---------------------------------------------------------------

SET_PLAN: Final = f"""
UPDATE subscriptions s SET plan_id = $2, version = s.version + 1
 WHERE s.id = $1 RETURNING {SUBSCRIPTION_COLUMNS}"""
SCHEDULE_CANCEL: Final = f"""
UPDATE subscriptions s SET cancel_at_period_end = true, canceled_at = $2, version = s.version + 1
 WHERE s.id = $1 RETURNING {SUBSCRIPTION_COLUMNS}"""
RESUME: Final = f"""
UPDATE subscriptions s SET cancel_at_period_end = false, canceled_at = NULL,
       version = s.version + 1
 WHERE s.id = $1 RETURNING {SUBSCRIPTION_COLUMNS}"""
CANCEL_NOW: Final = f"""
UPDATE subscriptions s SET status = 'CANCELED', canceled_at = $2, cancel_at_period_end = false,
       version = s.version + 1
 WHERE s.id = $1 RETURNING {SUBSCRIPTION_COLUMNS}"""
ITEMS_HELD: Final = """
SELECT plan_id, quantity FROM subscription_items
 WHERE subscription_id = $1 AND created_at <= $2 ORDER BY created_at, id"""
USAGE_BY_METER: Final = """
SELECT meter_id, sum(quantity_sum) AS total, max(quantity_max) AS peak FROM usage_hourly
 WHERE account_id = $1 AND hour >= $2 AND hour < $3 GROUP BY meter_id"""

# --- accounts ----------------------------------------------------------------------

# The account in reach ($2), locked against a concurrent change of its tax rate.
ACCOUNT: Final = f"""
SELECT a.id, a.currency, a.tax_rate FROM accounts a
 WHERE a.id = $1 AND {in_reach("a.id", 2)}
   FOR SHARE OF a"""
# The account's live subscriptions, share-locked so the engine cannot close a period
# while usage for it is being recorded (it skips locked rows and comes back).
LIVE_OF_ACCOUNT: Final = f"""
SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s
 WHERE s.account_id = $1 AND s.status IN {LIVE}
 ORDER BY s.created_at, s.id
   FOR SHARE OF s"""

# --- usage ---------------------------------------------------------------------------

KNOWN_KEYS: Final = """
SELECT idempotency_key, meter_id, quantity, occurred_at FROM usage_event_keys
 WHERE account_id = $1 AND idempotency_key = ANY($2::text[])"""
# Keys first (the exactly-once record), then the events the keys admitted; the rollup
# trigger folds them into usage_hourly in the same statement.
INSERT_EVENTS: Final = """
WITH fresh AS (
  INSERT INTO usage_event_keys (account_id, idempotency_key, meter_id, quantity, occurred_at)
  SELECT $1, k, m, q, t FROM unnest($2::text[], $3::text[], $4::numeric[], $5::timestamptz[])
         AS e(k, m, q, t)
  ON CONFLICT DO NOTHING
  RETURNING idempotency_key, meter_id, quantity, occurred_at)
INSERT INTO usage_events (account_id, meter_id, quantity, occurred_at, idempotency_key,
                          recorded_at)
SELECT $1, meter_id, quantity, occurred_at, idempotency_key, $6 FROM fresh
RETURNING idempotency_key"""

# --- grants --------------------------------------------------------------------------

INSERT_GRANT: Final = """
INSERT INTO entitlement_grants (id, account_id, feature_id, enabled, limit_value, expires_at,
                                created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)"""


async def set_plan(conn: Conn, subscription_id: str, plan_id: str) -> Row:
    return await _one(conn, SET_PLAN, subscription_id, plan_id)


async def schedule_cancel(conn: Conn, subscription_id: str, at: datetime) -> Row:
    return await _one(conn, SCHEDULE_CANCEL, subscription_id, at)


async def resume(conn: Conn, subscription_id: str) -> Row:
    return await _one(conn, RESUME, subscription_id)


async def cancel_now(conn: Conn, subscription_id: str, at: datetime) -> Row:
    return await _one(conn, CANCEL_NOW, subscription_id, at)


async def _one(conn: Conn, sql: str, *args: object) -> Row:
    row = await conn.fetchrow(sql, *args)
    assert row is not None, "the caller holds the row's lock"
    return row


async def items_held(conn: Conn, subscription_id: str, at: datetime) -> list[tuple[str, int]]:
    rows = await conn.fetch(ITEMS_HELD, subscription_id, at)
    return [(r["plan_id"], r["quantity"]) for r in rows]


async def usage_by_meter(
    conn: Conn, account_id: str, start: datetime, end: datetime
) -> dict[str, tuple[Decimal, Decimal]]:
    """(sum, peak) of each meter's hours in [start, end)."""
    rows = await conn.fetch(USAGE_BY_METER, account_id, start, end)
    return {r["meter_id"]: (r["total"], r["peak"]) for r in rows}


async def account(conn: Conn, account_id: str, reach: list[str] | None) -> Row | None:
    return await conn.fetchrow(ACCOUNT, account_id, reach)


async def live_of_account(conn: Conn, account_id: str) -> list[Row]:
    return list(await conn.fetch(LIVE_OF_ACCOUNT, account_id))


async def known_keys(conn: Conn, account_id: str, keys: Sequence[str]) -> dict[str, Row]:
    return {r["idempotency_key"]: r for r in await conn.fetch(KNOWN_KEYS, account_id, keys)}


async def insert_events(
    conn: Conn,
    account_id: str,
    events: Sequence[tuple[str, str, Decimal, datetime]],
    recorded_at: datetime,
) -> set[str]:
    """Inserts (key, meter id, quantity, occurred at) events whose key is new; returns
    the keys inserted."""
    columns = [list(c) for c in zip(*events, strict=True)]
    rows = await conn.fetch(INSERT_EVENTS, account_id, *columns, recorded_at)
    return {r["idempotency_key"] for r in rows}


async def insert_grant(
    conn: Conn,
    grant_id: str,
    account_id: str,
    feature_id: str,
    enabled: bool,
    limit: Decimal | None,
    expires_at: datetime | None,
    at: datetime,
) -> None:
    await conn.execute(
        INSERT_GRANT, grant_id, account_id, feature_id, enabled, limit, expires_at, at
    )
