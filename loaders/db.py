"""The one door to PostgreSQL for a request: one pooled connection, acquired on the
first statement and released once at the end (pool.fetch() would reset the
connection after every call), with a statement count and the size of every
dataloader batch for tests and metrics.

Waiting is bounded: a connection that is not lent within `acquire_timeout`
raises TimeoutError (the gateway answers SERVICE_UNAVAILABLE), and a request
that failed hands its connection back closed, never to be reset over a network
that may no longer answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy


class Db:
    def __init__(
        self, pool: asyncpg.Pool, *, timeout: float = 10.0, acquire_timeout: float | None = None
    ) -> None:
        self._pool = pool
        self._conn: PoolConnectionProxy | None = None
        # Loaders of one request dispatch together; a connection runs one statement at a time.
        self._lock = asyncio.Lock()
        self._timeout = timeout
        self._acquire_timeout = timeout if acquire_timeout is None else acquire_timeout
        self.statements = 0
        self._closed = False
        self.batches: list[tuple[str, int]] = []

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self._lock:
            conn = await self._connection()
            self.statements += 1
            return await conn.fetch(sql, *args, timeout=self._timeout)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        async with self._lock:
            conn = await self._connection()
            self.statements += 1
            await conn.executemany(sql, args, timeout=self._timeout)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PoolConnectionProxy]:
        """The request's connection inside a transaction, for a mutation's writes. Nothing
        else of the request runs on it meanwhile (a loader would wait for the commit)."""
        async with self._lock:
            conn = await self._connection()
            self.statements += 1  # the transaction's statements are not counted one by one
            async with conn.transaction():
                yield conn

    def batched(self, loader: str, keys: int) -> None:
        self.batches.append((loader, keys))

    async def _connection(self) -> PoolConnectionProxy:
        if self._closed:
            raise asyncpg.InterfaceError("the request is over: its connection was released")
        if self._conn is None:
            self._conn = await self._pool.acquire(timeout=self._acquire_timeout)
        return self._conn

    async def close(self, *, broken: bool = False) -> None:
        """Release the connection once the statement in flight (if any) is done; a task
        still running after the request ended can no longer take one. `broken` (the
        request failed or timed out) closes it first, so the pool replaces it instead
        of resetting a possibly stuck one."""
        if broken and self._conn is not None:
            with suppress(asyncpg.InterfaceError):  # already released by a failed close
                self._conn.terminate()
        async with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                await self._pool.release(conn)
