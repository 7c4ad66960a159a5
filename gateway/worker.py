"""The billing engine's loop (`billing-gateway worker`, or in-process under `serve`).

Each run reads the clock once and catches up to that instant: usage partitions
ahead of time, every due period boundary in time order (one transaction each), then
grant expiries. Any number of workers may run against one database: each boundary is
claimed under a row lock (SKIP LOCKED), so they share the work and never repeat it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import Counter
from typing import Final

import asyncpg

from gateway import metrics
from gateway.clock import Clock
from loaders import idempotency
from loaders.catalog import read_catalog
from resolvers import engine
from resolvers.engine import Action

log = logging.getLogger("billing.engine")

DEFAULT_INTERVAL: Final = 30.0


def _record(action: Action) -> None:
    metrics.ENGINE_ACTIONS.labels(action=action.kind).inc()
    log.info(
        "%s %s (account %s): %s", action.kind, action.object_id, action.account_id, action.detail
    )


async def run_once(pool: asyncpg.Pool, clock: Clock) -> Counter[str]:
    """Catch up to the clock's now; returns how many of each action were taken."""
    now = clock.now()
    done: Counter[str] = Counter()
    # One connection for the whole run: a pool reset per boundary would double its cost.
    async with pool.acquire() as conn:
        created = await engine.ensure_partitions(conn, now)
        if created:
            _record(Action("partitions_created", "-", "usage_events", f"{created} month(s)"))
            done["partitions_created"] += created
        catalog = await read_catalog(conn.fetchrow)
        while (action := await engine.process_next_due(conn, catalog, now)) is not None:
            _record(action)
            done[action.kind] += 1
        while expired := await engine.expire_grants(conn, now):
            for action in expired:
                _record(action)
                done[action.kind] += 1
        if forgotten := await idempotency.forget_before(conn, now):
            _record(Action("keys_forgotten", "-", "mutation_requests", f"{forgotten} key(s)"))
            done["keys_forgotten"] += forgotten
    return done


async def run_forever(
    pool: asyncpg.Pool, clock: Clock, stop: asyncio.Event, interval: float = DEFAULT_INTERVAL
) -> None:
    """Run every `interval` seconds until `stop` is set; a failed run is logged and
    retried at the next interval (its transaction rolled back, nothing half-done)."""
    while not stop.is_set():
        try:
            await run_once(pool, clock)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.exception("engine run failed; retrying in %.0f s", interval)
            metrics.ENGINE_FAILURES.inc()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def work(
    dsn: str, clock: Clock, *, once: bool, interval: float = DEFAULT_INTERVAL
) -> Counter[str]:
    """The `worker` command: one catch-up (`once`) or the loop until cancelled."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        if once:
            return await run_once(pool, clock)
        await run_forever(pool, clock, asyncio.Event(), interval)
        return Counter()
    finally:
        await pool.close()


class EngineThread:
    """The engine beside `serve`, in a thread of its own with its own event loop, so
    the demo stays current whatever the number of server workers."""

    def __init__(self, dsn: str, clock: Clock, interval: float = DEFAULT_INTERVAL) -> None:
        self._dsn, self._clock, self._interval = dsn, clock, interval
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="billing-engine", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=2)
        try:
            await run_forever(pool, self._clock, self._stop, self._interval)
        finally:
            await pool.close()
