"""Usage time-series buckets over an hourly rollup (docs/billing.md, Usage)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.buckets import (
    RANGE_LIMITS,
    bucket_starts,
    ceil_bucket,
    fill_series,
    floor_bucket,
    next_bucket,
    validate_range,
)

HOUR = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("granularity", "floor", "ceil"),
    [
        ("HOUR", utc(2026, 11, 10, 7), utc(2026, 11, 10, 8)),
        ("DAY", utc(2026, 11, 10), utc(2026, 11, 11)),
        ("MONTH", utc(2026, 11, 1), utc(2026, 12, 1)),
    ],
)
def test_floor_and_ceil(granularity: str, floor: datetime, ceil: datetime) -> None:
    t = datetime(2026, 11, 10, 7, 31, 12, 5, tzinfo=UTC)
    assert floor_bucket(t, granularity) == floor
    assert ceil_bucket(t, granularity) == ceil
    # Aligned instants are their own floor and ceiling.
    assert floor_bucket(floor, granularity) == floor
    assert ceil_bucket(floor, granularity) == floor


def test_month_buckets_cross_years_and_use_utc() -> None:
    assert ceil_bucket(utc(2026, 12, 31, 23, 59), "MONTH") == utc(2027, 1, 1)
    assert next_bucket(utc(2024, 2, 1), "MONTH") == utc(2024, 3, 1)
    local = datetime(2026, 12, 1, 0, 30, tzinfo=timezone(HOUR))
    assert floor_bucket(local, "MONTH") == utc(2026, 11, 1)  # 23:30Z on Nov 30


def test_unknown_granularity_and_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="granularity"):
        floor_bucket(utc(2026, 1, 1), "WEEK")
    with pytest.raises(ValueError, match="timezone"):
        floor_bucket(datetime(2026, 1, 1), "DAY")  # noqa: DTZ001 - naive on purpose


def test_validate_range_aligns_outward() -> None:
    assert validate_range(utc(2026, 11, 10, 7, 31), utc(2026, 11, 12, 0, 1), "DAY") == (
        utc(2026, 11, 10),
        utc(2026, 11, 13),
    )
    assert validate_range(utc(2026, 11, 10), utc(2026, 11, 11), "DAY") == (
        utc(2026, 11, 10),
        utc(2026, 11, 11),
    )
    assert validate_range(utc(2026, 11, 10, 7, 31), utc(2026, 11, 10, 7, 32), "MONTH") == (
        utc(2026, 11, 1),
        utc(2026, 12, 1),
    )


@pytest.mark.parametrize(
    ("from_", "to", "message"),
    [
        (utc(2026, 11, 2), utc(2026, 11, 2), "earlier than"),
        (utc(2026, 11, 3), utc(2026, 11, 2), "earlier than"),
        (datetime(2026, 11, 1), utc(2026, 11, 2), "timezone"),  # noqa: DTZ001
        (utc(2026, 11, 1), datetime(2026, 11, 2), "timezone"),  # noqa: DTZ001
    ],
)
def test_validate_range_rejects(from_: datetime, to: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_range(from_, to, "HOUR")


@pytest.mark.parametrize(
    ("granularity", "longest", "too_long"),
    [
        ("HOUR", (utc(2026, 1, 1), utc(2026, 2, 1)), (utc(2026, 1, 1), utc(2026, 2, 1, 0, 1))),
        ("DAY", (utc(2026, 1, 1), utc(2027, 2, 5)), (utc(2026, 1, 1), utc(2027, 2, 5, 0, 1))),
        ("MONTH", (utc(2020, 1, 1), utc(2030, 1, 1)), (utc(2020, 1, 1), utc(2030, 1, 2))),
    ],
)
def test_range_limits(
    granularity: str,
    longest: tuple[datetime, datetime],
    too_long: tuple[datetime, datetime],
) -> None:
    start, end = validate_range(*longest, granularity)
    assert len(bucket_starts(start, end, granularity)) == RANGE_LIMITS[granularity].max_buckets
    with pytest.raises(ValueError, match=re.escape(f"at most {RANGE_LIMITS[granularity].label}")):
        validate_range(*too_long, granularity)


def test_limit_table() -> None:
    assert {name: limit.max_buckets for name, limit in RANGE_LIMITS.items()} == {
        "HOUR": 744,
        "DAY": 400,
        "MONTH": 120,
    }


def test_bucket_starts() -> None:
    assert bucket_starts(utc(2026, 11, 30), utc(2026, 12, 2), "DAY") == [
        utc(2026, 11, 30),
        utc(2026, 12, 1),
    ]
    assert bucket_starts(utc(2026, 11, 1), utc(2027, 2, 1), "MONTH") == [
        utc(2026, 11, 1),
        utc(2026, 12, 1),
        utc(2027, 1, 1),
    ]
    assert len(bucket_starts(utc(2026, 3, 29), utc(2026, 3, 30), "HOUR")) == 24  # no DST in UTC
    with pytest.raises(ValueError, match="aligned"):
        bucket_starts(utc(2026, 11, 1, 1), utc(2026, 11, 2), "DAY")


def test_fill_series_sum_by_day() -> None:
    starts = bucket_starts(utc(2026, 11, 1), utc(2026, 11, 4), "DAY")
    hourly = {
        utc(2026, 10, 31, 23): Decimal(1000),  # before the range: ignored
        utc(2026, 11, 1, 0): Decimal(5),
        utc(2026, 11, 1, 23): Decimal("2.5"),
        utc(2026, 11, 3, 12): Decimal(7),
        utc(2026, 11, 4, 0): Decimal(1000),  # `to` is exclusive: ignored
    }
    points, total = fill_series(hourly, starts, "DAY", "SUM")
    assert points == [
        (utc(2026, 11, 1), Decimal("7.5")),
        (utc(2026, 11, 2), Decimal(0)),
        (utc(2026, 11, 3), Decimal(7)),
    ]
    assert total == Decimal("14.5")


def test_fill_series_max_by_day_is_max_of_hours() -> None:
    starts = bucket_starts(utc(2026, 11, 1), utc(2026, 11, 3), "DAY")
    hourly = {
        utc(2026, 11, 1, 3): Decimal(40),
        utc(2026, 11, 1, 4): Decimal(90),
        utc(2026, 11, 1, 5): Decimal(60),
        utc(2026, 11, 2, 0): Decimal(80),
    }
    points, total = fill_series(hourly, starts, "DAY", "MAX")
    assert [value for _, value in points] == [Decimal(90), Decimal(80)]
    assert total == Decimal(90)


def test_fill_series_month_and_empty_series() -> None:
    starts = bucket_starts(utc(2026, 1, 1), utc(2026, 3, 1), "MONTH")
    points, total = fill_series({utc(2026, 2, 28, 23): Decimal(3)}, starts, "MONTH", "SUM")
    assert points == [(utc(2026, 1, 1), Decimal(0)), (utc(2026, 2, 1), Decimal(3))]
    assert total == 3
    assert fill_series({}, [], "HOUR", "MAX") == ([], Decimal(0))
    assert fill_series({}, starts, "MONTH", "MAX")[1] == 0


def test_fill_series_rejects_unknown_aggregation() -> None:
    with pytest.raises(ValueError, match="aggregation"):
        fill_series({}, [utc(2026, 1, 1)], "DAY", "AVG")


# --- properties --------------------------------------------------------------------------

BASE = utc(2020, 1, 1)
GRANULARITIES = st.sampled_from(["HOUR", "DAY", "MONTH"])
SPANS = {"HOUR": timedelta(days=30), "DAY": timedelta(days=398), "MONTH": timedelta(days=3600)}


@st.composite
def ranges(draw: st.DrawFn) -> tuple[datetime, datetime, str]:
    granularity = draw(GRANULARITIES)
    start = BASE + timedelta(minutes=draw(st.integers(0, 10 * 365 * 24 * 60)))
    length = draw(st.integers(1, SPANS[granularity] // timedelta(minutes=1)))
    return start, start + timedelta(minutes=length), granularity


@given(ranges())
def test_buckets_are_contiguous_and_cover_the_range(case: tuple[datetime, datetime, str]) -> None:
    from_, to, granularity = case
    start, end = validate_range(from_, to, granularity)
    assert start <= from_ < to <= end
    starts = bucket_starts(start, end, granularity)
    assert 0 < len(starts) <= RANGE_LIMITS[granularity].max_buckets
    assert starts[0] == start
    assert next_bucket(starts[-1], granularity) == end
    for current, following in zip(starts, [*starts[1:], end], strict=True):
        assert floor_bucket(current, granularity) == current
        assert next_bucket(current, granularity) == following
        assert current < following
    # Outward alignment never adds a whole extra bucket on either side.
    assert next_bucket(start, granularity) > from_
    assert ceil_bucket(to, granularity) == end


HOURLY = st.dictionaries(
    st.integers(-24 * 40, 24 * 450).map(lambda h: BASE + timedelta(days=10) + h * HOUR),
    st.integers(0, 10**9).map(lambda n: Decimal(n).scaleb(-3)),
    max_size=60,
)


@st.composite
def series_cases(draw: st.DrawFn) -> tuple[datetime, datetime, str, dict[datetime, Decimal]]:
    granularity = draw(GRANULARITIES)
    start = BASE + timedelta(hours=draw(st.integers(0, 24 * 400)))
    end = start + timedelta(hours=draw(st.integers(1, 24 * 30)))
    aligned = validate_range(start, end, granularity)
    return aligned[0], aligned[1], granularity, draw(HOURLY)


@given(series_cases())
def test_sum_total_equals_sum_of_hourly_inputs_in_range(
    case: tuple[datetime, datetime, str, dict[datetime, Decimal]],
) -> None:
    start, end, granularity, hourly = case
    points, total = fill_series(hourly, bucket_starts(start, end, granularity), granularity, "SUM")
    in_range = [value for hour, value in hourly.items() if start <= hour < end]
    assert total == sum(in_range, Decimal(0))
    assert total == sum((value for _, value in points), Decimal(0))
    assert [t for t, _ in points] == bucket_starts(start, end, granularity)


@given(series_cases())
def test_max_total_equals_max_of_hourly_inputs_in_range(
    case: tuple[datetime, datetime, str, dict[datetime, Decimal]],
) -> None:
    start, end, granularity, hourly = case
    points, total = fill_series(hourly, bucket_starts(start, end, granularity), granularity, "MAX")
    in_range = [value for hour, value in hourly.items() if start <= hour < end]
    assert total == max(in_range, default=Decimal(0))
    assert total == max((value for _, value in points), default=Decimal(0))
    for bucket_start, value in points:
        bucket_end = next_bucket(bucket_start, granularity)
        inside = [v for hour, v in hourly.items() if bucket_start <= hour < bucket_end]
        assert value == max(inside, default=Decimal(0))
