"""recordUsage: each event counts once forever, a batch is all or nothing, the next read
sees it, and every kind of bad event is named and writes nothing."""

from __future__ import annotations

import asyncio
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
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)

RECORD = """
mutation($input: RecordUsageInput!) { recordUsage(input: $input) {
  recorded duplicates userErrors { field message code } account { id } } }"""
SERIES = """
query($id: ID!) { account(id: $id) {
  usage(meter: "requests", from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z") { total } } }"""
WRITTEN = """
SELECT (SELECT count(*) FROM usage_event_keys WHERE account_id = $1) AS keys,
       (SELECT coalesce(sum(quantity_sum), 0) FROM usage_hourly WHERE account_id = $1) AS used,
       (SELECT count(*) FROM outbox_events WHERE account_id = $1) AS events"""


@pytest.fixture(autouse=True)
def _now(at: FixedClock) -> None:
    at.set(NOW)


@pytest.fixture
async def account(scratch_pool: asyncpg.Pool) -> str:
    """An account on Pro, its period 2026-11-01 → 2026-12-01."""
    account_id, _ = await builders.subscribed(scratch_pool, start=NOV_1, addons=())
    return account_id


def event(
    key: str, quantity: str = "1000", at: datetime = NOW, meter: str = "requests"
) -> dict[str, str]:
    return {"meter": meter, "quantity": quantity, "occurredAt": iso(at), "idempotencyKey": key}


async def record(
    gql: Gql, account: str, events: list[Any], key: str | None = None, token: str | None = None
) -> Any:
    variables = {"input": {"accountId": account, "events": events, "idempotencyKey": key}}
    return (await gql(RECORD, token or make_token("customer", [account]), variables)).json()


async def written(pool: asyncpg.Pool, account: str) -> tuple[Any, ...]:
    row = await pool.fetchrow(WRITTEN, account)
    assert row is not None
    return tuple(row)


async def test_recorded_usage_is_read_at_once_and_counted_once(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, account: str
) -> None:
    first = await record(scratch_gql, account, [event("e1", "1500"), event("e2", "500.25")])
    series = (await scratch_gql(SERIES, make_token("customer", [account]), {"id": account})).json()
    again = await record(scratch_gql, account, [event("e2", "500.25"), event("e3", "1")])

    assert first["data"]["recordUsage"] == {
        "recorded": 2, "duplicates": [], "userErrors": [], "account": {"id": account},
    }  # fmt: skip
    assert series["data"]["account"]["usage"]["total"] == "2000.25"
    assert (
        again["data"]["recordUsage"]["recorded"],
        again["data"]["recordUsage"]["duplicates"],
    ) == (1, ["e2"])
    assert await written(scratch_pool, account) == (3, 2001.25, 2)


BAD_EVENTS = {
    "negative": (event("k", "-1"), "quantity"),
    "over-precise": (event("k", "1.0000001"), "quantity"),
    "unknown meter": (event("k", meter="nope"), "meter"),
    "NUL in the meter": (event("k", meter="requests\x00"), "meter"),
    "NUL in the key": (event("k\x00"), "idempotencyKey"),
    "empty key": (event(""), "idempotencyKey"),
    "in the future": (event("k", at=NOW + timedelta(minutes=6)), "occurredAt"),
    "before the open period": (event("k", at=NOV_1 - timedelta(seconds=1)), "occurredAt"),
}


@pytest.mark.parametrize("case", sorted(BAD_EVENTS))
async def test_a_bad_event_is_named_and_the_batch_writes_nothing(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, account: str, case: str
) -> None:
    bad, field_name = BAD_EVENTS[case]
    before = await written(scratch_pool, account)

    body = await record(scratch_gql, account, [event("good-1"), event("good-2"), bad])

    payload = body["data"]["recordUsage"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["events", "2", field_name], "BAD_USER_INPUT")
    ]
    assert payload["recorded"] == 0
    assert await written(scratch_pool, account) == before


