"""The Python floor: the dashboard documents served with no GraphQL engine at all.

starlette + asyncpg + orjson, one uvicorn worker, like the gateway. The document's text
picks a hand-written answer (bench/floor_core.py, bench/floor_full.py) that runs 2 or 3
SQL statements on one pooled connection and builds plain dicts; orjson writes them. It
verifies the bearer token like the gateway, reads the catalog once at start-up (as the
gateway is meant to) and releases connections without a reset round trip (it leaves
no session state). The bench checks that its `data` equals the gateway's before
measuring either.

    DATABASE_URL=… BILLING_NOW=… uvicorn bench.floor:app
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auth.principal import Role
from auth.tokens import TokenError, TokenVerifier
from bench import documents
from bench.floor_core import Ask, core
from bench.floor_full import full
from gateway.clock import Clock
from gateway.settings import Settings, load
from loaders.base import Row
from loaders.catalog import read_catalog

Answer = Callable[[Any, Ask, dict[str, Any]], Awaitable[dict[str, Any]]]
ANSWERS: Final[dict[str, Answer]] = {documents.CORE: core, documents.FULL: full}


class Counted:
    """A connection that counts its statements, like the gateway's `Db`."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.statements = 0

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        self.statements += 1
        return list(await self.conn.fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        self.statements += 1
        row: Row | None = await self.conn.fetchrow(sql, *args)
        return row


async def _no_reset(conn: object) -> None:
    """The floor runs reads only and leaves no session state: nothing to reset."""


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    assert settings.database_url, "the floor needs DATABASE_URL"
    dsn, billing_clock = settings.database_url, clock or settings.clock()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10, reset=_no_reset)
        async with app.state.pool.acquire() as conn:
            app.state.catalog = await read_catalog(conn.fetchrow)
        app.state.verifier = TokenVerifier(settings.auth())
        try:
            yield
        finally:
            await app.state.pool.close()

    async def graphql(request: Request) -> Response:
        return await answer(request, billing_clock, settings.cursor_secret)

    routes = [Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)]
    return Starlette(routes=routes, lifespan=lifespan)


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def answer(request: Request, clock: Clock, cursor_secret: bytes) -> Response:
    header = request.headers.get("authorization", "")
    try:
        principal = await request.app.state.verifier.averify(header.removeprefix("Bearer "))
    except TokenError:
        return error(401, "UNAUTHENTICATED")
    body = orjson.loads(await request.body())
    build = ANSWERS.get(body.get("query"))
    if build is None or principal.role is Role.PARTNER:
        return error(400, "the floor answers the dashboard documents only")
    reach = None if principal.role is Role.ADMIN else sorted(principal.accounts)
    ask = Ask(request.app.state.catalog, reach, clock.now(), cursor_secret)
    async with request.app.state.pool.acquire() as conn:
        counted = Counted(conn)
        data = await build(counted, ask, body.get("variables") or {})
    extensions = {"sqlStatements": counted.statements}
    return Response(
        orjson.dumps({"data": data, "extensions": extensions}), media_type="application/json"
    )


def error(status: int, message: str) -> Response:
    return Response(
        orjson.dumps({"errors": [{"message": message}]}), status, media_type="application/json"
    )


def app() -> Starlette:
    """uvicorn's factory (`--factory bench.floor:app`): settings from the environment."""
    return create_app(load())
