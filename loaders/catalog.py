"""The plan catalog: plans, meters, features, usage prices with their tiers, and
plan entitlements. It is small and public to every valid token, so a request reads
all of it in one statement, on first use, and every lookup is served from that."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

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
          FROM plan_entitlements e) AS plan_entitlements"""


@dataclass(frozen=True)
class Catalog:
    plans: Sequence[Row]
    meters: Sequence[Row]
    features: Sequence[Row]
    usage_prices: dict[str, list[Row]] = field(default_factory=dict)  # by plan id
    tiers: dict[str, list[Row]] = field(default_factory=dict)  # by usage price id
    entitlements: dict[str, list[Row]] = field(default_factory=dict)  # by plan id

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
    """The request's one read of the catalog, shared by every resolver that asks."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._task: asyncio.Task[Catalog] | None = None

    async def get(self) -> Catalog:
        if self._task is None:
            self._task = asyncio.ensure_future(self._read())
        return await self._task

    async def _read(self) -> Catalog:
        return await read_catalog(self.db.fetchrow)


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
    )
