"""Billing over time: reads are current at any instant before the engine has run, and
the upcoming invoice is, line by line, the invoice the engine issues next."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import builders
import httpx
import pytest
from conftest import Gql, make_token, serving
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.clock import FixedClock
from loaders.catalog import read_catalog
from resolvers import engine
from resolvers.periods import add_months, iso

LIVE_SUBSCRIPTIONS = """
{ accounts(first: 100) { nodes { id
    subscriptions(first: 20, status: [TRIALING, ACTIVE, PAST_DUE]) {
      nodes { id status currentPeriodStart currentPeriodEnd } }
    entitlements { feature { key kind } resetsAt } } } }"""

SUBSCRIPTION_NOW = """
query($account: ID!, $sub: ID!, $plan: ID!) {
  account(id: $account) { upcomingInvoice(subscriptionId: $sub) { issuedAt periodStart total { amount } } }
  node(id: $sub) { ... on Subscription { previewPlanChange(planId: $plan) {
    quoteId expiresAt total { amount } lines { kind periodStart periodEnd } } } } }"""

# A base plan of the same currency and interval the subscription could change to.
TARGETS = """
SELECT s.id, (SELECT t.id FROM plans t WHERE t.kind = 'BASE' AND t.active
                 AND t.currency = p.currency AND t.interval = p.interval AND t.id <> p.id
               ORDER BY t.amount DESC LIMIT 1) AS target
  FROM subscriptions s JOIN plans p ON p.id = s.plan_id"""


async def test_reads_are_current_at_any_instant_before_the_engine_runs(
    gql: Gql, seeded_pool: asyncpg.Pool, instant: datetime
) -> None:
    # given the seeded database, never touched by the engine, read `instant` after seeding
    admin = make_token("admin")
    body = (await gql(LIVE_SUBSCRIPTIONS, admin)).json()
    assert "errors" not in body, body["errors"]
    accounts = body["data"]["accounts"]["nodes"]
    targets = dict(await seeded_pool.fetch(TARGETS))
    live = [(a["id"], s) for a in accounts for s in a["subscriptions"]["nodes"]]
    assert len(live) >= 40

    for account, sub in live:
        # then its current period contains now …
        start, end = sub["currentPeriodStart"], sub["currentPeriodEnd"]
        assert start <= iso(instant) < end, sub
        # … the upcoming invoice is issued when that period ends, and a change is quoted
        variables = {"account": account, "sub": sub["id"], "plan": targets[sub["id"]]}
        now = (await gql(SUBSCRIPTION_NOW, admin, variables)).json()
        assert "errors" not in now, (sub, now["errors"])
        assert now["data"]["account"]["upcomingInvoice"]["issuedAt"] == end
        quote = now["data"]["node"]["previewPlanChange"]
        assert quote["quoteId"].startswith("quo_")
        assert [ln["periodEnd"] for ln in quote["lines"]] == [end, end]

    # and every quota resets in the future
    resets = [
        e["resetsAt"]
        for a in accounts
        for e in a["entitlements"]
        if e["feature"]["kind"] == "QUOTA"
    ]
    assert resets
    assert all(at > iso(instant) for at in resets)


# --- the upcoming invoice is the next invoice ------------------------------------------

UPCOMING = """
query($account: ID!, $sub: ID!) { account(id: $account) { upcomingInvoice(subscriptionId: $sub) {
  periodStart periodEnd issuedAt subtotal { amount } tax { amount } total { amount }
  lines { kind description quantity unitAmount { amount currency } amount { amount currency }
          periodStart periodEnd meter { key } } } } }"""

NEWEST_INVOICE = """
query($account: ID!) { account(id: $account) { invoices(first: 1) { nodes {
  periodStart periodEnd issuedAt subtotal { amount } tax { amount } total { amount }
  lines(first: 100) { nodes {
    kind description quantity unitAmount { amount currency } amount { amount currency }
    periodStart periodEnd meter { key } } } } } } }"""

PLANS = {
    "USD": ["free_monthly_usd", "pro_monthly_usd", "business_monthly_usd", "pro_yearly_usd"],
    "EUR": ["pro_monthly_eur", "business_monthly_eur", "business_yearly_eur"],
}
ADDONS = ["addon_extra_rules", "addon_priority_support"]
METERS = {"requests": 10**9, "bandwidth_gb": 10**4, "storage_gb": 10**3}


@pytest.fixture(scope="module")
async def engine_db(
    seeded_template: str, create_database: Callable[..., Awaitable[str]]
) -> AsyncIterator[tuple[asyncpg.Pool, httpx.AsyncClient, FixedClock]]:
    """A copy of the seeded database the engine may write to, served on its own clock."""
    dsn = await create_database(seeded_template)
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    async with serving(dsn, clock) as client:
        yield pool, client, clock
    await pool.close()


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(["USD", "EUR"]))
    plan = draw(st.sampled_from(PLANS[currency]))
    yearly = "yearly" in plan
    anchor = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 24 * 600)))
    status = draw(st.sampled_from(["ACTIVE", "PAST_DUE", "TRIALING"]))
    cancel = draw(st.booleans())
    # Periods the engine is behind by (none when a cancel is scheduled: it would be over).
    behind = 0 if cancel or status == "TRIALING" else draw(st.integers(0, 1 if yearly else 14))
    return {
        "currency": currency,
        "plan": plan,
        "interval": "YEAR" if yearly else "MONTH",
        "anchor": anchor,
        "status": status,
        "cancel": cancel,
        "behind": behind,
        "quantity": draw(st.integers(1, 5)),
        "addons": [f"{a}_{currency.lower()}" for a in draw(st.sets(st.sampled_from(ADDONS)))],
        "tax": draw(st.sampled_from(["0", "0.0725", "0.19", "0.2"])),
        "usage": draw(
            st.lists(
                st.tuples(
                    st.sampled_from(sorted(METERS)),
                    st.decimals(0, 10**9, places=3, allow_nan=False, allow_infinity=False),
                    st.floats(0, 1, exclude_max=True),
                ),
                max_size=6,
            )
        ),
        "read_at": draw(st.floats(0.05, 1, exclude_max=True)),
    }


async def _build(conn: asyncpg.Connection, s: dict[str, Any]) -> tuple[str, str, datetime]:
    """The scenario's account and subscription; returns them and the instant to read at."""
    account = await builders.account(conn, currency=s["currency"], tax_rate=s["tax"])
    step = 12 if s["interval"] == "YEAR" else 1
    if s["status"] == "TRIALING":
        start, end = s["anchor"] - timedelta(days=14), s["anchor"]
    else:
        start, end = s["anchor"], add_months(s["anchor"], step)
    sub = await builders.subscription(
        conn, account, s["plan"], start=start, end=end, status=s["status"],
        quantity=s["quantity"], addons=s["addons"], cancel_at_period_end=s["cancel"],
    )  # fmt: skip
    # the period the upcoming invoice closes: the stored one, or `behind` periods later
    anchor = end if s["status"] == "TRIALING" else s["anchor"]
    if s["behind"]:
        start, end = (add_months(anchor, k * step) for k in (s["behind"], s["behind"] + 1))
    # whole seconds, floored: a fraction below 1 always reads inside the period
    read_at = start + timedelta(seconds=int((end - start).total_seconds() * s["read_at"]))
    for meter, quantity, at in s["usage"]:
        await builders.usage(
            conn, account, meter, [(str(quantity), start + (read_at - start) * at)]
        )
    return account, sub, read_at


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scenario=scenarios())
async def test_the_upcoming_invoice_is_the_invoice_the_engine_issues(
    engine_db: tuple[asyncpg.Pool, httpx.AsyncClient, FixedClock], scenario: dict[str, Any]
) -> None:
    pool, client, clock = engine_db
    gql = Gql(client)
    async with pool.acquire() as conn:
        account, sub, read_at = await _build(conn, scenario)
    token = make_token("customer", [account])

    # given the upcoming invoice read just before its boundary
    clock.set(read_at)
    ask = {"account": account, "sub": sub}
    preview = (await gql(UPCOMING, token, ask)).json()["data"]["account"]["upcomingInvoice"]
    boundary = datetime.fromisoformat(preview["issuedAt"])

    # when the engine reaches that boundary
    async with pool.acquire() as conn, conn.transaction():
        catalog = await read_catalog(conn.fetchrow)
        await engine.catch_up(conn, catalog, sub, boundary)

    # then the invoice it issued there is the preview, line by line, tax and total included
    clock.set(boundary)
    issued = (await gql(NEWEST_INVOICE, token, {"account": account})).json()
    invoice = issued["data"]["account"]["invoices"]["nodes"][0]
    assert invoice["lines"]["nodes"] == preview["lines"]
    assert {k: v for k, v in invoice.items() if k != "lines"} == {
        k: v for k, v in preview.items() if k != "lines"
    }
    assert Decimal(invoice["total"]["amount"]) == Decimal(invoice["subtotal"]["amount"]) + Decimal(
        invoice["tax"]["amount"]
    )
