"""Builders that insert rows straight into PostgreSQL for tests that need data of
their own; ids are fresh per call, so tests never collide with the seed or each other."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg

from resolvers.periods import add_months


def new_id(prefix: str) -> str:
    return f"{prefix}_t{secrets.token_hex(8)}"


async def account(
    conn: asyncpg.Connection,
    *,
    currency: str = "USD",
    tax_rate: str = "0",
    partner: str | None = None,
) -> str:
    account_id = new_id("acct")
    await conn.execute(
        "INSERT INTO accounts (id, name, currency, tax_rate, partner_id, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        account_id, f"Test {account_id}", currency, Decimal(tax_rate), partner,
        datetime(2020, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    return account_id


async def plan_id(conn: asyncpg.Connection, code: str) -> str:
    return str(await conn.fetchval("SELECT id FROM plans WHERE code = $1", code))


async def subscription(
    conn: asyncpg.Connection, account_id: str, plan_code: str, *, start: datetime,
    end: datetime, status: str = "ACTIVE", quantity: int = 1, addons: Sequence[str] = (),
    cancel_at_period_end: bool = False,
) -> str:  # fmt: skip
    """A subscription whose stored period is [start, end) and anchor `start` (a trial's
    period is the trial: it ends at `end`)."""
    sub_id = new_id("sub")
    await conn.execute(
        "INSERT INTO subscriptions (id, account_id, currency, plan_id, status, quantity,"
        " billing_anchor, current_period_start, current_period_end, canceled_at, trial_end,"
        " created_at, cancel_at_period_end) SELECT $1, a.id, a.currency, $3, $4, $5, $6, $6, $7,"
        " $8, $9, $6, $10 FROM accounts a WHERE a.id = $2",
        sub_id, account_id, await plan_id(conn, plan_code), status, quantity, start, end,
        start if status == "CANCELED" or cancel_at_period_end else None,
        end if status == "TRIALING" else None, cancel_at_period_end,
    )  # fmt: skip
    for code in addons:
        await conn.execute(
            "INSERT INTO subscription_items (id, subscription_id, account_id, currency, plan_id,"
            " created_at) SELECT $1, $2, a.id, a.currency, $4, $5 FROM accounts a WHERE a.id = $3",
            new_id("si"), sub_id, account_id, await plan_id(conn, code), start,
        )  # fmt: skip
    return sub_id


async def grant(
    conn: asyncpg.Connection, account_id: str, feature_key: str, *, limit: str | None,
    expires_at: datetime | None, created_at: datetime, enabled: bool = True,
) -> str:  # fmt: skip
    grant_id = new_id("grt")
    await conn.execute(
        "INSERT INTO entitlement_grants (id, account_id, feature_id, enabled, limit_value,"
        " expires_at, created_at) SELECT $1, $2, f.id, $3, $4, $5, $6 FROM features f"
        " WHERE f.key = $7",
        grant_id, account_id, enabled, None if limit is None else Decimal(limit), expires_at,
        created_at, feature_key,
    )  # fmt: skip
    return grant_id


async def usage(
    conn: asyncpg.Connection, account_id: str, meter_key: str,
    events: Sequence[tuple[str, datetime]],
) -> None:  # fmt: skip
    """Inserts raw events; the rollup follows in the same statement (its trigger)."""
    meter_id = await conn.fetchval("SELECT id FROM meters WHERE key = $1", meter_key)
    rows = [(account_id, meter_id, Decimal(q), at, new_id("evt")) for q, at in events]
    async with conn.transaction():
        await conn.executemany(
            "INSERT INTO usage_event_keys (account_id, idempotency_key, meter_id, quantity,"
            " occurred_at) VALUES ($1, $5, $2, $3, $4)",
            rows,
        )
        await conn.execute(
            "INSERT INTO usage_events (account_id, meter_id, quantity, occurred_at,"
            " idempotency_key) SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[],"
            " $4::timestamptz[], $5::text[])",
            *[list(col) for col in zip(*rows, strict=True)],
        )


async def subscribed(
    pool: asyncpg.Pool, *, start: datetime, plan: str = "pro_monthly", currency: str = "USD",
    tax: str = "0", status: str = "ACTIVE", addons: Sequence[str] = (), quantity: int = 1,
) -> tuple[str, str]:  # fmt: skip
    """A new account with one monthly subscription stored in [start, start + 1 month)."""
    suffix = currency.lower()
    async with pool.acquire() as conn:
        account_id = await account(conn, currency=currency, tax_rate=tax)
        sub_id = await subscription(
            conn, account_id, f"{plan}_{suffix}", start=start, end=add_months(start, 1),
            status=status, quantity=quantity, addons=[f"{a}_{suffix}" for a in addons],
        )  # fmt: skip
    return account_id, sub_id
