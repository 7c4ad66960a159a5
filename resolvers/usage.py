"""Usage series of an account, rolled up from the hourly rollup."""

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
    rows = await ctx.loaders.hourly_usage.load((account_id, meter["id"], start, end))
    column = "quantity_sum" if meter["aggregation"] == "SUM" else "quantity_max"
    hourly = {r["hour"]: r[column] for r in rows}
    starts = bucket_starts(start, end, granularity)
    points, total = fill_series(hourly, starts, granularity, meter["aggregation"])
    return SeriesValue(
        meter, start, end, granularity, quantity(total), [(t, quantity(q)) for t, q in points]
    )
