"""The demo data set: every part of the graph is filled, and the numbers obey docs/money.md."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

import asyncpg
import pytest
from conftest import SEED_AS_OF
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import migrate
from gateway.seed import build_catalog, build_seed_data, make_id, seed, usage_lines
from resolvers.money import round_money
from resolvers.periods import period_containing

TABLES: Final = (
    *("partners", "accounts", "meters", "plans", "usage_prices", "usage_price_tiers"),
    *("features", "plan_entitlements", "subscriptions", "subscription_items", "invoices"),
    *("invoice_lines", "entitlement_grants", "usage_event_keys", "usage_events", "usage_hourly"),
)
INVOICE_IDENTITIES: Final = """
SELECT i.number
  FROM invoices i
 WHERE i.subtotal <> (SELECT coalesce(sum(l.amount), 0) FROM invoice_lines l
                       WHERE l.invoice_id = i.id)
    OR i.total <> i.subtotal + i.tax
    OR i.amount_paid < 0 OR i.amount_paid > i.total
    OR (i.status = 'PAID') <> (i.paid_at IS NOT NULL)
    OR (i.status = 'PAID' AND i.amount_paid <> i.total)
    OR (i.status = 'DRAFT') <> (i.issued_at IS NULL)
    OR (i.status IN ('DRAFT', 'VOID') AND i.amount_paid <> 0)
"""
INVOICES_WITH_RATES: Final = """
SELECT i.number, i.currency, i.subtotal, i.tax, a.tax_rate
  FROM invoices i JOIN accounts a ON a.id = i.account_id
"""
LINES: Final = "SELECT id, currency, quantity, unit_amount, amount FROM invoice_lines"
ROLLUP_MINUS_RAW: Final = """
SELECT count(*) FROM (
    SELECT account_id, meter_id, hour, quantity_sum, quantity_max, event_count FROM usage_hourly
    EXCEPT
    SELECT account_id, meter_id, date_trunc('hour', occurred_at, 'UTC'),
           sum(quantity), max(quantity), count(*)
      FROM usage_events GROUP BY 1, 2, 3
) AS d
"""
RAW_MINUS_ROLLUP: Final = """
SELECT count(*) FROM (
    SELECT account_id, meter_id, date_trunc('hour', occurred_at, 'UTC'),
           sum(quantity), max(quantity), count(*)
      FROM usage_events GROUP BY 1, 2, 3
    EXCEPT
    SELECT account_id, meter_id, hour, quantity_sum, quantity_max, event_count FROM usage_hourly
) AS d
"""
METERS_PER_ACCOUNT: Final = """
SELECT a.id, count(DISTINCT e.meter_id) AS meters
  FROM accounts a
  LEFT JOIN usage_events e
    ON e.account_id = a.id AND e.occurred_at >= $1 AND e.occurred_at < $2
 GROUP BY a.id
"""
CURRENT_PERIODS: Final = """
SELECT s.id, s.status, s.billing_anchor, s.current_period_start, s.current_period_end,
       p.interval
  FROM subscriptions s JOIN plans p ON p.id = s.plan_id
 WHERE s.status IN ('ACTIVE', 'PAST_DUE', 'PAUSED')
"""
DEMO_ACCOUNT: Final = "SELECT id FROM accounts ORDER BY created_at, id LIMIT 1"
DEMO_SUBSCRIPTION: Final = """
SELECT s.status, p.code, (SELECT count(*) FROM subscription_items i
                           WHERE i.subscription_id = s.id) AS addons
  FROM subscriptions s JOIN plans p ON p.id = s.plan_id
 WHERE s.account_id = $1
