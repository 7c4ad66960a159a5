"""Honest failures (issue acceptance 6): with the database stopped under a running
gateway (through a TCP proxy the test controls) every role gets SERVICE_UNAVAILABLE
(HTTP 503) within 3 s, /readyz says 503 within 3 s even when the database is frozen
(connections accepted, never answered), and service comes back with no restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from conftest import make_token, serving
from pgproxy import PgProxy

from gateway.clock import FixedClock

PROMPTLY = 3.0


@dataclass
class Rig:
    proxy: PgProxy
    client: httpx.AsyncClient
    tokens: dict[str, tuple[str, str]]  # role → (token, a query that needs the database)


@pytest.fixture
async def rig(
    database_url: str, clock: FixedClock, seeded_pool: asyncpg.Pool
) -> AsyncIterator[Rig]:
    account = await seeded_pool.fetchval("SELECT id FROM accounts ORDER BY id LIMIT 1")
    partner = await seeded_pool.fetchval("SELECT id FROM partners ORDER BY id LIMIT 1")
    tokens = {
        "admin": (make_token("admin"), "{ accounts(first: 1) { totalCount } }"),
        "customer": (
            make_token("customer", accounts=[account]),
            f'{{ account(id: "{account}") {{ name }} }}',
        ),
        "partner": (make_token("partner", partner=partner), "{ viewer { accountCount } }"),
    }
    proxy = PgProxy(database_url)
    await proxy.start()
    async with serving(proxy.dsn, clock) as client:
        yield Rig(proxy, client, tokens)
    proxy.thaw()
    await proxy.cut()


async def ask(rig: Rig, role: str) -> tuple[httpx.Response, float]:
    token, query = rig.tokens[role]
    started = time.monotonic()
    response = await rig.client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    return response, time.monotonic() - started


async def ready(rig: Rig) -> tuple[int, float]:
    started = time.monotonic()
    response = await rig.client.get("/readyz")
    return response.status_code, time.monotonic() - started


async def until_served(rig: Rig, role: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        response, _ = await ask(rig, role)
        if response.status_code == 200 and "errors" not in response.json():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{role} was not served again within {within} s")


async def test_a_stopped_database_is_503_for_every_role_and_recovers(rig: Rig) -> None:
    for role in rig.tokens:
        response, _ = await ask(rig, role)
        assert response.status_code == 200, response.text

    await rig.proxy.cut()

    for role in rig.tokens:
        response, took = await ask(rig, role)
        assert response.status_code == 503, (role, response.text)
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert error["extensions"]["requestId"] == response.headers["x-request-id"]
        assert "data" not in response.json()
        assert response.json()["extensions"]["cost"]["actualQueryCost"] == 0
        assert took < PROMPTLY, (role, took)
    status, took = await ready(rig)
    assert (status, took < PROMPTLY) == (503, True)

    await rig.proxy.start()

    for role in rig.tokens:
        await until_served(rig, role, within=10)
    assert (await ready(rig))[0] == 200


async def test_readyz_answers_503_within_its_timeout_when_the_database_is_frozen(
    rig: Rig,
) -> None:
    assert (await ready(rig))[0] == 200

    rig.proxy.freeze()
    answers = [await ready(rig) for _ in range(3)]

    assert all(status == 503 for status, _ in answers), answers
    assert all(took < PROMPTLY for _, took in answers), answers
    rig.proxy.thaw()
    deadline = time.monotonic() + 15
    while (await ready(rig))[0] != 200:
        assert time.monotonic() < deadline, "not ready again after the freeze"
        await asyncio.sleep(0.2)


async def test_a_request_past_its_deadline_answers_timeout(
    database_url: str, clock: FixedClock
) -> None:
    proxy = PgProxy(database_url)
    await proxy.start()
    env = {"BILLING_ENV": "dev", "BILLING_REQUEST_TIMEOUT": "1"}
    headers = {"Authorization": f"Bearer {make_token('admin')}"}
    query = {"query": "{ accounts(first: 1) { totalCount } }"}
    try:
        async with serving(proxy.dsn, clock, env) as client:
            assert (await client.post("/graphql", json=query, headers=headers)).status_code == 200
            proxy.freeze()  # the pooled connection sends its statement and hears nothing

            started = time.monotonic()
            response = await client.post("/graphql", json=query, headers=headers)
            took = time.monotonic() - started

            assert response.status_code == 504
            assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
            assert 1 <= took < PROMPTLY
            proxy.thaw()
            recovered = await client.post("/graphql", json=query, headers=headers)
            assert recovered.status_code == 200
    finally:
        proxy.thaw()
        await proxy.cut()


async def test_an_exhausted_pool_answers_503_after_its_bounded_wait(
    database_url: str, clock: FixedClock
) -> None:
    proxy = PgProxy(database_url)
    await proxy.start()
    env = {"BILLING_ENV": "dev", "BILLING_DB_POOL_SIZE": "1", "BILLING_DB_ACQUIRE_TIMEOUT": "0.5"}
    headers = {"Authorization": f"Bearer {make_token('admin')}"}
    query = {"query": "{ accounts(first: 1) { totalCount } }"}
    try:
        async with serving(proxy.dsn, clock, env) as client:
            assert (await client.post("/graphql", json=query, headers=headers)).status_code == 200
            proxy.freeze()  # the pool's one connection is now stuck in a request
            stuck = asyncio.create_task(client.post("/graphql", json=query, headers=headers))
            await asyncio.sleep(0.3)

            started = time.monotonic()
            response = await client.post("/graphql", json=query, headers=headers)
            took = time.monotonic() - started

            assert response.status_code == 503
            assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert took < PROMPTLY
            proxy.thaw()
            assert (await stuck).status_code == 200
    finally:
        proxy.thaw()
        await proxy.cut()


async def test_pooled_connections_carry_a_statement_timeout_and_no_jit(
    client: httpx.AsyncClient,
) -> None:
    pool = client.app.state.services.pool  # type: ignore[attr-defined]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW statement_timeout") == "5s"
        assert await conn.fetchval("SHOW jit") == "off"
