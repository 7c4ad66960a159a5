"""Usage, read from the hourly rollup (never from raw events), scoped to reach."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

from loaders.base import Loader, Row, group
from loaders.reach import in_reach

# key: (account, meter, from, to, unit). One statement for every key of the batch; the
# hours are rolled into UTC buckets of `unit` (hour, day, month) by PostgreSQL, so a
# month of hours arrives as 30 rows, not 720. LATERAL: each key is its own range probe
# of the rollup's primary key, whatever the planner thinks of the table's size.
BUCKETS: Final = f"""
SELECT k.n, b.bucket, b.quantity_sum, b.quantity_max
  FROM unnest($1::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[])
       WITH ORDINALITY AS k(account_id, meter_id, from_ts, to_ts, unit, n)
 CROSS JOIN LATERAL (
       SELECT date_trunc(k.unit, h.hour, 'UTC') AS bucket,
              sum(h.quantity_sum) AS quantity_sum, max(h.quantity_max) AS quantity_max
         FROM usage_hourly h
        WHERE h.account_id = k.account_id AND h.meter_id = k.meter_id
          AND h.hour >= k.from_ts AND h.hour < k.to_ts
        GROUP BY 1) b
 WHERE {in_reach("k.account_id", 2)}
 ORDER BY k.n, b.bucket"""

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
BucketKey = tuple[str, str, datetime, datetime, str]  # unit: hour, day or month


class _UsageLoader(Loader):
    sql: str

    async def _fetch(self, keys: Sequence[UsageKey] | Sequence[BucketKey]) -> list[Row]:
        columns = list(zip(*keys, strict=True))
        return await self.fetch(self.sql, list(columns[0]), *(list(c) for c in columns[1:]))


class UsageBucketLoader(_UsageLoader):
    """key: (account, meter, from, to, unit) → rows (bucket, quantity_sum, quantity_max)
    of the buckets that have usage, in order."""

    sql = BUCKETS

    async def batch_load_fn(self, keys: Sequence[BucketKey]) -> list[list[Row]]:
        rows = group(await self._fetch(keys), "n")
        return [rows.get(n, []) for n in range(1, len(keys) + 1)]


class UsageTotalLoader(_UsageLoader):
    """key: (account, meter, from, to) → (sum, max) over the range's hours."""

    sql = TOTALS

    async def batch_load_fn(self, keys: Sequence[UsageKey]) -> list[tuple[Decimal, Decimal]]:
        found = {r["n"]: (r["quantity_sum"], r["quantity_max"]) for r in await self._fetch(keys)}
        zero = (Decimal(0), Decimal(0))
        return [found.get(n, zero) for n in range(1, len(keys) + 1)]
