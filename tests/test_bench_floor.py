"""The bench's Python floor answers the dashboard documents exactly as the gateway does.

The bench (bench/) measures the gateway against a hand-written floor (bench/floor.py)
and refuses to measure when their answers differ; this keeps the floor honest in CI,
at the seed's date and after it (the floor derives subscription state and periods
at the request's instant, as the gateway does)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import Gql, make_token

from bench import documents
from bench.floor import create_app
from gateway.clock import FixedClock
from gateway.settings import load
from resolvers.periods import iso

# Every fifth account, and the bench's kind of account: an active subscription with
# add-ons and more than a page of invoices.
ACCOUNTS = """
SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM accounts) a WHERE n % 5 = 1
UNION
(SELECT a.id FROM accounts a JOIN subscriptions s ON s.account_id = a.id
   JOIN subscription_items i ON i.subscription_id = s.id
  WHERE s.status = 'ACTIVE' AND (SELECT count(*) FROM invoices v WHERE v.account_id = a.id) > 20
  ORDER BY a.id LIMIT 1)"""


@pytest.fixture(scope="module")
async def floor(database_url: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(load({"DATABASE_URL": database_url, "BILLING_ENV": "dev"}), clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
            yield client


async def ask_floor(
    floor: httpx.AsyncClient, document: str, token: str, variables: dict[str, Any]
) -> dict[str, Any]:
    body = {"query": document, "variables": variables}
    response = await floor.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_the_floor_answers_both_dashboards_as_the_gateway_does(
    gql: Gql, floor: httpx.AsyncClient, seeded_pool: asyncpg.Pool, instant: datetime
) -> None:
    accounts = [r["id"] for r in await seeded_pool.fetch(ACCOUNTS)]
    window = {"from": iso(instant - timedelta(days=30)), "to": iso(instant)}
    for account in accounts:
        token = make_token("customer", [account])
        for document, variables in (
            (documents.CORE, {"id": account}),
            (documents.FULL, {"id": account} | window),
        ):
            # Given the gateway's answer
            gateway = (await gql(document, token, variables)).json()
            assert "errors" not in gateway, gateway["errors"]

            # When the floor answers the same request
            ours = await ask_floor(floor, document, token, variables)

            # Then its data is the same, from fewer statements
            assert ours["data"] == gateway["data"], (account, document[:20])
            assert ours["extensions"]["sqlStatements"] < gateway["extensions"]["sqlStatements"]


async def test_the_floor_shows_nothing_outside_the_token_s_reach(
    floor: httpx.AsyncClient, seeded_pool: asyncpg.Pool
) -> None:
    mine, other = [r["id"] for r in await seeded_pool.fetch("SELECT id FROM accounts LIMIT 2")]

    answer = await ask_floor(floor, documents.CORE, make_token("customer", [mine]), {"id": other})

    assert answer["data"] == {"account": None}
