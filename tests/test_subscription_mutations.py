"""Subscription mutations: cancel, resume, change plan — exact proration, binding quotes,
all-or-nothing writes with one outbox event each, idempotent retries, serialized races."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import asyncpg
import builders
import pytest
from conftest import Gql, make_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.scopes import ALL_SCOPES
from gateway.clock import FixedClock
from resolvers.periods import add_months, iso

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)

PAYLOAD = """
  userErrors { field message code }
  subscription { id status plan { code } cancelAtPeriodEnd canceledAt currentPeriodEnd }
  invoice { number status periodStart periodEnd subtotal { amount } tax { amount }
            total { amount currency }
            lines { nodes { kind description quantity unitAmount { amount } amount { amount }
                            periodStart periodEnd } } }"""
CHANGE = f"""
mutation($input: ChangeSubscriptionPlanInput!) {{ changeSubscriptionPlan(input: $input) {{ {PAYLOAD} }} }}"""
CANCEL = f"""
mutation($input: CancelSubscriptionInput!) {{ cancelSubscription(input: $input) {{ {PAYLOAD} }} }}"""
RESUME = f"""
mutation($input: ResumeSubscriptionInput!) {{ resumeSubscription(input: $input) {{ {PAYLOAD} }} }}"""
PREVIEW = """
query($sub: ID!, $plan: ID!) { node(id: $sub) { ... on Subscription { previewPlanChange(planId: $plan) {
  quoteId expiresAt subtotal { amount } tax { amount } total { amount }
  lines { id kind description quantity unitAmount { amount } amount { amount } periodStart periodEnd } } } } }"""

# What a mutation left: invoices, events and the subscription row, to compare before/after.
STATE = """
SELECT (SELECT count(*) FROM invoices WHERE account_id = $1) AS invoices,
       (SELECT count(*) FROM outbox_events WHERE account_id = $1) AS events,
       (SELECT row(plan_id, status, cancel_at_period_end, canceled_at, version)::text
          FROM subscriptions WHERE id = $2) AS subscription"""


async def pro_subscription(
    pool: asyncpg.Pool, *, start: datetime = NOV_1, **kwargs: Any
) -> tuple[str, str]:
    return await builders.subscribed(pool, start=start, **kwargs)


async def plan_id(pool: asyncpg.Pool, code: str) -> str:
    return str(await pool.fetchval("SELECT id FROM plans WHERE code = $1", code))


async def state(pool: asyncpg.Pool, account: str, sub: str) -> tuple[Any, ...]:
    row = await pool.fetchrow(STATE, account, sub)
    assert row is not None
    return tuple(row)


def result(response: Any, name: str) -> dict[str, Any]:
    body = response.json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"][name]
    return payload


def amounts(invoice: dict[str, Any]) -> list[str]:
    return [ln["amount"]["amount"] for ln in invoice["lines"]["nodes"]]


# --- proration: DOMAIN's examples ------------------------------------------------


@pytest.mark.parametrize(
    ("when", "credit", "charge", "net"),
    [
        (datetime(2026, 11, 16, tzinfo=UTC), "-10.00", "100.00", "90.00"),
        (datetime(2026, 11, 10, 7, 31, 12, tzinfo=UTC), "-13.79", "137.91", "124.12"),
    ],
)
async def test_a_plan_change_bills_domain_proration(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock,
    when: datetime, credit: str, charge: str, net: str,
) -> None:  # fmt: skip
    # given Pro at 20.00 in the period 2026-11-01 → 2026-12-01
    account, sub = await pro_subscription(scratch_pool)
    business = await plan_id(scratch_pool, "business_monthly_usd")
    at.set(when)

    # when it moves to Business at `when`
    variables = {"input": {"id": sub, "planId": business}}
    payload = result(
        await scratch_gql(CHANGE, make_token("customer", [account]), variables),
        "changeSubscriptionPlan",
    )

    # then an invoice issued now bills the two PRORATION lines, each rounded once
    assert payload["userErrors"] == []
    assert payload["subscription"]["plan"]["code"] == "business_monthly_usd"
    invoice = payload["invoice"]
    assert amounts(invoice) == [credit, charge]
    assert [ln["kind"] for ln in invoice["lines"]["nodes"]] == ["PRORATION", "PRORATION"]
    assert invoice["total"] == {"amount": net, "currency": "USD"}
    assert (invoice["periodStart"], invoice["periodEnd"]) == (iso(when), iso(DEC_1))
    # and the next period bills the new plan in full
    upcoming = await scratch_gql(
        "query($id: ID!) { account(id: $id) { upcomingInvoice { lines { description amount { amount } } } } }",
        make_token("customer", [account]),
        {"id": account},
    )
    lines = upcoming.json()["data"]["account"]["upcomingInvoice"]["lines"]
    assert lines[0] == {"description": "Business (monthly) × 1", "amount": {"amount": "200.00"}}


# --- quotes -------------------------------------------------------------------------


async def test_a_change_with_a_quote_bills_exactly_the_preview(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    # given a preview of Pro → Business for an account taxed at 20 %, with a seat count of 1
    account, sub = await pro_subscription(scratch_pool, tax="0.2")
    business = await plan_id(scratch_pool, "business_monthly_usd")
    token = make_token("customer", [account])
    at.set(datetime(2026, 11, 10, 7, 31, 12, tzinfo=UTC))
    preview = (await scratch_gql(PREVIEW, token, {"sub": sub, "plan": business})).json()
    quote = preview["data"]["node"]["previewPlanChange"]

    # when the change is committed with its quote, a few minutes later
    at.set(datetime(2026, 11, 10, 7, 40, tzinfo=UTC))
    variables = {"input": {"id": sub, "planId": business, "quoteId": quote["quoteId"]}}
    payload = result(await scratch_gql(CHANGE, token, variables), "changeSubscriptionPlan")

    # then it bills the previewed lines and total, tax included, to the minor unit
    invoice = payload["invoice"]
    quoted = [{k: v for k, v in ln.items() if k != "id"} for ln in quote["lines"]]
    assert invoice["lines"]["nodes"] == quoted
    assert (invoice["subtotal"], invoice["tax"]) == (quote["subtotal"], quote["tax"])
    assert invoice["total"]["amount"] == quote["total"]["amount"] == "148.94"  # 124.12 + 24.82


async def test_two_previews_have_lines_of_their_own(gql: Gql, seeded_pool: asyncpg.Pool) -> None:
    sub, target = await seeded_pool.fetchrow(
        "SELECT s.id, t.id FROM subscriptions s JOIN plans p ON p.id = s.plan_id"
        " JOIN plans t ON t.kind = 'BASE' AND t.currency = p.currency AND t.interval = p.interval"
        " AND t.id <> p.id WHERE s.status = 'ACTIVE' AND NOT s.cancel_at_period_end LIMIT 1"
    )
    other = await seeded_pool.fetchval(
        "SELECT t.id FROM plans t, plans p WHERE p.id = (SELECT plan_id FROM subscriptions WHERE id = $1)"
        " AND t.kind = 'BASE' AND t.currency = p.currency AND t.interval = p.interval AND t.id NOT IN ($2, p.id)",
        sub, target,
    )  # fmt: skip
    query = """query($sub: ID!, $a: ID!, $b: ID!) { node(id: $sub) { ... on Subscription {
      a: previewPlanChange(planId: $a) { quoteId lines { id } }
      b: previewPlanChange(planId: $b) { quoteId lines { id } } } } }"""

    body = (await gql(query, make_token("admin"), {"sub": sub, "a": target, "b": other})).json()

    a, b = body["data"]["node"]["a"], body["data"]["node"]["b"]
    ids = [ln["id"] for ln in a["lines"] + b["lines"]]
    assert len(set(ids)) == 4
    assert a["quoteId"] != b["quoteId"]


@pytest.mark.parametrize("case", ["expired", "another caller", "stale", "forged"])
async def test_a_quote_that_does_not_hold_is_refused_and_writes_nothing(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, case: str
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    business = await plan_id(scratch_pool, "business_monthly_usd")
    free = await plan_id(scratch_pool, "free_monthly_usd")
    token = make_token("customer", [account])
    at.set(datetime(2026, 11, 12, tzinfo=UTC))
    quoter = make_token("admin") if case == "another caller" else token
    quote = (await scratch_gql(PREVIEW, quoter, {"sub": sub, "plan": business})).json()
    quote_id = quote["data"]["node"]["previewPlanChange"]["quoteId"]
    if case == "expired":
        at.advance(timedelta(minutes=16))
    if case == "stale":  # the subscription changes after the quote: Pro → Free
        change = {"input": {"id": sub, "planId": free}}
        assert (
            result(await scratch_gql(CHANGE, token, change), "changeSubscriptionPlan")["userErrors"]
            == []
        )
    if case == "forged":
        quote_id = quote_id[:-6] + ("AAAAAA" if not quote_id.endswith("AAAAAA") else "BBBBBB")
    before = await state(scratch_pool, account, sub)

    variables = {"input": {"id": sub, "planId": business, "quoteId": quote_id}}
    body = (await scratch_gql(CHANGE, token, variables)).json()

    payload = body["data"]["changeSubscriptionPlan"]
    expected_code = "CONFLICT" if case == "stale" else "BAD_USER_INPUT"
    assert [e["code"] for e in payload["userErrors"]] == [expected_code]
    assert payload["invoice"] is None
    assert await state(scratch_pool, account, sub) == before


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("pro_monthly_eur", "bills in EUR"),
        ("pro_monthly_usd", "already on that plan"),
        ("addon_extra_rules_usd", "not an active base plan"),
        ("inactive", "not an active base plan"),
        ("pro_yearly_usd", "same interval"),
    ],
)
async def test_a_plan_it_cannot_move_to_is_a_user_error(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, target: str, message: str
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    at.set(datetime(2026, 11, 12, tzinfo=UTC))
    if target == "inactive":
        target_id = builders.new_id("plan")
        await scratch_pool.execute(
            "INSERT INTO plans (id, code, name, kind, interval, currency, amount, active)"
            " VALUES ($1, $2, 'Legacy', 'BASE', 'MONTH', 'USD', 15, false)",
            target_id, f"legacy_{target_id[-8:]}",
        )  # fmt: skip
    else:
        target_id = await plan_id(scratch_pool, target)
    before = await state(scratch_pool, account, sub)

    variables = {"input": {"id": sub, "planId": target_id}}
    payload = result(
        await scratch_gql(CHANGE, make_token("customer", [account]), variables),
        "changeSubscriptionPlan",
    )

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["planId"], "BAD_USER_INPUT")
    ]
    assert message in payload["userErrors"][0]["message"]
    assert payload["subscription"] is None
    assert await state(scratch_pool, account, sub) == before


async def test_resume_without_a_pending_cancel_is_a_user_error(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    at.set(datetime(2026, 11, 12, tzinfo=UTC))
    before = await state(scratch_pool, account, sub)

    payload = result(
        await scratch_gql(RESUME, make_token("customer", [account]), {"input": {"id": sub}}),
        "resumeSubscription",
    )

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["id"], "BAD_USER_INPUT")]
    assert await state(scratch_pool, account, sub) == before


@pytest.mark.parametrize("whose", ["another tenant's", "missing", "NUL"])
async def test_a_subscription_out_of_reach_is_not_found_like_a_missing_one(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, whose: str
) -> None:
    mine, _ = await pro_subscription(scratch_pool)
    other, theirs = await pro_subscription(scratch_pool)
    at.set(datetime(2026, 11, 12, tzinfo=UTC))
    target = {"another tenant's": theirs, "missing": "sub_doesnotexist0000", "NUL": "sub_\x00x"}[
        whose
    ]
    before = await state(scratch_pool, other, theirs)

    response = await scratch_gql(CANCEL, make_token("customer", [mine]), {"input": {"id": target}})

    body = response.json()
    assert body["data"]["cancelSubscription"]["subscription"] is None
    assert body["data"]["cancelSubscription"]["userErrors"] == [
        {"field": [], "message": "Not found.", "code": "NOT_FOUND"}
    ]
    assert [(e["path"], e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
        (["cancelSubscription", "subscription"], "NOT_FOUND", "Not found.")
    ]
    assert await state(scratch_pool, other, theirs) == before


async def test_without_the_write_scope_it_is_forbidden_and_writes_nothing(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    at.set(datetime(2026, 11, 12, tzinfo=UTC))
    reader = make_token("customer", [account], scopes=sorted(ALL_SCOPES - {"subscriptions:write"}))
    before = await state(scratch_pool, account, sub)

    body = (await scratch_gql(CANCEL, reader, {"input": {"id": sub}})).json()

    assert body["data"]["cancelSubscription"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["cancelSubscription", "subscription"], "FORBIDDEN")
    ]
    assert await state(scratch_pool, account, sub) == before


# --- cancel and resume ----------------------------------------------------------------


async def test_cancel_at_period_end_then_resume(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    token = make_token("customer", [account])
    at.set(datetime(2026, 11, 12, 9, tzinfo=UTC))

    canceled = result(
        await scratch_gql(CANCEL, token, {"input": {"id": sub}}), "cancelSubscription"
    )
    resumed = result(await scratch_gql(RESUME, token, {"input": {"id": sub}}), "resumeSubscription")

    assert canceled["subscription"] | {"plan": None} == {
        "id": sub, "status": "ACTIVE", "plan": None, "cancelAtPeriodEnd": True,
        "canceledAt": "2026-11-12T09:00:00Z", "currentPeriodEnd": iso(DEC_1),
    }  # fmt: skip
    assert canceled["invoice"] is None
    assert (
        resumed["subscription"]["cancelAtPeriodEnd"],
        resumed["subscription"]["canceledAt"],
    ) == (False, None)
    events = await scratch_pool.fetch(
        "SELECT type, actor FROM outbox_events WHERE account_id = $1 ORDER BY seq", account
    )
    assert [tuple(e) for e in events] == [
        ("subscription.cancel_scheduled", "dev:customer"),
        ("subscription.resumed", "dev:customer"),
    ]


async def test_a_pending_cancel_ends_the_subscription_at_its_boundary(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    token = make_token("customer", [account])
    at.set(datetime(2026, 11, 12, tzinfo=UTC))
    result(await scratch_gql(CANCEL, token, {"input": {"id": sub}}), "cancelSubscription")

    # a month later the subscription reads CANCELED, and resuming is too late
    at.set(datetime(2026, 12, 2, tzinfo=UTC))
    late = result(await scratch_gql(RESUME, token, {"input": {"id": sub}}), "resumeSubscription")

    assert late["userErrors"][0]["code"] == "BAD_USER_INPUT"
    status = await scratch_gql(
        "query($id: ID!) { node(id: $id) { ... on Subscription { status } } }", token, {"id": sub}
    )
    assert status.json()["data"]["node"] == {"status": "CANCELED"}


async def test_cancel_now_bills_usage_so_far_and_credits_unused_time(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    # given Pro (20.00) with Extra rules (5.00), 60,000,000 requests so far this period
    account, sub = await pro_subscription(scratch_pool, addons=("addon_extra_rules",))
    async with scratch_pool.acquire() as conn:
        await builders.usage(
            conn, account, "requests", [("60000000", datetime(2026, 11, 5, tzinfo=UTC))]
        )
    at.set(datetime(2026, 11, 16, tzinfo=UTC))  # half the period left

    variables = {"input": {"id": sub, "atPeriodEnd": False, "prorate": True}}
    payload = result(
        await scratch_gql(CANCEL, make_token("customer", [account]), variables),
        "cancelSubscription",
    )

    assert payload["subscription"]["status"] == "CANCELED"
    assert payload["subscription"]["canceledAt"] == "2026-11-16T00:00:00Z"
    # 50,000,000 beyond the 10,000,000 included: 40M at 0.0000003 + 10M at 0.0000002
    assert amounts(payload["invoice"]) == ["12.00", "2.00", "-10.00", "-2.50"]
    assert payload["invoice"]["total"]["amount"] == "1.50"
    events = await scratch_pool.fetch(
        "SELECT type FROM outbox_events WHERE account_id = $1", account
    )
    assert [e["type"] for e in events] == ["subscription.canceled"]


# --- idempotency and races -------------------------------------------------------------


async def test_a_retry_with_the_same_key_answers_the_first_result_and_writes_nothing(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    business = await plan_id(scratch_pool, "business_monthly_usd")
    token = make_token("customer", [account])
    at.set(datetime(2026, 11, 16, tzinfo=UTC))
    variables = {"input": {"id": sub, "planId": business, "idempotencyKey": "change-1"}}
    first = result(await scratch_gql(CHANGE, token, variables), "changeSubscriptionPlan")
    after_first = await state(scratch_pool, account, sub)

    again = result(await scratch_gql(CHANGE, token, variables), "changeSubscriptionPlan")
    other = {
        "input": {
            "id": sub,
            "planId": await plan_id(scratch_pool, "free_monthly_usd"),
            "idempotencyKey": "change-1",
        }
    }
    reused = result(await scratch_gql(CHANGE, token, other), "changeSubscriptionPlan")

    assert again == first
    assert [(e["field"], e["code"]) for e in reused["userErrors"]] == [
        (["idempotencyKey"], "BAD_USER_INPUT")
    ]
    assert await state(scratch_pool, account, sub) == after_first


async def test_eight_concurrent_replays_of_one_change_bill_one_proration(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    business = await plan_id(scratch_pool, "business_monthly_usd")
    token = make_token("customer", [account])
    at.set(datetime(2026, 11, 16, tzinfo=UTC))
    variables = {"input": {"id": sub, "planId": business, "idempotencyKey": "race"}}

    bodies = [
        r.json()
        for r in await asyncio.gather(*(scratch_gql(CHANGE, token, variables) for _ in range(8)))
    ]

    answered = [b["data"]["changeSubscriptionPlan"] for b in bodies]
    numbers = {a["invoice"]["number"] for a in answered if a["invoice"]}
    conflicts = [
        a for a in answered if a["userErrors"] and a["userErrors"][0]["code"] == "CONFLICT"
    ]
    assert len(numbers) == 1  # every answer that has an invoice names the same one
    assert len(conflicts) + sum(1 for a in answered if a["invoice"]) == 8
    invoices = await scratch_pool.fetchval(
        "SELECT count(*) FROM invoices WHERE account_id = $1", account
    )
    assert invoices == 1


async def test_eight_concurrent_changes_serialize_with_one_proration_each(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    account, sub = await pro_subscription(scratch_pool)
    codes = ["business_monthly_usd", "free_monthly_usd", "pro_monthly_usd"]
    ids = {code: await plan_id(scratch_pool, code) for code in codes}
    token = make_token("customer", [account])
    at.set(datetime(2026, 11, 16, tzinfo=UTC))
    targets = [codes[n % 3] for n in range(8)]

    bodies = await asyncio.gather(
        *(scratch_gql(CHANGE, token, {"input": {"id": sub, "planId": ids[t]}}) for t in targets)
    )

    applied = [b.json()["data"]["changeSubscriptionPlan"] for b in bodies]
    done = [a for a in applied if not a["userErrors"]]
    assert all(
        a["userErrors"][0]["message"].endswith("already on that plan.")
        for a in applied
        if a["userErrors"]
    )
    invoices = await scratch_pool.fetch(
        "SELECT i.total, array_agg(l.description ORDER BY l.position) AS lines FROM invoices i"
        " JOIN invoice_lines l ON l.invoice_id = i.id WHERE i.account_id = $1"
        " GROUP BY i.id, i.created_at, i.number ORDER BY i.number", account,
    )  # fmt: skip
    events = await scratch_pool.fetch(
        "SELECT payload FROM outbox_events WHERE account_id = $1 ORDER BY seq", account
    )
    assert len(invoices) == len(done) == len(events) >= 2
    # each change prorated from the plan the previous one left: the chain is unbroken
    chain = [json.loads(e["payload"]) for e in events]
    assert chain[0]["fromPlan"] == await plan_id(scratch_pool, "pro_monthly_usd")
    assert all(b["fromPlan"] == a["toPlan"] for a, b in itertools.pairwise(chain))
    final = await scratch_pool.fetchval("SELECT plan_id FROM subscriptions WHERE id = $1", sub)
    assert final == chain[-1]["toPlan"]


async def test_a_change_after_an_unprocessed_boundary_bills_that_boundary_once(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock
) -> None:
    # given a subscription whose stored period ended a month ago (the engine has not run)
    account, sub = await pro_subscription(scratch_pool, start=datetime(2026, 9, 1, tzinfo=UTC))
    business = await plan_id(scratch_pool, "business_monthly_usd")
    at.set(datetime(2026, 11, 16, tzinfo=UTC))

    variables = {"input": {"id": sub, "planId": business}}
    payload = result(
        await scratch_gql(CHANGE, make_token("customer", [account]), variables),
        "changeSubscriptionPlan",
    )

    # then the change first issued the two boundaries that fell due, then its proration
    rows = await scratch_pool.fetch(
        "SELECT boundary_at, period_start, period_end FROM invoices WHERE account_id = $1 ORDER BY created_at",
        account,
    )
    assert [r["boundary_at"] for r in rows] == [datetime(2026, 10, 1, tzinfo=UTC), NOV_1, None]
    assert amounts(payload["invoice"]) == ["-10.00", "100.00"]


# --- property: any period, any instant, any prices ---------------------------------------

MONTH_ENDS = st.sampled_from([28, 29, 30, 31])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    year=st.sampled_from([2024, 2025, 2026, 2028]),
    month=st.integers(1, 12),
    day=st.one_of(MONTH_ENDS, st.integers(1, 27)),
    seats=st.integers(1, 5),
    into=st.fractions(Fraction(0), Fraction(99, 100)),
    target=st.sampled_from(["business_monthly", "free_monthly"]),
)
async def test_proration_through_the_api_is_the_exact_rational_rounded_once(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock,
    year: int, month: int, day: int, seats: int, into: Fraction, target: str,
) -> None:  # fmt: skip
    import calendar

    start = datetime(year, month, min(day, calendar.monthrange(year, month)[1]), tzinfo=UTC)
    end = add_months(start, 1)
    async with scratch_pool.acquire() as conn:
        account = await builders.account(conn)
        sub = await builders.subscription(
            conn, account, "pro_monthly_usd", start=start, end=end, quantity=seats
        )
    length = int((end - start).total_seconds())
    when = start + timedelta(seconds=int(length * into))
    at.set(when)

    variables = {"input": {"id": sub, "planId": await plan_id(scratch_pool, f"{target}_usd")}}
    payload = result(
        await scratch_gql(CHANGE, make_token("customer", [account]), variables),
        "changeSubscriptionPlan",
    )

    left = Fraction(int((end - when).total_seconds()), length)
    new_price = {"business_monthly": 200, "free_monthly": 0}[target]
    expected = [-Fraction(20 * seats) * left, Fraction(new_price * seats) * left]
    assert [Decimal(a) for a in amounts(payload["invoice"])] == [_cents(x) for x in expected]


def _cents(value: Fraction) -> Decimal:
    """Half-even to the cent, from the exact rational."""
    from resolvers.money import round_rational

    return round_rational(value, "USD")
