"""The billing engine's SQL: claiming due work with row locks, reading what a boundary
bills, and writing invoices, subscription state and grant expiries. Every function
runs on the caller's connection inside the caller's transaction; billing time is
always a parameter, never PostgreSQL's clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from loaders.reach import in_reach
from loaders.subscriptions import SUBSCRIPTION_COLUMNS

Row = asyncpg.Record
# A plain connection or one borrowed from a pool.
Conn = asyncpg.Connection | PoolConnectionProxy
# The earliest due boundary no other worker holds, in time order. A row lock held to
# commit makes a boundary one transaction's work; SKIP LOCKED lets workers share.
CLAIM_DUE: Final = f"""
SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s
 WHERE s.status IN ('TRIALING', 'ACTIVE', 'PAST_DUE') AND s.current_period_end <= $1
 ORDER BY s.current_period_end, s.id
 LIMIT 1
   FOR UPDATE OF s SKIP LOCKED"""

# One subscription in reach ($2; NULL for the engine), waiting for its lock: a mutation
# brings it current before changing it.
LOCK_ONE: Final = f"""
SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s
 WHERE s.id = $1 AND {in_reach("s.account_id", 2)}
   FOR UPDATE OF s"""

# What a boundary bills besides the catalog: the account's tax rate, the add-ons held
# at the boundary ($2), and the usage period's [$3, $4) use of every meter.
INPUTS: Final = """
SELECT a.tax_rate, i.plan_ids, i.quantities, u.meter_ids, u.sums, u.maxes
  FROM accounts a
 CROSS JOIN LATERAL (
       SELECT coalesce(array_agg(plan_id ORDER BY created_at, id), '{}') AS plan_ids,
              coalesce(array_agg(quantity ORDER BY created_at, id), '{}') AS quantities
         FROM subscription_items WHERE subscription_id = $5 AND created_at <= $2) i
 CROSS JOIN LATERAL (
       SELECT coalesce(array_agg(meter_id), '{}') AS meter_ids,
              coalesce(array_agg(s), '{}') AS sums, coalesce(array_agg(m), '{}') AS maxes
         FROM (SELECT meter_id, sum(quantity_sum) AS s, max(quantity_max) AS m
                 FROM usage_hourly
                WHERE account_id = $1 AND hour >= $3 AND hour < $4
                GROUP BY meter_id) g) u
 WHERE a.id = $1"""

ADVANCE: Final = """
UPDATE subscriptions
   SET status = $2, billing_anchor = $3, current_period_start = $4, current_period_end = $5,
       cancel_at_period_end = false, version = version + 1
 WHERE id = $1"""

# The invoice and its lines in one statement; the number is taken last in the
# transaction's writes, so the per-year counter's row lock is held briefly.
INSERT_INVOICE: Final = """
WITH inv AS (
  INSERT INTO invoices (id, account_id, subscription_id, number, status, currency, tax_rate,
                        period_start, period_end, issued_at, due_at, paid_at, subtotal, tax,
                        total, amount_paid, created_at, boundary_at)
  VALUES ($1, $2, $3, next_invoice_number($11), $4, $5, $6, $7, $8, $11, $12, $13,
          $9::numeric, $10::numeric, $9::numeric + $10::numeric,
          CASE WHEN $13::timestamptz IS NULL THEN 0 ELSE $9::numeric + $10::numeric END, $11, $14)
  RETURNING id, account_id, currency, number)
, lines AS (
  INSERT INTO invoice_lines (id, invoice_id, account_id, currency, position, kind, description,
                             quantity, unit_amount, amount, period_start, period_end, meter_id)
  SELECT l.id, inv.id, inv.account_id, inv.currency, l.position, l.kind, l.description,
         l.quantity, l.unit_amount, l.amount, l.period_start, l.period_end, l.meter_id
    FROM inv, unnest($15::text[], $16::text[], $17::text[], $18::numeric[], $19::numeric[],
                     $20::numeric[], $21::timestamptz[], $22::timestamptz[], $23::text[])
         WITH ORDINALITY AS l(id, kind, description, quantity, unit_amount, amount,
                              period_start, period_end, meter_id, position))
