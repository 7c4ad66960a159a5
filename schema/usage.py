"""Usage series, read from the hourly rollup."""

from __future__ import annotations

import decimal
from datetime import datetime
from enum import Enum

import strawberry

from resolvers.usage import SeriesValue
from schema.catalog import Meter
from schema.permissions import PUBLIC, field


@strawberry.enum(description="Bucket width of a usage series, in UTC.")
class UsageGranularity(Enum):
    HOUR = strawberry.enum_value("HOUR", description="Hours; a range of at most 31 days.")
    DAY = strawberry.enum_value("DAY", description="Days; a range of at most 400 days.")
    MONTH = strawberry.enum_value(
        "MONTH", description="Calendar months; a range of at most 120 months."
    )


@strawberry.type(description="One bucket [start, start + granularity).")
class UsagePoint:
    start: datetime = field(PUBLIC, description="The bucket's start.")
    quantity: decimal.Decimal = field(
        PUBLIC, description="Use in the bucket: the sum (SUM meters) or the peak (MAX); 0 if none."
    )


@strawberry.type(description="[from, to) aligned to whole UTC buckets; empty buckets are 0.")
class UsageSeries:
    meter: Meter = field(PUBLIC, description="The meter.")
    from_: datetime = field(PUBLIC, name="from", description="Start, on a bucket boundary.")
    to: datetime = field(PUBLIC, description="End (exclusive), on a bucket boundary.")
    granularity: UsageGranularity = field(PUBLIC, description="Bucket width.")
    total: decimal.Decimal = field(PUBLIC, description="Σ points for SUM, max for MAX.")
    points: list[UsagePoint] = field(PUBLIC, description="One per bucket, in time order.")

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
