"""Shared fixtures: a real PostgreSQL (embedded, or TEST_DATABASE_URL's server) with a
fresh database per test run, migrated and seeded once; the ASGI app driven over
HTTP by httpx; tokens minted like the CLI mints them.

Isolation: the seeded data is read-only for tests; a test that writes creates
its own accounts (ids unique to it) or its own database (`fresh_database`)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from auth.scopes import ALL_SCOPES
from auth.tokens import mint
from gateway import migrate
from gateway.app import create_app
from gateway.clock import Clock, FixedClock
from gateway.settings import DEV_SECRET, load

SEED_AS_OF = datetime(2026, 11, 15, tzinfo=UTC)
SEED_ACCOUNTS = 50
# Time-dependent tests run at the seed's date and well after it, with no engine run
# in between: reads must derive the current period from the clock, whatever the date.
LATER_DAYS = (0, 40, 400)
# The shared test apps read whole seeded databases in one query, many times over,
# as one subject: their cost limit and rate-limit bucket are out of the way (the
# bucket always full, so responses compare byte for byte). The limits have their
# own tests on apps with the default settings (tests/test_limits.py and others).
UNTHROTTLED = {
    # The executors are compared on every query: the response cache would answer the
    # repeats without either (it has its own tests, tests/test_response_cache.py).
    "BILLING_RESPONSE_CACHE": "off",
    # Every query of the suite runs through both executors, which must answer alike
    # (`TEST_EXECUTOR=planned` runs the production executor alone: CI's second pass).
    "BILLING_EXECUTOR": os.environ.get("TEST_EXECUTOR", "compare"),
    "BILLING_MAX_COST": "100000000",
    "BILLING_RATE_LIMIT_CAPACITY": "1000000000",
    "BILLING_RATE_LIMIT_RESTORE": "1000000000",
}


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server we may create databases on (its maintenance database's DSN)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    from gateway import embedded

    server = embedded.start(tmp_path_factory.mktemp("pgdata"))
    yield embedded.dsn(server)
    server.cleanup()


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
async def create_database(server_url: str) -> AsyncIterator[Callable[[], Any]]:
    """Factory of fresh databases, empty or copies of another (`template`: a database
    of this run nobody is connected to); all are dropped at the end of the run."""
    made: list[str] = []

    async def create(template: str | None = None) -> str:
        name = f"bg_test_{secrets.token_hex(6)}"
        copy = "" if template is None else f' TEMPLATE "{urlsplit(template).path.lstrip("/")}"'
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"{copy}')
        finally:
            await conn.close()
        made.append(name)
        return _with_database(server_url, name)

    yield create
    conn = await asyncpg.connect(server_url)
    try:
        for name in made:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def fresh_database(create_database: Callable[[], Any]) -> str:
    return str(await create_database())


async def _seeded_database(create_database: Callable[[], Any]) -> str:
    from gateway.seed import seed

    dsn = str(await create_database())
    await migrate.migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await seed(conn, accounts=SEED_ACCOUNTS, seed=1, as_of=SEED_AS_OF)
    finally:
        await conn.close()
    return dsn


@pytest.fixture(scope="session")
async def database_url(create_database: Callable[[], Any]) -> str:
    """The run's read-only database: seeded once (accounts=50, seed=1, as_of=SEED_AS_OF)."""
    return await _seeded_database(create_database)


@pytest.fixture(scope="session")
async def seeded_template(create_database: Callable[[], Any]) -> str:
    """A seeded database nobody connects to: `create_database(seeded_template)` copies it
    for a test that lets the billing engine write."""
    return await _seeded_database(create_database)


@pytest.fixture(scope="session")
async def scratch_url(create_database: Callable[[], Any]) -> str:
    """A second seeded database for tests that write: builders and mutations add
    rows here, so counts over the read-only one stay exact."""
    return await _seeded_database(create_database)


@pytest.fixture(scope="session")
async def seeded_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def db_pool(seeded_pool: asyncpg.Pool) -> asyncpg.Pool:
    return seeded_pool


@pytest.fixture(scope="session")
async def scratch_pool(scratch_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(scratch_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def clock() -> FixedClock:
    """The billing clock of every app the tests serve: pinned, at the seed's date."""
    return FixedClock(SEED_AS_OF)


@pytest.fixture(params=LATER_DAYS, ids=[f"seed+{d}d" for d in LATER_DAYS])
def instant(request: pytest.FixtureRequest, clock: FixedClock) -> Iterator[datetime]:
    """Runs the test at the seed's date, then 40 and 400 days later (the clock pinned)."""
    at = SEED_AS_OF + timedelta(days=request.param)
    clock.set(at)
    yield at
    clock.set(SEED_AS_OF)


@pytest.fixture
def at(clock: FixedClock) -> Iterator[FixedClock]:
    """The apps' clock, for a test that moves it; put back after the test."""
    before = clock.now()
    yield clock
    clock.set(before)


@asynccontextmanager
async def serving(
    database: str, clock: Clock, env: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The ASGI app over `database`, under its lifespan, with an HTTP client on it.
    `env` replaces the shared apps' settings (None: dev, cost and bucket out of the way)."""
    chosen = {"BILLING_ENV": "dev", **UNTHROTTLED} if env is None else env
    application = create_app(load({"DATABASE_URL": database, **chosen}), clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
            c.app = application  # type: ignore[attr-defined]
            yield c


@pytest.fixture(scope="session")
async def client(database_url: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(database_url, clock) as c:
        yield c


@pytest.fixture(scope="session")
def app(client: httpx.AsyncClient) -> Any:
    return client.app  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
async def scratch_client(scratch_url: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(scratch_url, clock) as c:
        yield c


def make_token(
    role: str = "admin",
    accounts: list[str] | None = None,
    partner: str | None = None,
    scopes: list[str] | None = None,
    ttl: int = 600,
    subject: str | None = None,
) -> str:
    return mint(
        DEV_SECRET,
        role=role,
        accounts=accounts or [],
        partner=partner,
        scopes=sorted(ALL_SCOPES) if scopes is None else scopes,
        ttl_seconds=ttl,
        subject=subject,
    )


class Gql:
    """Posts GraphQL documents to the app as a given token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, query: str, token: str | None, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # ASCII JSON: a lone surrogate in a test's input travels as its \u escape.
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        return await self.client.post("/graphql", content=body, headers=headers)


@pytest.fixture(scope="session")
def gql(client: httpx.AsyncClient) -> Gql:
    return Gql(client)


@pytest.fixture(scope="session")
def scratch_gql(scratch_client: httpx.AsyncClient) -> Gql:
    return Gql(scratch_client)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
