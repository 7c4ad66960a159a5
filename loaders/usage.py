"""Usage, read from the hourly rollup (never from raw events), scoped to reach."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

from loaders.base import Loader, Row, group
from loaders.reach import in_reach

# key: (account, meter, from, to). One statement for every key of the batch.
HOURLY: Final = f"""
SELECT k.n, h.hour, h.quantity_sum, h.quantity_max
  FROM unnest($1::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
       WITH ORDINALITY AS k(account_id, meter_id, from_ts, to_ts, n)
  JOIN usage_hourly h ON h.account_id = k.account_id AND h.meter_id = k.meter_id
   AND h.hour >= k.from_ts AND h.hour < k.to_ts
 WHERE {in_reach("k.account_id", 2)}
 ORDER BY k.n, h.hour"""

TOTALS: Final = f"""
SELECT k.n, coalesce(sum(h.quantity_sum), 0) AS quantity_sum,
       coalesce(max(h.quantity_max), 0) AS quantity_max
  FROM unnest($1::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
       WITH ORDINALITY AS k(account_id, meter_id, from_ts, to_ts, n)
  LEFT JOIN usage_hourly h ON h.account_id = k.account_id AND h.meter_id = k.meter_id
   AND h.hour >= k.from_ts AND h.hour < k.to_ts
 WHERE {in_reach("k.account_id", 2)}
 GROUP BY k.n"""

UsageKey = tuple[str, str, datetime, datetime]


class _UsageLoader(Loader):
    sql: str

    async def _fetch(self, keys: Sequence[UsageKey]) -> list[Row]:
        columns = list(zip(*keys, strict=True))
        return await self.fetch(self.sql, list(columns[0]), *(list(c) for c in columns[1:]))


class HourlyUsageLoader(_UsageLoader):
    """key: (account, meter, from, to) → rollup rows (hour, quantity_sum, quantity_max)."""

    sql = HOURLY

    async def batch_load_fn(self, keys: Sequence[UsageKey]) -> list[list[Row]]:
        rows = group(await self._fetch(keys), "n")
        return [rows.get(n, []) for n in range(1, len(keys) + 1)]


class UsageTotalLoader(_UsageLoader):
    """key: (account, meter, from, to) → (sum, max) over the range's hours."""

    sql = TOTALS

    async def batch_load_fn(self, keys: Sequence[UsageKey]) -> list[tuple[Decimal, Decimal]]:
        found = {r["n"]: (r["quantity_sum"], r["quantity_max"]) for r in await self._fetch(keys)}
        zero = (Decimal(0), Decimal(0))
        return [found.get(n, zero) for n in range(1, len(keys) + 1)]