SELECT number FROM inv"""

APPEND_EVENT: Final = "SELECT append_event($1, $2, $3, $4, $5::jsonb, $6)"

# Usage partitions from $1 (or the earliest month holding events in the default
# partition) to $2: the only place partitions are made.
ENSURE_PARTITIONS: Final = "SELECT ensure_usage_partitions_ahead($1, $2)"

CLAIM_EXPIRED_GRANTS: Final = """
SELECT id, account_id, feature_id, expires_at FROM entitlement_grants
 WHERE expires_at <= $1 AND expiry_recorded_at IS NULL
 ORDER BY expires_at, id
 LIMIT $2
   FOR UPDATE SKIP LOCKED"""

RECORD_EXPIRY: Final = (
    "UPDATE entitlement_grants SET expiry_recorded_at = $2 WHERE id = ANY($1::text[])"
)


@dataclass(frozen=True)
class BoundaryInputs:
    tax_rate: Decimal
    items: list[tuple[str, int]]  # (plan id, quantity) of each add-on held
    sums: dict[str, Decimal]  # by meter id
    maxes: dict[str, Decimal]


@dataclass(frozen=True)
class NewInvoice:
    id: str
    account_id: str
    subscription_id: str
    status: str
    currency: str
    tax_rate: Decimal
    period: tuple[datetime, datetime]
    subtotal: Decimal
    tax: Decimal
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None
    boundary_at: datetime | None


async def claim_due(conn: Conn, now: datetime) -> Row | None:
    return await conn.fetchrow(CLAIM_DUE, now)


async def lock_one(conn: Conn, subscription_id: str, reach: list[str] | None = None) -> Row | None:
    return await conn.fetchrow(LOCK_ONE, subscription_id, reach)


async def inputs(
    conn: Conn,
    sub: Row,
    items_at: datetime,
    usage_period: tuple[datetime, datetime],
) -> BoundaryInputs:
    r = await conn.fetchrow(INPUTS, sub["account_id"], items_at, *usage_period, sub["id"])
    assert r is not None, "a subscription's account exists (foreign key)"
    return BoundaryInputs(
        tax_rate=r["tax_rate"],
        items=list(zip(r["plan_ids"], r["quantities"], strict=True)),
        sums=dict(zip(r["meter_ids"], r["sums"], strict=True)),
        maxes=dict(zip(r["meter_ids"], r["maxes"], strict=True)),
    )


async def advance(
    conn: Conn,
    subscription_id: str,
    status: str,
    anchor: datetime,
    period: tuple[datetime, datetime],
) -> None:
    await conn.execute(ADVANCE, subscription_id, status, anchor, *period)


async def insert_invoice(conn: Conn, inv: NewInvoice, lines: Sequence[Sequence[Any]]) -> str:
    """Writes the invoice and its lines (rows of id, kind, description, quantity,
    unit amount, amount, period start, period end, meter id); returns its number."""
    columns = [list(c) for c in zip(*lines, strict=True)] if lines else [[]] * 9
    number = await conn.fetchval(
        INSERT_INVOICE,
        *(inv.id, inv.account_id, inv.subscription_id, inv.status, inv.currency, inv.tax_rate),
        *(*inv.period, inv.subtotal, inv.tax, inv.issued_at, inv.due_at, inv.paid_at),
        inv.boundary_at,
        *columns,
    )
    return str(number)


async def append_event(
    conn: Conn,
    account_id: str,
    event_type: str,
    actor: str,
    object_id: str,
    payload: str,
    at: datetime,
) -> int:
    """Appends to the account's outbox; returns the event's per-account sequence number."""
    return int(
        await conn.fetchval(APPEND_EVENT, account_id, event_type, actor, object_id, payload, at)
    )


async def ensure_partitions(conn: Conn, start: datetime, end: datetime) -> int:
    return int(await conn.fetchval(ENSURE_PARTITIONS, start, end))


async def claim_expired_grants(conn: Conn, now: datetime, limit: int) -> list[Row]:
    return list(await conn.fetch(CLAIM_EXPIRED_GRANTS, now, limit))


async def record_expiries(conn: Conn, grant_ids: list[str], at: datetime) -> None:
    await conn.execute(RECORD_EXPIRY, grant_ids, at)
