"""Entitlements through the API, with DOMAIN.md's example as the vector: Pro grants
waf.custom_rules 20, the Extra rules add-on +10 → 30; a grant of 100 expiring
later → 100 until it expires, 30 after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import builders
from conftest import Gql, make_token

ENTITLEMENT = """
query($id: ID!, $key: String!) { account(id: $id) {
  entitlement(feature: $key) { feature { key kind meter { key } } enabled limit used remaining resetsAt source expiresAt }
  entitlements { feature { key } source } } }"""


async def pro_with_extra_rules(
    conn: asyncpg.Connection, now: datetime, status: str = "ACTIVE"
) -> tuple[str, str]:
    """Pro with the Extra rules add-on, in a period [now − 5 days, now + 25 days)."""
    account = await builders.account(conn)
    sub = await builders.subscription(
        conn, account, "pro_monthly_usd", start=now - timedelta(days=5),
        end=now + timedelta(days=25), addons=["addon_extra_rules_usd"], status=status,
    )  # fmt: skip
    return account, sub


async def ask(gql: Gql, account: str, key: str) -> dict[str, object]:
    body = (
        await gql(ENTITLEMENT, make_token("customer", [account]), {"id": account, "key": key})
    ).json()
    assert "errors" not in body, body["errors"]
    result: dict[str, object] = body["data"]["account"]["entitlement"]
    return result


async def test_plan_and_add_on_limits_add_up(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, instant: datetime
) -> None:
    async with scratch_pool.acquire() as conn:
        account, _ = await pro_with_extra_rules(conn, instant)

    rules = await ask(scratch_gql, account, "waf.custom_rules")

    assert (rules["limit"], rules["source"], rules["enabled"]) == ("30", "PLAN", True)


async def test_unexpired_grant_replaces_the_plans_then_lapses(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, instant: datetime
) -> None:
    async with scratch_pool.acquire() as conn:
        granted, _ = await pro_with_extra_rules(conn, instant)
        await builders.grant(
            conn, granted, "waf.custom_rules", limit="100",
            expires_at=datetime(2099, 1, 1, tzinfo=UTC), created_at=instant - timedelta(days=1),
        )  # fmt: skip
        lapsed, _ = await pro_with_extra_rules(conn, instant)
        await builders.grant(
            conn, lapsed, "waf.custom_rules", limit="100",
            expires_at=instant - timedelta(hours=1), created_at=instant - timedelta(days=30),
        )  # fmt: skip

    active = await ask(scratch_gql, granted, "waf.custom_rules")
    expired = await ask(scratch_gql, lapsed, "waf.custom_rules")

    assert (active["limit"], active["source"], active["expiresAt"]) == (
        "100",
        "GRANT",
        "2099-01-01T00:00:00Z",
    )
    assert (expired["limit"], expired["source"], expired["expiresAt"]) == ("30", "PLAN", None)


async def test_quota_reports_use_in_the_current_period(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, instant: datetime
) -> None:
    async with scratch_pool.acquire() as conn:
        account, _ = await pro_with_extra_rules(conn, instant)
        await builders.usage(conn, account, "requests", [
            ("60000000", instant - timedelta(days=1)),
            ("50000000", instant - timedelta(hours=2)),
            ("999", instant - timedelta(days=6)),  # before the period: not counted
        ])  # fmt: skip

    quota = await ask(scratch_gql, account, "requests.monthly")

    assert quota["limit"] == "100000000"
    assert quota["used"] == "110000000"
    assert quota["remaining"] == "0"  # max(limit − used, 0)
    assert quota["resetsAt"] == (instant + timedelta(days=25)).isoformat().replace("+00:00", "Z")
    assert quota["feature"] == {
        "key": "requests.monthly",
        "kind": "QUOTA",
        "meter": {"key": "requests"},
    }


async def test_paused_subscriptions_grant_nothing(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, instant: datetime
) -> None:
    async with scratch_pool.acquire() as conn:
        account, _ = await pro_with_extra_rules(conn, instant, status="PAUSED")

    body = (
        await scratch_gql(
            ENTITLEMENT,
            make_token("customer", [account]),
            {"id": account, "key": "waf.custom_rules"},
        )
    ).json()

    entitlement = body["data"]["account"]["entitlement"]
    assert (entitlement["enabled"], entitlement["limit"]) == (False, "0")
    assert body["data"]["account"]["entitlements"] == []


async def test_unlimited_wins_and_booleans_are_any(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, instant: datetime
) -> None:
    async with scratch_pool.acquire() as conn:
        account = await builders.account(conn)
        for code in ("pro_monthly_usd", "business_monthly_usd"):
            await builders.subscription(
                conn,
                account,
                code,
                start=instant - timedelta(days=1),
                end=instant + timedelta(days=29),
            )

    seats = await ask(scratch_gql, account, "team.seats")  # Pro 10 + Business unlimited
    sso = await ask(scratch_gql, account, "sso")  # Pro false, Business true

    assert (seats["limit"], seats["enabled"]) == (None, True)
    assert (sso["enabled"], sso["limit"]) == (True, None)


async def test_unknown_feature_is_bad_user_input(gql: Gql, seeded_pool: asyncpg.Pool) -> None:
    account = await seeded_pool.fetchval("SELECT id FROM accounts LIMIT 1")
    body = (
        await gql(ENTITLEMENT, make_token("customer", [account]), {"id": account, "key": "nope"})
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["path"] == ["account", "entitlement"]


def test_quota_remaining_never_goes_negative() -> None:
    from resolvers.entitlements import remaining

    assert remaining(Decimal(5), Decimal(7)) == 0
    assert remaining(None, Decimal(7)) is None
