"""grantEntitlement: a grant replaces the plans' value until it expires; bad input is
named and writes nothing; reach and scope as for every mutation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import builders
import pytest
from conftest import Gql, make_token

from auth.scopes import ALL_SCOPES
from gateway.clock import FixedClock
from resolvers.periods import iso

NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 20, tzinfo=UTC)

GRANT = """
mutation($input: GrantEntitlementInput!) { grantEntitlement(input: $input) {
  userErrors { field message code }
  entitlement { feature { key } enabled limit source expiresAt } } }"""
RULES = """query($id: ID!) { account(id: $id) { entitlement(feature: "waf.custom_rules") { limit source } } }"""
GRANTS = "SELECT count(*) FROM entitlement_grants WHERE account_id = $1"


@pytest.fixture(autouse=True)
def _now(at: FixedClock) -> None:
    at.set(NOW)


@pytest.fixture
async def account(scratch_pool: asyncpg.Pool) -> str:
    """Pro with the Extra rules add-on: waf.custom_rules 20 + 10 = 30 (DOMAIN's example)."""
    account_id, _ = await builders.subscribed(
        scratch_pool, start=NOV_1, addons=("addon_extra_rules",)
    )
    return account_id


async def grant(gql: Gql, account: str, token: str | None = None, **fields: Any) -> Any:
    variables = {"input": {"accountId": account, "feature": "waf.custom_rules", **fields}}
    return (await gql(GRANT, token or make_token("admin"), variables)).json()


async def test_a_grant_replaces_the_plans_value_until_it_expires(
    scratch_gql: Gql, account: str, at: FixedClock
) -> None:
    body = await grant(scratch_gql, account, limit="100", expiresAt="2027-01-01T00:00:00Z")

    assert body["data"]["grantEntitlement"] == {
        "userErrors": [],
        "entitlement": {
            "feature": {"key": "waf.custom_rules"}, "enabled": True, "limit": "100",
            "source": "GRANT", "expiresAt": "2027-01-01T00:00:00Z",
        },
    }  # fmt: skip
    token = make_token("customer", [account])
    at.set(datetime(2027, 1, 1, tzinfo=UTC))
    after = (await scratch_gql(RULES, token, {"id": account})).json()
    assert after["data"]["account"]["entitlement"] == {"limit": "30", "source": "PLAN"}


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"feature": "nope"}, ["feature"]),
        ({"feature": "sso", "limit": "5"}, ["limit"]),
        ({"limit": "-1"}, ["limit"]),
        ({"limit": "1.0000001"}, ["limit"]),
        ({"expiresAt": iso(NOW)}, ["expiresAt"]),
        ({"idempotencyKey": "a\x00b"}, ["idempotencyKey"]),
    ],
)
async def test_bad_input_is_named_and_writes_nothing(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, account: str, at: FixedClock,
    fields: dict[str, str], path: list[str],
) -> None:  # fmt: skip
    body = await grant(scratch_gql, account, **fields)

    payload = body["data"]["grantEntitlement"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, "BAD_USER_INPUT")]
    assert payload["entitlement"] is None
    assert await scratch_pool.fetchval(GRANTS, account) == 0


async def test_reach_and_scope_hold(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, account: str, at: FixedClock
) -> None:
    async with scratch_pool.acquire() as conn:
        mine = await builders.account(conn)
    foreign = await grant(scratch_gql, account, make_token("customer", [mine]), limit="1")
    unscoped_token = make_token("admin", scopes=sorted(ALL_SCOPES - {"entitlements:write"}))
    unscoped = await grant(scratch_gql, account, unscoped_token, limit="1")

    assert [e["extensions"]["code"] for e in foreign["errors"]] == ["NOT_FOUND"]
    assert [e["extensions"]["code"] for e in unscoped["errors"]] == ["FORBIDDEN"]
    assert await scratch_pool.fetchval(GRANTS, account) == 0


async def test_the_grant_and_its_event_are_one_write(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, account: str, at: FixedClock
) -> None:
    await grant(scratch_gql, account, limit="50", expiresAt=iso(NOW + timedelta(days=3)))

    events = await scratch_pool.fetch(
        "SELECT type, actor, object_id, payload::text FROM outbox_events WHERE account_id = $1",
        account,
    )
    grant_id = await scratch_pool.fetchval(
        "SELECT id FROM entitlement_grants WHERE account_id = $1", account
    )
    assert [(e["type"], e["actor"], e["object_id"]) for e in events] == [
        ("entitlement.granted", "dev:admin", grant_id)
    ]
    assert '"limit": "50"' in events[0]["payload"]
