"""Cost in every response and rate limiting by cost (issue acceptance 3): a leaky
bucket per subject refuses one subject's burst and not its neighbour's; with Redis
two gateway processes share one bucket; a Redis outage lets requests through."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from conftest import make_token, serving
from servers import gateway, redis_url

from gateway.clock import FixedClock

# 1 (the connection) + 40 accounts: what an admin's page of 40 really costs.
PAGE = "query Page { accounts(first: 40) { nodes { id } } }"
PAGE_COST = 41
SMALL_BUCKET = {
    "BILLING_ENV": "dev",
    "BILLING_RATE_LIMIT_CAPACITY": "100",
    "BILLING_RATE_LIMIT_RESTORE": "1",
}
COST_KEYS = {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
THROTTLE_KEYS = {"maximumAvailable", "currentlyAvailable", "restoreRate"}


@pytest.fixture
async def app(database_url: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(database_url, clock, SMALL_BUCKET) as client:
        yield client


def bearer(subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token('admin', subject=subject)}"}


async def ask(client: httpx.AsyncClient, subject: str, query: str = PAGE) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers=bearer(subject))


@pytest.mark.parametrize(
    "query",
    [
        PAGE,  # data
        '{ account(id: "acct_nope") { id } }',  # data and a NOT_FOUND error
        "{ viewer { rol } }",  # a validation error
        "{ viewer { role ",  # a parse error
    ],
)
async def test_every_response_carries_its_cost(app: httpx.AsyncClient, query: str) -> None:
    body = (await ask(app, "cost-" + secrets.token_hex(4), query)).json()
    cost = body["extensions"]["cost"]
    assert set(cost) == COST_KEYS
    assert set(cost["throttleStatus"]) == THROTTLE_KEYS
    assert cost["throttleStatus"]["maximumAvailable"] == 100
    assert cost["actualQueryCost"] <= cost["requestedQueryCost"]


async def test_actual_cost_counts_what_was_returned(app: httpx.AsyncClient) -> None:
    body = (await ask(app, "actual", "{ accounts(first: 3) { nodes { id } } }")).json()
    assert body["extensions"]["cost"]["requestedQueryCost"] == 4
    assert body["extensions"]["cost"]["actualQueryCost"] == 4
    customer = make_token("customer", accounts=["acct_nope"])
    body = (
        await app.post(
            "/graphql",
            json={"query": "{ accounts(first: 3) { nodes { id } } }"},
            headers={"Authorization": f"Bearer {customer}"},
        )
    ).json()
    assert body["extensions"]["cost"]["actualQueryCost"] == 1  # an empty page


async def test_the_bucket_refuses_one_subjects_burst_and_not_its_neighbours(
    app: httpx.AsyncClient,
) -> None:
    # given one subject that spends 2 × 41 of its 100 points
    for _ in range(2):
        assert (await ask(app, "burst")).status_code == 200

    # when it asks again, and its neighbour asks once
    refused = await ask(app, "burst")
    neighbour = await ask(app, "neighbour")

    # then the third page is refused with a time to wait; the neighbour is served
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry = error["extensions"]["retryAfter"]
    assert retry >= 1
    assert refused.headers["retry-after"] == str(retry)
    assert refused.json()["extensions"]["cost"]["requestedQueryCost"] == PAGE_COST
    assert "data" not in refused.json()
    assert neighbour.status_code == 200
    assert neighbour.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] >= 59


async def test_a_partners_tokens_share_one_bucket(
    app: httpx.AsyncClient, seeded_pool: asyncpg.Pool
) -> None:
    # given a partner that manages accounts, and two of its tokens with other subjects
    partner = await seeded_pool.fetchval(
        "SELECT partner_id FROM accounts WHERE partner_id IS NOT NULL"
        " GROUP BY partner_id ORDER BY count(*) DESC LIMIT 1"
    )
    query = "{ viewer { partner { accounts(first: 40) { nodes { id } } } } }"

    async def spend(subject: str) -> dict[str, int]:
        token = make_token("partner", partner=partner, subject=subject)
        headers = {"Authorization": f"Bearer {token}"}
        body = (await app.post("/graphql", json={"query": query}, headers=headers)).json()
        return {
            "spent": body["extensions"]["cost"]["actualQueryCost"],
            "left": body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        }

    # when each token spends once
    first = await spend("integration-a")
    second = await spend("integration-b")

    # then the second token's bucket already lacks what the first one spent
    assert first["spent"] >= 4
    assert second["left"] <= 100 - first["spent"] - second["spent"] + 1


@pytest.mark.skipif(redis_url() is None, reason="no Redis: set REDIS_URL or run one locally")
def test_two_gateway_processes_share_one_bucket_in_redis(database_url: str, tmp_path: Path) -> None:
    url = redis_url()
    assert url is not None
    env = {
        **SMALL_BUCKET,
        "DATABASE_URL": database_url,
        "REDIS_URL": url,
        "BILLING_REDIS_PREFIX": f"test:{secrets.token_hex(6)}:",
    }
    headers = bearer("shared-subject")
    with gateway(env, tmp_path / "one.log") as one, gateway(env, tmp_path / "two.log") as two:
        first = httpx.post(one.url + "/graphql", json={"query": PAGE}, headers=headers)
        second = httpx.post(two.url + "/graphql", json={"query": PAGE}, headers=headers)
        third = httpx.post(one.url + "/graphql", json={"query": PAGE}, headers=headers)

    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429  # alone, process one would still hold 59 points
    assert third.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_redis_outage_lets_requests_through_logged_and_counted(
    database_url: str, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    env = {**SMALL_BUCKET, "REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens there
    async with serving(database_url, clock, env) as client:
        with caplog.at_level(logging.WARNING, logger="billing.ratelimit"):
            responses = [await ask(client, "outage") for _ in range(3)]
        metrics = (await client.get("/metrics")).text

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert any("Redis unreachable" in r.message for r in caplog.records)
    assert "billing_rate_limit_redis_failures_total" in metrics