"""


@pytest.fixture
async def conn(seeded_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with seeded_pool.acquire() as connection:
        yield connection


# ------------------------------------------------------------------ the seeded database


@pytest.mark.parametrize("table", TABLES)
async def test_every_table_has_rows(conn: asyncpg.Connection, table: str) -> None:
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") > 0


async def test_subscriptions_and_invoices_come_in_every_status(conn: asyncpg.Connection) -> None:
    subscription = {r[0] for r in await conn.fetch("SELECT DISTINCT status FROM subscriptions")}
    invoice = {r[0] for r in await conn.fetch("SELECT DISTINCT status FROM invoices")}

    assert subscription == {"TRIALING", "ACTIVE", "PAST_DUE", "PAUSED", "CANCELED"}
    assert invoice == {"DRAFT", "OPEN", "PAID", "VOID", "UNCOLLECTIBLE"}


async def test_invoice_lines_of_every_kind_exist(conn: asyncpg.Connection) -> None:
    kinds = {r[0] for r in await conn.fetch("SELECT DISTINCT kind FROM invoice_lines")}

    assert kinds == {"SUBSCRIPTION", "USAGE", "PRORATION", "ADJUSTMENT"}


async def test_every_invoice_adds_up(conn: asyncpg.Connection) -> None:
    assert [r["number"] for r in await conn.fetch(INVOICE_IDENTITIES)] == []


async def test_every_line_is_rounded_once_half_even(conn: asyncpg.Connection) -> None:
    wrong = [
        r["id"]
        for r in await conn.fetch(LINES)
        if r["amount"] != round_money(r["quantity"] * r["unit_amount"], r["currency"].strip())
    ]

    assert wrong == []


async def test_every_tax_is_the_rounded_subtotal_times_the_rate(conn: asyncpg.Connection) -> None:
    wrong = [
        r["number"]
        for r in await conn.fetch(INVOICES_WITH_RATES)
        if r["tax"] != round_money(r["subtotal"] * r["tax_rate"], r["currency"].strip())
    ]

    assert wrong == []


async def test_the_hourly_rollup_equals_the_raw_events(conn: asyncpg.Connection) -> None:
    assert await conn.fetchval(ROLLUP_MINUS_RAW) == 0
    assert await conn.fetchval(RAW_MINUS_ROLLUP) == 0


async def test_every_account_has_90_days_of_usage_on_two_meters(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(METERS_PER_ACCOUNT, SEED_AS_OF - timedelta(days=90), SEED_AS_OF)

    assert len(rows) == 50
    assert [r["id"] for r in rows if r["meters"] < 2] == []


async def test_features_come_in_every_kind_and_quotas_count_a_meter(
    conn: asyncpg.Connection,
) -> None:
    rows = await conn.fetch("SELECT kind, meter_id FROM features")

    assert {r["kind"] for r in rows} == {"BOOLEAN", "LIMIT", "QUOTA"}
    assert all((r["kind"] == "QUOTA") == (r["meter_id"] is not None) for r in rows)


async def test_current_periods_are_anchored_on_the_start(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(CURRENT_PERIODS)

    assert rows
    for r in rows:
        expected = period_containing(r["billing_anchor"], r["interval"], SEED_AS_OF)
        assert (r["current_period_start"], r["current_period_end"]) == expected, r["id"]


async def test_the_demo_account_is_a_rich_one(conn: asyncpg.Connection) -> None:
    account = await conn.fetchval(DEMO_ACCOUNT)
    subscriptions = await conn.fetch(DEMO_SUBSCRIPTION, account)
    statuses = {
        r[0] for r in await conn.fetch("SELECT status FROM invoices WHERE account_id = $1", account)
    }
    meters = await conn.fetchval(
        "SELECT count(DISTINCT meter_id) FROM usage_hourly WHERE account_id = $1", account
    )
    grants = await conn.fetchval(
        "SELECT count(*) FROM entitlement_grants WHERE account_id = $1", account
    )

    assert [tuple(r) for r in subscriptions] == [("ACTIVE", "pro_monthly_usd", 1)]
    assert {"OPEN", "PAID"} <= statuses
    assert meters == 3
    assert grants == 2


async def test_seeding_a_database_that_has_accounts_is_refused(conn: asyncpg.Connection) -> None:
    before = await conn.fetchval("SELECT count(*) FROM accounts")

    with pytest.raises(RuntimeError, match="already holds accounts"):
        await seed(conn, accounts=1, as_of=SEED_AS_OF)

    assert await conn.fetchval("SELECT count(*) FROM accounts") == before


async def test_seed_fills_a_fresh_database_and_makes_its_partitions(fresh_database: str) -> None:
    await migrate.migrate(fresh_database)
    connection = await asyncpg.connect(fresh_database)
    try:
        summary = await seed(connection, accounts=2, seed=7, as_of=SEED_AS_OF)
        counts = {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}")
            for table in summary.counts
        }
        default_rows = await connection.fetchval("SELECT count(*) FROM usage_events_default")
    finally:
        await connection.close()

    assert counts == summary.counts
    assert len(summary.account_ids) == 2
    assert default_rows == 0  # the seed made the monthly partitions it needed


# ------------------------------------------------------------------ pure helpers


@given(st.integers(min_value=0, max_value=2**64), st.sampled_from(["acct", "inv", "il", "up"]))
def test_make_id_is_a_prefixed_opaque_id_fixed_by_the_rng_state(state: int, prefix: str) -> None:
    first = make_id(random.Random(state), prefix)
    again = make_id(random.Random(state), prefix)

    assert first == again
    assert first.startswith(f"{prefix}_")
    opaque = first.removeprefix(f"{prefix}_")
    assert len(opaque) == 20
    assert set(opaque) <= set("abcdefghijklmnopqrstuvwxyz234567")


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=0, max_value=10**6))
def test_the_data_set_is_a_function_of_its_inputs(seed_value: int) -> None:
    as_of = datetime(2026, 3, 31, 5, tzinfo=UTC)

    first = build_seed_data(accounts=3, seed=seed_value, as_of=as_of)
    again = build_seed_data(accounts=3, seed=seed_value, as_of=as_of)

    assert first.rows == again.rows
    assert first.account_ids == again.account_ids


def test_an_account_does_not_depend_on_how_many_follow_it() -> None:
    few = build_seed_data(accounts=2, seed=3, as_of=SEED_AS_OF)
    many = build_seed_data(accounts=6, seed=3, as_of=SEED_AS_OF)

    assert many.account_ids[:2] == few.account_ids
    assert many.rows["accounts"][:2] == few.rows["accounts"]


def test_the_catalog_prices_requests_like_domain_md() -> None:
    pro = build_catalog(seed=1).plan("pro_monthly", "USD")
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)

    lines = usage_lines(pro, {"requests": Decimal(73_456_789)}, start, end)

    assert [(ln.quantity, ln.amount) for ln in lines] == [
        (Decimal(40_000_000), Decimal("12.00")),
        (Decimal(23_456_789), Decimal("4.69")),
    ]
