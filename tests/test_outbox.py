"""The outbox: every successful mutation appends exactly one event, in its own
transaction, with its actor; a failed one appends none. Consumers read an account's
events by `seq`, gapless and in commit order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import builders
import pytest
from conftest import Gql, make_token

from auth.scopes import ALL_SCOPES
from gateway.clock import FixedClock

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 16, tzinfo=UTC)

CANCEL = "mutation($id: ID!, $end: Boolean!) { cancelSubscription(input: {id: $id, atPeriodEnd: $end}) { userErrors { code } } }"
RESUME = "mutation($id: ID!) { resumeSubscription(input: {id: $id}) { userErrors { code } } }"
CHANGE = "mutation($id: ID!, $plan: ID!) { changeSubscriptionPlan(input: {id: $id, planId: $plan}) { userErrors { code } } }"
RECORD = """mutation($account: ID!, $q: Decimal!) { recordUsage(input: {accountId: $account, events: [
  {meter: "requests", quantity: $q, occurredAt: "2026-11-15T00:00:00Z", idempotencyKey: "e1"}]}) { userErrors { code } } }"""
GRANT = """mutation($account: ID!, $limit: Decimal) { grantEntitlement(input: {accountId: $account,
  feature: "waf.custom_rules", limit: $limit}) { userErrors { code } } }"""


@pytest.fixture(autouse=True)
def _now(at: FixedClock) -> None:
    at.set(NOW)


@pytest.fixture
async def subject(scratch_pool: asyncpg.Pool) -> dict[str, str]:
    account, sub = await builders.subscribed(scratch_pool, start=NOV_1)
    async with scratch_pool.acquire() as conn:
        business = await builders.plan_id(conn, "business_monthly_usd")
    return {"account": account, "sub": sub, "business": business}


async def events(pool: asyncpg.Pool, account: str) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT seq, type, actor, object_id FROM outbox_events WHERE account_id = $1 ORDER BY seq",
        account,
    )
    return [tuple(r) for r in rows]


async def test_each_successful_mutation_appends_exactly_one_event(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, subject: dict[str, str]
) -> None:
    s = subject
    token = make_token("admin")
    steps = [
        (CANCEL, {"id": s["sub"], "end": True}, "subscription.cancel_scheduled", s["sub"]),
        (RESUME, {"id": s["sub"]}, "subscription.resumed", s["sub"]),
        (CHANGE, {"id": s["sub"], "plan": s["business"]}, "subscription.plan_changed", s["sub"]),
        (RECORD, {"account": s["account"], "q": "5"}, "usage.recorded", s["account"]),
        (GRANT, {"account": s["account"], "limit": "9"}, "entitlement.granted", None),
        (CANCEL, {"id": s["sub"], "end": False}, "subscription.canceled", s["sub"]),
    ]
    for n, (document, variables, kind, object_id) in enumerate(steps, 1):
        body = (await scratch_gql(document, token, variables)).json()
        assert "errors" not in body, body
        assert next(iter(body["data"].values()))["userErrors"] == []
        log = await events(scratch_pool, s["account"])
        assert len(log) == n, kind
        seq, logged_kind, actor, logged_object = log[-1]
        assert (seq, logged_kind, actor) == (n, kind, "dev:admin")
        assert object_id is None or logged_object == object_id


async def test_a_failed_mutation_appends_nothing(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, subject: dict[str, str]
) -> None:
    s = subject
    admin = make_token("admin")
    no_writes = make_token("admin", scopes=sorted(s for s in ALL_SCOPES if s.endswith(":read")))
    failures = [
        (RESUME, {"id": s["sub"]}, admin),  # no pending cancel: a user error
        (CHANGE, {"id": s["sub"], "plan": "plan_doesnotexist0000"}, admin),  # unknown plan
        (RECORD, {"account": s["account"], "q": "-1"}, admin),  # negative quantity
        (GRANT, {"account": s["account"], "limit": "-1"}, admin),  # negative limit
        (CANCEL, {"id": "sub_doesnotexist0000", "end": True}, admin),  # NOT_FOUND
        (CANCEL, {"id": s["sub"], "end": True}, no_writes),  # FORBIDDEN
    ]

    for document, variables, token in failures:
        await scratch_gql(document, token, variables)

    assert await events(scratch_pool, s["account"]) == []
    version = await scratch_pool.fetchval(
        "SELECT version FROM subscriptions WHERE id = $1", s["sub"]
    )
    assert version == 1
