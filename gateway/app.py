"""The ASGI application: routes, lifespan (pool, verifier, buckets, caches) and
the probes. The GraphQL endpoint itself is gateway/gate.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Final

import asyncpg
import strawberry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.tokens import TokenVerifier
from gateway import graphiql, metrics, ratelimit, tracing
from gateway import response_cache as rc
from gateway.clock import Clock
from gateway.documents import Documents
from gateway.errors import DATABASE_DOWN, error_body
from gateway.gate import GraphQLGate, Services
from gateway.middleware import HttpBasics, request_id
from gateway.persisted import MemoryStore, PersistedQueries, QueryStore, RedisStore, load_allow_list
from gateway.settings import ConfigError, Settings
from loaders.catalog import CatalogCache
from resolvers.currencies import MINOR_UNITS
from schema import schema as default_schema

log = logging.getLogger("billing.app")

PROBE: Final = "SELECT 1"
CURRENCIES: Final = "SELECT code, minor_units FROM currencies"


def create_app(
    settings: Settings, clock: Clock | None = None, schema: strawberry.Schema | None = None
) -> Starlette:
    """The gateway's ASGI app; billing time comes from `clock` (default: the settings')."""
    used = schema or default_schema
    gate = GraphQLGate(settings, clock or settings.clock(), used)
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", gate, methods=["GET", "POST"]),
    ]
    if settings.metrics_port is None:
        routes.append(Route("/metrics", metrics_endpoint))
    if settings.dev:
        routes.append(Route(graphiql.ASSET_PATH + "{name}", graphiql.asset))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(HttpBasics, cors_origins=settings.cors_origins)],
        lifespan=lambda app: lifespan(app, settings, used),
        exception_handlers={HTTPException: http_error},  # type: ignore[dict-item]
    )
    app.state.clock = gate.clock
    return app


@asynccontextmanager
async def lifespan(
    app: Starlette, settings: Settings, schema: strawberry.Schema
) -> AsyncIterator[None]:
    assert settings.database_url, "serve resolves the database before the app starts"
    tracing.setup()
    verifier = await _verifier(settings)
    pool = await _pool(settings)
    buckets = ratelimit.buckets(
        settings.redis_url, settings.rate_capacity, settings.rate_restore, settings.redis_prefix
    )
    app.state.services = Services(
        pool=pool,
        verifier=verifier,
        buckets=buckets,
        persisted=PersistedQueries(_store(settings, buckets), _allow_list(settings)),
        documents=Documents(schema._schema, settings.limits),
        catalog=CatalogCache(settings.database_url),
        cache=_response_cache(settings, buckets),
    )
    app.state.probe = ReadyProbe(pool, settings.timeouts.ready)
    await _check_currencies(pool, settings.database_url, settings.timeouts.ready)
    await app.state.services.catalog.start()
    try:
        yield
    finally:
        await app.state.services.catalog.stop()
        await buckets.close()
        await _close_pool(pool, settings.timeouts.shutdown)


async def _check_currencies(pool: asyncpg.Pool, dsn: str, within: float) -> None:
    """Python bills with resolvers.currencies; the database refuses any currency not in
    its own table. Both must be the same list, or amounts could be refused or mis-rounded.
    A database that cannot answer now is checked by the next start (the gateway starts
    while it is down, and /readyz says so)."""
    try:  # on a connection of its own: the pool opens connections for requests only
        async with asyncio.timeout(within):
            conn = await asyncpg.connect(dsn)
            try:
                rows = await conn.fetch(CURRENCIES)
            finally:
                await conn.close()
    except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
        log.warning("currencies not checked: %s", exc or type(exc).__name__)
        return
    if {r["code"]: r["minor_units"] for r in rows} != dict(MINOR_UNITS):
        await pool.close()
        raise ConfigError(
            "the database's currencies differ from resolvers/currencies.py;"
            " apply the migrations that match this version (`billing-gateway migrate`)"
        )


async def _pool(settings: Settings) -> asyncpg.Pool:
    timeouts = settings.timeouts
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=0,  # starts while the database is down; /readyz says so
        max_size=settings.pool_size,
        timeout=timeouts.acquire,  # connecting
        command_timeout=timeouts.statement + 1,
        server_settings={
            "statement_timeout": str(int(timeouts.statement * 1000)),
            "application_name": "billing-gateway",
            # Requests run short statements; PostgreSQL's JIT, which starts above a cost
            # estimate, spent ~380 ms compiling a 10 ms page statement over 250 invoices.
            "jit": "off",
        },
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Released connections skip asyncpg's reset round trip (advisory unlock, CLOSE ALL,
    UNLISTEN *, RESET ALL: one statement per request). Safe because requests leave no
    session state behind: settings are given at connect, the only locks are
    transaction-scoped (`pg_try_advisory_xact_lock`), listeners and migrations use
    connections of their own, and asyncpg still rolls back an open transaction first."""


async def _close_pool(pool: asyncpg.Pool, within: float) -> None:
    try:
        await asyncio.wait_for(pool.close(), within)
    except TimeoutError:
        pool.terminate()


def _store(settings: Settings, buckets: ratelimit.Buckets) -> QueryStore:
    if isinstance(buckets, ratelimit.RedisBuckets):
        return RedisStore(buckets.redis, settings.redis_prefix)
    return MemoryStore()


def _response_cache(settings: Settings, buckets: ratelimit.Buckets) -> rc.ResponseCache | None:
    """Redis through the client the rate limiter holds (REDIS_URL); memory otherwise."""
    redis = buckets.redis if isinstance(buckets, ratelimit.RedisBuckets) else None
    return rc.make(settings.response_cache, redis, settings.redis_prefix)


def _allow_list(settings: Settings) -> dict[str, str] | None:
    if settings.persisted_queries_dir is None:
        return None
    documents = load_allow_list(settings.persisted_queries_dir)
    log.info("allow-list mode: %d registered documents", len(documents) // 2)
    return documents


async def _verifier(settings: Settings) -> TokenVerifier:
    verifier = TokenVerifier(settings.auth())
    if verifier.key_source is not None:
        # Read the JWKS now so a wrong URL shows at start-up, not on the first request.
        await asyncio.to_thread(verifier.key_source.load)
    return verifier


class ReadyProbe:
    """`SELECT 1` within `timeout`, whatever the database does: a probe that hangs
    (a frozen network) is left to finish in the background, and answers later."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout
        self._task: asyncio.Task[bool] | None = None

    async def ready(self) -> bool:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._ping())
        done, _ = await asyncio.wait({self._task}, timeout=self.timeout)
        metrics.observe_pool(self.pool.get_size(), self.pool.get_idle_size())
        return bool(done) and self._task.result()

    async def _ping(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout * 3):
                conn = await self.pool.acquire(timeout=self.timeout)
                try:
                    await conn.fetchval(PROBE, timeout=self.timeout)
                except BaseException:
                    conn.terminate()
                    raise
                finally:
                    with suppress(*DATABASE_DOWN):
                        await self.pool.release(conn)
        except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
            log.warning("not ready: %s", exc or type(exc).__name__)
            return False
        return True


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    if await request.app.state.probe.ready():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable"}, status_code=503)


async def metrics_endpoint(request: Request) -> Response:
    body, media_type = metrics.exposition()
    return Response(body, media_type=media_type)


async def http_error(request: Request, exc: HTTPException) -> Response:
    codes = {404: "NOT_FOUND", 405: "BAD_USER_INPUT"}
    code = codes.get(exc.status_code, "BAD_USER_INPUT")
    body = error_body(code, str(exc.detail), request_id(request.scope))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
