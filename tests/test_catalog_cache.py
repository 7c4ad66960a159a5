"""The catalog is read once per process and again only after it changes: a request
costs no catalog statement, and a change is seen by the next requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
from conftest import Gql, make_token, serving

from gateway.clock import FixedClock

PLANS = "{ plans { code name } }"


def statements(body: dict[str, object]) -> int:
    extensions = body["extensions"]
    assert isinstance(extensions, dict)
    return int(extensions["sqlStatements"])


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.05)


async def test_a_warm_process_answers_the_catalog_without_sql(gql: Gql) -> None:
    token = make_token("admin")
    await gql(PLANS, token)

    body = (await gql(PLANS, token)).json()

    assert len(body["data"]["plans"]) >= 10
    assert statements(body) == 0


async def test_a_catalog_change_reaches_the_next_requests(
    seeded_template: str, create_database: Callable[..., Awaitable[str]], clock: FixedClock
) -> None:
    dsn = await create_database(seeded_template)
    token = make_token("admin")
    async with serving(dsn, clock) as client:
        gql = Gql(client)
        await gql(PLANS, token)  # the process now holds the catalog
        conn = await asyncpg.connect(dsn)
        try:
            version = await conn.fetchval("SELECT version FROM catalog_version")
            await conn.execute("UPDATE plans SET name = 'Pro Plus' WHERE code = 'pro_monthly_usd'")

            async def renamed() -> bool:
                body = (await gql(PLANS, token)).json()
                return {"code": "pro_monthly_usd", "name": "Pro Plus"} in body["data"]["plans"]

            await until(renamed)
            assert await conn.fetchval("SELECT version FROM catalog_version") == version + 1
        finally:
            await conn.close()


async def test_without_its_listener_a_process_reads_the_catalog_per_request(
    seeded_template: str, create_database: Callable[..., Awaitable[str]], clock: FixedClock
) -> None:
    dsn = await create_database(seeded_template)
    token = make_token("admin")
    async with serving(dsn, clock) as client:
        gql = Gql(client)
        await gql(PLANS, token)
        conn = await asyncpg.connect(dsn)
        try:
            # when the listening connection is cut
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE query LIKE 'LISTEN%' AND datname = current_database()"
            )

            async def reading() -> bool:
                return statements((await gql(PLANS, token)).json()) == 1

            # then requests read the catalog themselves, and answer all the same …
            await until(reading)

            # … until the listener is back and the copy is kept again
            async def cached() -> bool:
                await gql(PLANS, token)
                return statements((await gql(PLANS, token)).json()) == 0

            await until(cached)
        finally:
            await conn.close()
