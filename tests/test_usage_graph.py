"""Usage series through the API: buckets over [from, to) read from the rollup, and
each kind of bad range refused with BAD_USER_INPUT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import builders
import pytest
from conftest import Gql, make_token

SERIES = """
query($id: ID!, $meter: String!, $from: DateTime!, $to: DateTime!, $g: UsageGranularity) {
  account(id: $id) { usage(meter: $meter, from: $from, to: $to, granularity: $g) {
    meter { key aggregation } from to granularity total points { start quantity } } } }"""

DAY0 = datetime(2026, 9, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
async def metered(scratch_pool: asyncpg.Pool) -> str:
    """An account with known events: requests (SUM) and storage (MAX) on 2026-09-01..03."""
    async with scratch_pool.acquire() as conn:
        account = await builders.account(conn)
        await builders.usage(conn, account, "requests", [
            ("100", DAY0 + timedelta(hours=1, minutes=5)),
            ("250", DAY0 + timedelta(hours=1, minutes=55)),
            ("7.5", DAY0 + timedelta(days=1, hours=23, minutes=59, seconds=59)),
            ("1000", DAY0 + timedelta(days=3)),  # exactly at `to` of a 3-day range: excluded
        ])  # fmt: skip
        await builders.usage(conn, account, "storage_gb", [
            ("10", DAY0 + timedelta(hours=2)),
            ("42", DAY0 + timedelta(hours=3)),
            ("12", DAY0 + timedelta(days=1, hours=4)),
        ])  # fmt: skip
    return account


async def series(gql: Gql, account: str, **variables: str) -> dict[str, object]:
    body = (
        await gql(SERIES, make_token("customer", [account]), {"id": account, **variables})
    ).json()
    assert "errors" not in body, body["errors"]
    result: dict[str, object] = body["data"]["account"]["usage"]
    return result


async def test_day_series_sums_each_day_and_fills_empty_days(
    scratch_gql: Gql, metered: str
) -> None:
    result = await series(
        scratch_gql, metered, meter="requests", **{"from": "2026-09-01T00:00:00Z"},
        to="2026-09-04T00:00:00Z", g="DAY",
    )  # fmt: skip
    assert result["points"] == [
        {"start": "2026-09-01T00:00:00Z", "quantity": "350"},
        {"start": "2026-09-02T00:00:00Z", "quantity": "7.5"},
        {"start": "2026-09-03T00:00:00Z", "quantity": "0"},
    ]
    assert result["total"] == "357.5"
    assert result["granularity"] == "DAY"


async def test_to_is_exclusive(scratch_gql: Gql, metered: str) -> None:
    result = await series(
        scratch_gql, metered, meter="requests", **{"from": "2026-09-03T00:00:00Z"},
        to="2026-09-04T00:00:00Z",
    )  # fmt: skip
    assert result["total"] == "0"
    after = await series(
        scratch_gql, metered, meter="requests", **{"from": "2026-09-04T00:00:00Z"},
        to="2026-09-05T00:00:00Z",
    )  # fmt: skip
    assert after["total"] == "1000"


async def test_max_meter_takes_the_peak_of_hours_and_of_points(
    scratch_gql: Gql, metered: str
) -> None:
    result = await series(
        scratch_gql, metered, meter="storage_gb", **{"from": "2026-09-01T00:00:00Z"},
        to="2026-09-03T00:00:00Z", g="DAY",
    )  # fmt: skip
    assert [p["quantity"] for p in result["points"]] == ["42", "12"]  # type: ignore[index, union-attr]
    assert result["total"] == "42"
    assert result["meter"] == {"key": "storage_gb", "aggregation": "MAX"}


async def test_hour_series_has_one_point_per_hour(scratch_gql: Gql, metered: str) -> None:
    result = await series(
        scratch_gql, metered, meter="requests", **{"from": "2026-09-01T00:00:00Z"},
        to="2026-09-01T04:00:00Z", g="HOUR",
    )  # fmt: skip
    assert [p["quantity"] for p in result["points"]] == ["0", "350", "0", "0"]  # type: ignore[index, union-attr]


async def test_unaligned_range_is_widened_to_whole_buckets(scratch_gql: Gql, metered: str) -> None:
    result = await series(
        scratch_gql, metered, meter="requests", **{"from": "2026-09-01T01:30:00Z"},
        to="2026-09-01T22:00:00+02:00", g="DAY",
    )  # fmt: skip
    assert (result["from"], result["to"]) == ("2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z")
    assert result["total"] == "350"


async def test_seeded_series_total_equals_raw_events(gql: Gql, seeded_pool: asyncpg.Pool) -> None:
    account = await seeded_pool.fetchval("SELECT account_id FROM usage_events LIMIT 1")
    raw = await seeded_pool.fetchval(
        "SELECT coalesce(sum(e.quantity), 0) FROM usage_events e JOIN meters m ON m.id = e.meter_id"
        " WHERE e.account_id = $1 AND m.key = 'requests'"
        " AND e.occurred_at >= '2026-10-16' AND e.occurred_at < '2026-11-15'",
        account,
    )
    result = await series(
        gql,
        account,
        meter="requests",
        **{"from": "2026-10-16T00:00:00Z"},
        to="2026-11-15T00:00:00Z",
    )
    assert len(result["points"]) == 30  # type: ignore[arg-type]
    assert Decimal(str(result["total"])) == raw


BAD_RANGES = {
    "unknown meter": {
        "meter": "nope",
        "from": "2026-09-01T00:00:00Z",
        "to": "2026-09-02T00:00:00Z",
    },
    "from after to": {
        "meter": "requests",
        "from": "2026-09-02T00:00:00Z",
        "to": "2026-09-01T00:00:00Z",
    },
    "empty range": {
        "meter": "requests",
        "from": "2026-09-01T00:00:00Z",
        "to": "2026-09-01T00:00:00Z",
    },
    "hours past 31 days": {
        "meter": "requests",
        "from": "2026-01-01T00:00:00Z",
        "to": "2026-03-01T00:00:00Z",
        "g": "HOUR",
    },
    "days past 400": {
        "meter": "requests",
        "from": "2024-01-01T00:00:00Z",
        "to": "2026-01-01T00:00:00Z",
        "g": "DAY",
    },
    "months past 120": {
        "meter": "requests",
        "from": "2010-01-01T00:00:00Z",
        "to": "2026-01-01T00:00:00Z",
        "g": "MONTH",
    },
    "no time zone": {
        "meter": "requests",
        "from": "2026-09-01T00:00:00",
        "to": "2026-09-02T00:00:00Z",
    },
    "not a date": {"meter": "requests", "from": "yesterday", "to": "2026-09-02T00:00:00Z"},
}


@pytest.mark.parametrize("case", sorted(BAD_RANGES))
async def test_bad_ranges_are_bad_user_input(scratch_gql: Gql, metered: str, case: str) -> None:
    variables = {"id": metered, "g": "DAY", **BAD_RANGES[case]}
    body = (await scratch_gql(SERIES, make_token("customer", [metered]), variables)).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    assert "Traceback" not in body["errors"][0]["message"]
