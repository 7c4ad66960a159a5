"""Usage series of an account, rolled up from the hourly rollup into UTC buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loaders.base import Row
from resolvers import catalog
from resolvers.base import Ctx
from resolvers.buckets import bucket_starts, fill_series, validate_range
from resolvers.errors import BadUserInput
from resolvers.values import quantity


@dataclass(frozen=True)
class SeriesValue:
    meter: Row
    start: datetime
    end: datetime
    granularity: str
    total: Decimal
    points: list[tuple[datetime, Decimal]]


async def usage_series(
    ctx: Ctx, account_id: str, meter_key: str, start: datetime, end: datetime, granularity: str
) -> SeriesValue:
    """[start, end) aligned outward to whole buckets, one point per bucket, empty ones 0."""
    try:
        start, end = validate_range(start, end, granularity)
    except ValueError as exc:
        raise BadUserInput(str(exc)) from None
    meter = await catalog.meter_by_key(ctx, meter_key)
    if meter is None:
        raise BadUserInput(f"Unknown meter {meter_key[:64]!r}.")
    key = (account_id, meter["id"], start, end, granularity.lower())
    rows = await ctx.loaders.usage_buckets.load(key)
    column = "quantity_sum" if meter["aggregation"] == "SUM" else "quantity_max"
    # Rolled up by PostgreSQL already; fill_series adds the empty buckets (and rolls up
    # the same way again, a no-op on bucket starts).
    found = {r["bucket"]: r[column] for r in rows}
    starts = bucket_starts(start, end, granularity)
    points, total = fill_series(found, starts, granularity, meter["aggregation"])
    return SeriesValue(
        meter, start, end, granularity, quantity(total), [(t, quantity(q)) for t, q in points]
    )
