"""Usage series, read from the hourly rollup."""

from __future__ import annotations

import decimal
from datetime import datetime
from enum import Enum

import strawberry

from resolvers.usage import SeriesValue
from schema.catalog import Meter
from schema.permissions import USAGE_READ, field


@strawberry.enum(description="Bucket width; HOUR ranges ≤ 31 days, DAY ≤ 400 days, MONTH ≤ 120.")
class UsageGranularity(Enum):
    HOUR = "HOUR"
    DAY = "DAY"
    MONTH = "MONTH"


@strawberry.type(description="One bucket [start, start + granularity).")
class UsagePoint:
    start: datetime = field(USAGE_READ)
    quantity: decimal.Decimal = field(USAGE_READ)


@strawberry.type(description="[from, to) aligned to whole UTC buckets; empty buckets are 0.")
class UsageSeries:
    meter: Meter = field(USAGE_READ)
    from_: datetime = field(USAGE_READ, name="from")
    to: datetime = field(USAGE_READ)
    granularity: UsageGranularity = field(USAGE_READ)
    total: decimal.Decimal = field(USAGE_READ, description="Σ points for SUM, max for MAX.")
    points: list[UsagePoint] = field(USAGE_READ)

    @classmethod
    def of(cls, v: SeriesValue) -> UsageSeries:
        return cls(
            meter=Meter.of(v.meter),
            from_=v.start,
            to=v.end,
            granularity=UsageGranularity(v.granularity),
            total=v.total,
            points=[UsagePoint(start=t, quantity=q) for t, q in v.points],
        )
