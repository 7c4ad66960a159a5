"""Invoices through the API: money identities on every seeded invoice, the upcoming
invoice priced by DOMAIN.md's rules, and keyset pagination."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import asyncpg
import builders
import pytest
from conftest import Gql, make_token

ALL_INVOICES = """
query($after: String) {
  accounts(first: 100) { nodes { id currency
    invoices(first: 100, after: $after) { totalCount nodes {
      id currency taxRate subtotal { amount currency } tax { amount } total { amount }
      amountPaid { amount } amountDue { amount }
      lines(first: 100) { totalCount nodes { quantity unitAmount { amount } amount { amount currency } } } } } } }
}"""

UPCOMING = """
query($id: ID!) { account(id: $id) { upcomingInvoice {
  periodStart periodEnd lines { kind description quantity unitAmount { amount } amount { amount } meter { key } }
  subtotal { amount } tax { amount } total { amount } amountDue { amount } } } }"""

PAGE = """
query($id: ID!, $first: Int, $after: String) { account(id: $id) {
  invoices(first: $first, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id } } } }"""


def cents(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(1) if currency == "JPY" else Decimal("0.01"), ROUND_HALF_EVEN)


async def test_every_seeded_invoice_obeys_the_money_identities(gql: Gql) -> None:
    body = (await gql(ALL_INVOICES, make_token("admin"))).json()
    assert "errors" not in body
    invoices = [i for a in body["data"]["accounts"]["nodes"] for i in a["invoices"]["nodes"]]
    assert len(invoices) > 500

    for inv in invoices:
        c, lines = inv["currency"], inv["lines"]["nodes"]
        amounts = [Decimal(ln["amount"]["amount"]) for ln in lines]
        subtotal, tax, total = (Decimal(inv[k]["amount"]) for k in ("subtotal", "tax", "total"))
        assert inv["lines"]["totalCount"] == len(lines)
        assert all(ln["amount"]["currency"] == c for ln in lines)
        for ln, amount in zip(lines, amounts, strict=True):
            exact = Decimal(ln["quantity"]) * Decimal(ln["unitAmount"]["amount"])
            assert amount == cents(exact, c), (inv["id"], ln)
        assert subtotal == sum(amounts, Decimal(0)), inv["id"]
        assert tax == cents(subtotal * Decimal(inv["taxRate"]), c), inv["id"]
        assert total == subtotal + tax
        assert Decimal(inv["amountDue"]["amount"]) == total - Decimal(inv["amountPaid"]["amount"])


@pytest.fixture
async def pro_account(scratch_pool: asyncpg.Pool, instant: datetime) -> str:
    """DOMAIN.md's example: Pro at 20.00 with the Extra rules add-on, 73,456,789
    requests in the current period, tax 20 %."""
    now = instant
    async with scratch_pool.acquire() as conn:
        account = await builders.account(conn, tax_rate="0.2")
        await builders.subscription(
            conn, account, "pro_monthly_usd", start=now - timedelta(days=10),
            end=now + timedelta(days=20), addons=["addon_extra_rules_usd"],
        )  # fmt: skip
        hour = now.replace(minute=0, second=0) - timedelta(days=2)
        events = [("40000000", hour), ("33456789", hour + timedelta(hours=5))]
        await builders.usage(conn, account, "requests", events)
    return account


async def test_upcoming_invoice_prices_domain_example(scratch_gql: Gql, pro_account: str) -> None:
    body = (
        await scratch_gql(UPCOMING, make_token("customer", [pro_account]), {"id": pro_account})
    ).json()

    preview = body["data"]["account"]["upcomingInvoice"]
    lines = [
        (ln["kind"], ln["quantity"], ln["unitAmount"]["amount"], ln["amount"]["amount"])
        for ln in preview["lines"]
    ]
    assert lines == [
        ("SUBSCRIPTION", "1", "20.00", "20.00"),
        ("SUBSCRIPTION", "1", "5.00", "5.00"),
        ("USAGE", "40000000", "0.0000003", "12.00"),
        ("USAGE", "23456789", "0.0000002", "4.69"),
    ]
    assert preview["lines"][2]["meter"] == {"key": "requests"}
    assert preview["subtotal"] == {"amount": "41.69"}
    assert preview["tax"] == {"amount": "8.34"}  # 41.69 × 0.2 = 8.338 → 8.34
    assert preview["total"] == {"amount": "50.03"}
    assert preview["amountDue"] == {"amount": "50.03"}


async def test_upcoming_invoice_of_a_canceled_only_account_is_null(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, instant: datetime
) -> None:
    now = instant
    async with scratch_pool.acquire() as conn:
        account = await builders.account(conn)
        await builders.subscription(
            conn, account, "pro_monthly_usd", start=now - timedelta(days=40),
            end=now - timedelta(days=10), status="CANCELED",
        )  # fmt: skip

    body = (await scratch_gql(UPCOMING, make_token("customer", [account]), {"id": account})).json()

    assert body == {
        "data": {"account": {"upcomingInvoice": None}},
        "extensions": body["extensions"],
    }


async def test_paging_with_cursors_walks_every_invoice_once_newest_first(
    gql: Gql, seeded_pool: asyncpg.Pool
) -> None:
    account = await seeded_pool.fetchval(
        "SELECT account_id FROM invoices GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    expected = [
        r["id"]
        for r in await seeded_pool.fetch(
            "SELECT id FROM invoices WHERE account_id = $1 ORDER BY created_at DESC, id DESC",
            account,
        )
    ]
    token = make_token("customer", [account])
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(PAGE, token, {"id": account, "first": 7, "after": after})).json()
        conn = page["data"]["account"]["invoices"]
        assert conn["totalCount"] == len(expected)
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [n["id"] for n in conn["nodes"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == expected


@pytest.mark.parametrize("first", [101, -1, 1000])
async def test_first_outside_0_to_100_is_bad_user_input(gql: Gql, first: int) -> None:
    body = (
        await gql(
            "query($f: Int) { accounts(first: $f) { totalCount } }", make_token(), {"f": first}
        )
    ).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_first_defaults_to_20(gql: Gql) -> None:
    body = (
        await gql("{ accounts { nodes { id } pageInfo { hasNextPage } } }", make_token())
    ).json()
    assert len(body["data"]["accounts"]["nodes"]) == 20
    assert body["data"]["accounts"]["pageInfo"]["hasNextPage"] is True


async def test_tampered_and_foreign_cursors_are_bad_user_input(
    gql: Gql, seeded_pool: asyncpg.Pool
) -> None:
    account = await seeded_pool.fetchval("SELECT account_id FROM invoices LIMIT 1")
    token = make_token("customer", [account])
    first = (await gql(PAGE, token, {"id": account, "first": 1})).json()
    cursor = first["data"]["account"]["invoices"]["pageInfo"]["endCursor"]
    accounts_cursor = (
        await gql("{ accounts(first: 1) { pageInfo { endCursor } } }", token)
    ).json()["data"]["accounts"]["pageInfo"]["endCursor"]
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")

    for bad in (tampered, accounts_cursor, "not-a-cursor", "", "-1"):
        body = (await gql(PAGE, token, {"id": account, "first": 5, "after": bad})).json()
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", bad
        assert error["message"] == "The cursor is not valid for this list."
        assert body["data"]["account"]["invoices"] is None


async def test_invoice_filters_by_status_and_issue_date(
    gql: Gql, seeded_pool: asyncpg.Pool
) -> None:
    account = await seeded_pool.fetchval(
        "SELECT account_id FROM invoices GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    expected = await seeded_pool.fetchval(
        "SELECT count(*) FROM invoices WHERE account_id = $1 AND status = 'PAID'"
        " AND issued_at >= '2026-01-01' AND issued_at < '2026-07-01'",
        account,
    )
    query = """query($id: ID!) { account(id: $id) { invoices(first: 100, status: [PAID],
      issuedAfter: "2026-01-01T00:00:00Z", issuedBefore: "2026-07-01T00:00:00Z") {
      totalCount nodes { status issuedAt } } } }"""

    body = (await gql(query, make_token("customer", [account]), {"id": account})).json()

    invoices = body["data"]["account"]["invoices"]
    assert invoices["totalCount"] == expected > 0
    assert {n["status"] for n in invoices["nodes"]} == {"PAID"}
    assert all("2026-01-01" <= n["issuedAt"] < "2026-07-01" for n in invoices["nodes"])
