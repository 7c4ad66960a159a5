"""The plan catalog: plans, meters, features, usage prices with their tiers, and
plan entitlements. It is small, public to every valid token and rarely changes: a
process keeps one copy until PostgreSQL says it changed (`CatalogCache`); without a
current copy a request reads all of it in one statement, on first use."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

import asyncpg

from loaders.base import Row, group
from loaders.db import Db

# One row of arrays of table rows: asyncpg decodes each element as a Record with
# the table's column names.
CATALOG: Final = """
SELECT (SELECT array_agg(p ORDER BY p.kind, p.currency, p.amount, p.code) FROM plans p) AS plans,
       (SELECT array_agg(m ORDER BY m.key) FROM meters m) AS meters,
       (SELECT array_agg(f ORDER BY f.key) FROM features f) AS features,
       (SELECT array_agg(u ORDER BY u.plan_id, u.id) FROM usage_prices u) AS usage_prices,
       (SELECT array_agg(t ORDER BY t.usage_price_id, t.position)
          FROM usage_price_tiers t) AS tiers,
       (SELECT array_agg(e ORDER BY e.plan_id, e.feature_id)
          FROM plan_entitlements e) AS plan_entitlements,
       (SELECT version FROM catalog_version) AS version"""


@dataclass(frozen=True)
class Catalog:
    plans: Sequence[Row]
    meters: Sequence[Row]
    features: Sequence[Row]
    usage_prices: dict[str, list[Row]] = field(default_factory=dict)  # by plan id
    tiers: dict[str, list[Row]] = field(default_factory=dict)  # by usage price id
    entitlements: dict[str, list[Row]] = field(default_factory=dict)  # by plan id
    version: int = 0  # catalog_version as this copy was read (0: not read from a database)

    # Indexes built once per request, not per lookup; one per table, so an id can
    # only ever find a row of the table it is asked of.
    @cached_property
    def _ids(self) -> dict[str, dict[str, Row]]:
        return {t: {r["id"]: r for r in getattr(self, t)} for t in ("plans", "meters", "features")}

    @cached_property
    def _keys(self) -> dict[str, dict[str, Row]]:
        return {t: {r["key"]: r for r in getattr(self, t)} for t in ("meters", "features")}

    def by_id(self, table: str) -> dict[str, Row]:
        return self._ids[table]

    def by_key(self, table: str) -> dict[str, Row]:
        return self._keys[table]


class CatalogLoader:
    """The request's catalog: the process's copy when it has a current one, else one
    read shared by every resolver of the request that asks."""

    def __init__(self, db: Db, cache: CatalogCache | None = None) -> None:
        self.db = db
        self.cache = cache
        self._task: asyncio.Task[Catalog] | None = None

    async def get(self) -> Catalog:
        if self.cache is not None and (cached := self.cache.current()) is not None:
            return cached
        if self._task is None:
            self._task = asyncio.ensure_future(self._read())
        return await self._task

    async def fresh(self) -> Catalog:
        """Read now, whatever is cached: writes decide on the catalog as committed."""
        return await read_catalog(self.db.fetchrow)

    async def _read(self) -> Catalog:
        generation = None if self.cache is None else self.cache.generation
        catalog = await read_catalog(self.db.fetchrow)
        if self.cache is not None and generation is not None:
            self.cache.keep(catalog, generation)
        return catalog


class CatalogCache:
    """The process's copy of the catalog, dropped whenever PostgreSQL notifies
    `catalog_changed` (migration 0007). Without a live listening connection nothing is
    kept, and each request reads the catalog itself."""

    CHANNEL: Final = "catalog_changed"
    RETRY_SECONDS: Final = 1.0

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._catalog: Catalog | None = None
        self.generation = 0  # bumped on every notification: a read older than it is stale
        self._closing = False

    def current(self) -> Catalog | None:
        return self._catalog if self._conn is not None else None

    def require(self, version: int) -> None:
        """Drop a copy older than `version` (seen by the response cache's stamp) though
        its notification has not arrived yet: an answer kept under that stamp must not
        be built from the older catalog. Reads begun before now are not kept either."""
        if self._catalog is not None and self._catalog.version < version:
            self._changed()

    def keep(self, catalog: Catalog, generation: int) -> None:
        if self._conn is not None and generation == self.generation:
            self._catalog = catalog

    async def start(self) -> None:
        try:
            conn = await asyncpg.connect(self._dsn, timeout=5)
            await conn.add_listener(self.CHANNEL, self._changed)
            conn.add_termination_listener(self._lost)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self._retry()
            return
        self._conn = conn

    async def stop(self) -> None:
        self._closing = True
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    def _changed(self, *_: object) -> None:
        self.generation += 1
        self._catalog = None

    def _lost(self, *_: object) -> None:
        self._conn, self._catalog = None, None
        self.generation += 1
        self._retry()

    def _retry(self) -> None:
        if not self._closing:
            asyncio.get_running_loop().call_later(
                self.RETRY_SECONDS, lambda: asyncio.ensure_future(self.start())
            )


async def read_catalog(fetchrow: Callable[[str], Awaitable[Row | None]]) -> Catalog:
    """The whole catalog in one statement, through a request's Db or a connection."""
    row = await fetchrow(CATALOG)
    assert row is not None
    return Catalog(
        plans=row["plans"] or [],
        meters=row["meters"] or [],
        features=row["features"] or [],
        usage_prices=group(row["usage_prices"] or [], "plan_id"),
        tiers=group(row["tiers"] or [], "usage_price_id"),
        entitlements=group(row["plan_entitlements"] or [], "plan_id"),
        version=row["version"],
    )
