"""Usage time series: UTC buckets over an HOURLY rollup (docs/billing.md, "Usage")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from resolvers.money import exact_sum
from resolvers.periods import add_months, require_utc

GRANULARITIES: Final = ("HOUR", "DAY", "MONTH")
AGGREGATIONS: Final = ("SUM", "MAX")
_FIXED_STEPS: Final = {"HOUR": timedelta(hours=1), "DAY": timedelta(days=1)}


@dataclass(frozen=True)
class RangeLimit:
    max_buckets: int  # bounds the response size, checked on the outward-aligned range
    label: str  # how the limit reads in an error message


RANGE_LIMITS: Final[Mapping[str, RangeLimit]] = {
    "HOUR": RangeLimit(31 * 24, "31 days"),
    "DAY": RangeLimit(400, "400 days"),
    "MONTH": RangeLimit(120, "10 years (120 months)"),
}


def _check_granularity(granularity: str) -> None:
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}; expected HOUR, DAY or MONTH")


def floor_bucket(t: datetime, granularity: str) -> datetime:
    """Start of the UTC bucket containing t."""
    _check_granularity(granularity)
    t = require_utc(t).replace(minute=0, second=0, microsecond=0)
    if granularity == "HOUR":
        return t
    t = t.replace(hour=0)
    return t if granularity == "DAY" else t.replace(day=1)


def next_bucket(start: datetime, granularity: str) -> datetime:
    """The bucket start after `start` (which must itself be a bucket start)."""
    _check_granularity(granularity)
    try:
        if granularity == "MONTH":
            return add_months(start, 1)  # day 1 never clamps
        return start + _FIXED_STEPS[granularity]
    except OverflowError:
        raise ValueError("date is out of range") from None


def ceil_bucket(t: datetime, granularity: str) -> datetime:
    """Smallest bucket start >= t."""
    start = floor_bucket(t, granularity)
    return start if start == t else next_bucket(start, granularity)


def _bucket_count(from_: datetime, to: datetime, granularity: str) -> int:
    # Both ends are aligned, so the division / month difference is exact.
    if granularity == "MONTH":
        return (to.year - from_.year) * 12 + to.month - from_.month
    return (to - from_) // _FIXED_STEPS[granularity]


def validate_range(from_: datetime, to: datetime, granularity: str) -> tuple[datetime, datetime]:
    """Align [from, to) outward to the granularity, refusing empty or oversized ranges."""
    _check_granularity(granularity)
    if from_.tzinfo is None or to.tzinfo is None:
        raise ValueError("from and to must include a timezone, e.g. 2026-11-01T00:00:00Z")
    if from_ >= to:
        raise ValueError("from must be earlier than to")
    start, end = floor_bucket(from_, granularity), ceil_bucket(to, granularity)
    limit = RANGE_LIMITS[granularity]
    if _bucket_count(start, end, granularity) > limit.max_buckets:
        raise ValueError(f"range too long for {granularity} granularity: at most {limit.label}")
    return start, end


def bucket_starts(from_: datetime, to: datetime, granularity: str) -> list[datetime]:
    """One start per bucket covering the aligned range [from, to)."""
    if floor_bucket(from_, granularity) != from_ or floor_bucket(to, granularity) != to:
        raise ValueError("range must be aligned to the granularity (use validate_range)")
    starts: list[datetime] = []
    current = require_utc(from_)
    while current < to:
        starts.append(current)
        current = next_bucket(current, granularity)
    return starts


def _aggregate(values: list[Decimal], aggregation: str) -> Decimal:
    # An empty bucket (or series) reads as 0 for both SUM and MAX.
    if not values:
        return Decimal(0)
    return exact_sum(values) if aggregation == "SUM" else max(values)


def fill_series(
    hourly: Mapping[datetime, Decimal],
    starts: Sequence[datetime],
    granularity: str,
    aggregation: str,
) -> tuple[list[tuple[datetime, Decimal]], Decimal]:
    """Roll hourly values into the buckets at `starts`; returns (points, series total)."""
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {aggregation!r}; expected SUM or MAX")
    grouped: dict[datetime, list[Decimal]] = {require_utc(s): [] for s in starts}
    for hour, value in hourly.items():
        # Keys outside the buckets floor to a start that is not there and are ignored.
        bucket = grouped.get(floor_bucket(hour, granularity))
        if bucket is not None:
            bucket.append(value)
    points = [(start, _aggregate(values, aggregation)) for start, values in grouped.items()]
    return points, _aggregate([value for _, value in points], aggregation)