@pytest.mark.parametrize(
    "quantity", ["NaN", "Infinity", "-Infinity", "sNaN", "1E+100000", "12" * 30]
)
async def test_a_quantity_that_is_no_decimal_is_refused_with_the_contract_code(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, account: str, quantity: str
) -> None:
    before = await written(scratch_pool, account)

    body = await record(scratch_gql, account, [event("k", quantity)])

    assert body.get("data") is None  # a request error: nothing ran
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert await written(scratch_pool, account) == before


async def test_a_reused_event_key_and_a_repeated_one_are_refused(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, account: str
) -> None:
    await record(scratch_gql, account, [event("once", "10")])
    before = await written(scratch_pool, account)

    reused = await record(scratch_gql, account, [event("once", "11")])
    repeated = await record(scratch_gql, account, [event("twice"), event("twice")])

    assert [e["field"] for e in reused["data"]["recordUsage"]["userErrors"]] == [
        ["events", "0", "idempotencyKey"]
    ]
    assert [e["field"] for e in repeated["data"]["recordUsage"]["userErrors"]] == [
        ["events", "1", "idempotencyKey"]
    ]
    assert await written(scratch_pool, account) == before


async def test_more_than_a_thousand_events_is_a_user_error(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, account: str
) -> None:
    body = await record(scratch_gql, account, [event(f"k{n}") for n in range(1001)])

    assert [e["field"] for e in body["data"]["recordUsage"]["userErrors"]] == [["events"]]
    assert (await written(scratch_pool, account))[0] == 0


async def test_another_tenants_account_is_not_found_like_a_missing_one(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, account: str
) -> None:
    async with scratch_pool.acquire() as conn:
        mine = await builders.account(conn)
    token = make_token("customer", [mine])

    foreign = await record(scratch_gql, account, [event("k")], token=token)
    missing = await record(scratch_gql, "acct_doesnotexist0000", [event("k")], token=token)

    for body in (foreign, missing):
        assert body["data"]["recordUsage"]["account"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
        assert body["data"]["recordUsage"]["userErrors"] == [
            {"field": [], "message": "Not found.", "code": "NOT_FOUND"}
        ]
    assert (await written(scratch_pool, account))[0] == 0


async def test_without_usage_write_it_is_forbidden(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, account: str
) -> None:
    token = make_token("customer", [account], scopes=sorted(ALL_SCOPES - {"usage:write"}))

    body = await record(scratch_gql, account, [event("k")], token=token)

    assert body["data"]["recordUsage"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert [e["path"] for e in body["errors"]] == [["recordUsage", "account"]]
    assert (await written(scratch_pool, account))[0] == 0


async def test_32_concurrent_replays_of_one_call_add_its_quantity_once(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, at: FixedClock, account: str
) -> None:
    events = [event(f"batch-{n}", "250") for n in range(20)]

    bodies = await asyncio.gather(
        *(record(scratch_gql, account, events, key="call-1") for _ in range(32))
    )

    answers = [b["data"]["recordUsage"] for b in bodies]
    done = [a for a in answers if not a["userErrors"]]
    in_flight = [a for a in answers if a["userErrors"] and a["userErrors"][0]["code"] == "CONFLICT"]
    assert len(done) + len(in_flight) == 32
    assert {(a["recorded"], tuple(a["duplicates"])) for a in done} == {(20, ())}
    assert await written(scratch_pool, account) == (20, 5000, 1)


async def test_released_connections_keep_no_session_state(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, account: str
) -> None:
    # The gateway's pool skips asyncpg's reset on release (one round trip per request);
    # that is safe only while a request leaves no lock or transaction on its connection.
    replies = await asyncio.gather(
        *(record(scratch_gql, account, [event(f"s{n}")], key=f"state-{n}") for n in range(6))
    )
    left = await scratch_pool.fetchrow(
        "SELECT count(*) FILTER (WHERE l.locktype = 'advisory') AS advisory,"
        " count(DISTINCT a.pid) FILTER (WHERE a.state LIKE 'idle in transaction%') AS open"
        " FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid"
        " WHERE a.application_name = 'billing-gateway' AND a.datname = current_database()"
    )

    assert [r["data"]["recordUsage"]["recorded"] for r in replies] == [1] * 6
    assert left is not None
    assert (left["advisory"], left["open"]) == (0, 0)
