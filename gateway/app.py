"""The ASGI application: routes, lifespan (pool, verifier) and the GraphQL gate."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from auth.principal import Principal, Role
from auth.tokens import TokenError, TokenVerifier, mint
from gateway import metrics
from gateway.clock import Clock
from gateway.errors import error_response
from gateway.graphql import GatewayGraphQL
from gateway.settings import ConfigError, Settings
from loaders import Loaders
from loaders.catalog import CatalogCache
from loaders.db import Db
from loaders.reach import PARTNER_ACCOUNTS, Reach
from resolvers.currencies import MINOR_UNITS
from schema import schema
from schema.context import RequestContext

log = logging.getLogger("billing.app")

READY_TIMEOUT: Final = 2.0
MAX_AUTH_HEADER: Final = 8_192 + len("Bearer ")
DEMO_ACCOUNT: Final = "SELECT id FROM accounts ORDER BY created_at, id LIMIT 1"
CURRENCIES: Final = "SELECT code, minor_units FROM currencies"
BEARER: Final = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    """The gateway's ASGI app; billing time comes from `clock` (default: the settings')."""
    view = GatewayGraphQL(
        schema,
        graphql_ide="graphiql" if settings.dev else None,
        allow_queries_via_get=False,
        expose_statements=settings.dev,
    )
    clock = clock or settings.clock()
    gate = GraphQLGate(view, settings, clock)
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/graphql", gate, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lambda app: lifespan(app, settings))
    app.state.clock = clock
    return app


@asynccontextmanager
async def lifespan(app: Starlette, settings: Settings) -> AsyncIterator[None]:
    assert settings.database_url, "serve resolves the database before the app starts"
    app.state.verifier = await _verifier(settings)
    app.state.pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=10)
    await _check_currencies(app.state.pool)
    app.state.catalog = CatalogCache(settings.database_url)
    await app.state.catalog.start()
    app.state.demo_token = await _demo_token_minter(app.state.pool, settings)
    try:
        yield
    finally:
        await app.state.catalog.stop()
        await app.state.pool.close()


async def _verifier(settings: Settings) -> TokenVerifier:
    verifier = TokenVerifier(settings.auth())
    if verifier.key_source is not None:
        # Read the JWKS now so a wrong URL shows at start-up, not on the first request.
        await asyncio.to_thread(verifier.key_source.load)
    return verifier


async def _check_currencies(pool: asyncpg.Pool) -> None:
    """Python bills with resolvers.currencies; the database refuses any currency not in
    its own table. Both must be the same list, or amounts could be refused or mis-rounded."""
    rows = await pool.fetch(CURRENCIES)
    if {r["code"]: r["minor_units"] for r in rows} != dict(MINOR_UNITS):
        await pool.close()
        raise ConfigError(
            "the database's currencies differ from resolvers/currencies.py;"
            " apply the migrations that match this version (`billing-gateway migrate`)"
        )


async def _demo_token_minter(pool: asyncpg.Pool, settings: Settings) -> Callable[[], str] | None:
    """Dev only: mints GraphiQL's token (a customer of the demo account, 24 h) each time
    the page is served, so a page opened any day after start-up gets a live token."""
    account = await pool.fetchval(DEMO_ACCOUNT) if settings.dev else None
    secret = settings.jwt_secret
    if account is None or secret is None:
        return None
    return lambda: mint(secret, role="customer", accounts=[account], ttl_seconds=86_400)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        pool: asyncpg.Pool = request.app.state.pool
        async with asyncio.timeout(READY_TIMEOUT), pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("not ready: %s", exc)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics_endpoint(request: Request) -> Response:
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class GraphQLGate:
    """Everything that must happen before GraphQL parses a byte: size limits, the
    token (401 without data), the request's reach and its fresh loaders."""

    def __init__(self, view: GatewayGraphQL, settings: Settings, clock: Clock) -> None:
        self.view = view
        self.clock = clock
        self.max_body = settings.max_body_bytes
        self.cursor_secret = settings.cursor_secret
        self.dev = settings.dev

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        if request.method == "GET":  # GraphiQL's page; GET queries are refused by the view
            await self.view(scope, receive, send)
            return
        refusal = self._refuse(request, request_id)
        if refusal is None:
            principal, refusal = await self._verify(request, request_id)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        assert principal is not None
        await self._execute(scope, receive, send, principal, request_id)

    def _refuse(self, request: Request, request_id: str) -> Response | None:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return error_response(413, "BAD_USER_INPUT", "Request body too large.", request_id)
        return None

    async def _verify(
        self, request: Request, request_id: str
    ) -> tuple[Principal | None, Response | None]:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        try:
            if len(header) > MAX_AUTH_HEADER:
                raise TokenError("authorization header too large")
            if scheme.lower() != "bearer" or not token:
                raise TokenError("no bearer token")
            return await request.app.state.verifier.averify(token.strip()), None
        except TokenError as exc:
            log.info("request %s: 401 %s", request_id, exc.reason)
            metrics.AUTH_FAILURES.labels(reason=exc.reason.split(" ")[0]).inc()
            message = "Missing or invalid access token."
            return None, error_response(401, "UNAUTHENTICATED", message, request_id, BEARER)

    async def _execute(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal, request_id: str
    ) -> None:
        db = Db(scope["app"].state.pool)
        started = time.perf_counter()
        try:
            reach = await reach_of(principal, db)
            ctx = RequestContext(
                principal=principal,
                reach=reach,
                db=db,
                loaders=Loaders(db, reach, scope["app"].state.catalog),
                request_id=request_id,
                now=self.clock.now(),
                cursor_secret=self.cursor_secret,
                introspection=self.dev or principal.role is Role.ADMIN,
            )
            scope.setdefault("state", {})["context"] = ctx
            await self.view(
                scope, _limited(receive, self.max_body), _with_request_id(send, request_id)
            )
        finally:
            await db.close()
            metrics.LATENCY.observe(time.perf_counter() - started)
            metrics.STATEMENTS.observe(db.statements)


async def reach_of(principal: Principal, db: Db) -> Reach:
    if principal.role is Role.ADMIN:
        return Reach.all()
    if principal.role is Role.PARTNER:
        rows = await db.fetch(PARTNER_ACCOUNTS, principal.partner)
        return Reach.only([r["id"] for r in rows])
    return Reach.only(list(principal.accounts))


def _limited(receive: Receive, limit: int) -> Receive:
    """A body sent without Content-Length is cut off at the same limit."""
    seen = 0

    async def wrapped() -> Any:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            return {"type": "http.request", "body": b"", "more_body": False}
        return message

    return wrapped


def _with_request_id(send: Send, request_id: str) -> Send:
    async def wrapped(message: Any) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
        await send(message)

    return wrapped
