"""The SQL a request runs grows with the query's depth, never with its rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from conftest import Gql, make_token

from bench import documents

# The bench's documents (bench/documents.py): the full dashboard and a partner's sync.
DASHBOARD = documents.FULL
ACCOUNTS_NESTED = documents.PARTNER


# The same lists walked backward: keyset pages from the end, one statement per batch.
ACCOUNTS_NESTED_BACKWARD = ACCOUNTS_NESTED.replace("first", "last")


def statements(body: dict[str, Any]) -> int:
    assert "errors" not in body, body["errors"]
    return int(body["extensions"]["sqlStatements"])


async def richest_account(pool: asyncpg.Pool) -> str:
    return str(
        await pool.fetchval(
            "SELECT a.id FROM accounts a JOIN subscriptions s ON s.account_id = a.id"
            " JOIN subscription_items i ON i.subscription_id = s.id"
            " WHERE s.status = 'ACTIVE' AND a.partner_id IS NOT NULL ORDER BY a.id LIMIT 1"
        )
    )


async def test_dashboard_runs_at_most_15_statements(
    gql: Gql, seeded_pool: asyncpg.Pool, instant: datetime
) -> None:
    account = await richest_account(seeded_pool)
    variables = {"id": account, "from": "2026-10-16T00:00:00Z", "to": "2026-11-15T00:00:00Z"}

    body = (await gql(DASHBOARD, make_token("customer", [account]), variables)).json()

    data = body["data"]["account"]
    assert len(data["invoices"]["nodes"]) == 20
    assert all(inv["lines"]["nodes"] for inv in data["invoices"]["nodes"])
    assert data["entitlements"]
    assert data["upcomingInvoice"]["lines"]
    assert len(data["usage"]["points"]) == 30
    assert statements(body) <= 15


async def test_fifty_accounts_cost_the_same_statements_as_two(gql: Gql) -> None:
    token = make_token("admin")

    two = (await gql(ACCOUNTS_NESTED, token, {"first": 2})).json()
    fifty = (await gql(ACCOUNTS_NESTED, token, {"first": 50})).json()

    assert len(fifty["data"]["accounts"]["nodes"]) == 50
    assert statements(fifty) == statements(two)


async def test_paging_backward_costs_the_same_statements_for_fifty_accounts_as_for_two(
    gql: Gql,
) -> None:
    token = make_token("admin")

    two = (await gql(ACCOUNTS_NESTED_BACKWARD, token, {"last": 2})).json()
    fifty = (await gql(ACCOUNTS_NESTED_BACKWARD, token, {"last": 50})).json()
    forward = (await gql(ACCOUNTS_NESTED, token, {"first": 50})).json()

    assert len(fifty["data"]["accounts"]["nodes"]) == 50
    assert statements(fifty) == statements(two) == statements(forward)


async def test_a_partner_request_adds_one_statement_for_its_reach(
    gql: Gql, seeded_pool: asyncpg.Pool
) -> None:
    partner = await seeded_pool.fetchval("SELECT min(partner_id) FROM accounts")
    query = "{ viewer { accountCount } }"

    admin = (await gql(query, make_token("admin"))).json()
    as_partner = (await gql(query, make_token("partner", partner=partner))).json()

    assert statements(as_partner) == statements(admin) + 1


COUNTED = """query($id: ID!) { account(id: $id) {
  subscriptions(first: 2) { %s nodes { id } }
  invoices(first: 3) { %s nodes { id lines(first: 1) { %s nodes { id } } } }
} }"""


async def test_a_lists_total_count_comes_with_its_page_statement(
    gql: Gql, seeded_pool: asyncpg.Pool
) -> None:
    account = await richest_account(seeded_pool)
    token = make_token("customer", [account])
    variables = {"id": account}

    plain = (await gql(COUNTED % ("", "", ""), token, variables)).json()
    counted = (await gql(COUNTED % (("totalCount",) * 3), token, variables)).json()

    assert statements(counted) == statements(plain)
    data = counted["data"]["account"]
    invoices = await seeded_pool.fetchval(
        "SELECT count(*) FROM invoices WHERE account_id = $1", account
    )
    subscriptions = await seeded_pool.fetchval(
        "SELECT count(*) FROM subscriptions WHERE account_id = $1", account
    )
    assert data["invoices"]["totalCount"] == invoices > 3
    assert data["subscriptions"]["totalCount"] == subscriptions
    for invoice in data["invoices"]["nodes"]:
        lines = await seeded_pool.fetchval(
            "SELECT count(*) FROM invoice_lines WHERE invoice_id = $1", invoice["id"]
        )
        assert invoice["lines"]["totalCount"] == lines
