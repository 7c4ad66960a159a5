"""Anchored billing periods and exact proration (docs/money.md, docs/billing.md)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.money import round_money
from resolvers.periods import (
    add_months,
    period_containing,
    plan_change_lines,
    prorate,
    proration_fraction,
)

NOV_START = datetime(2026, 11, 1, tzinfo=UTC)
DEC_START = datetime(2026, 12, 1, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- add_months --------------------------------------------------------------------------


def test_month_end_anchor_is_clamped_not_drifted() -> None:
    anchor = utc(2025, 1, 31, 9, 30)
    days = [add_months(anchor, n).date().isoformat() for n in range(5)]
    assert days == ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]


def test_leap_year_february() -> None:
    assert add_months(utc(2024, 1, 31), 1) == utc(2024, 2, 29)
    assert add_months(utc(2024, 1, 30), 1) == utc(2024, 2, 29)
    assert add_months(utc(2024, 1, 29), 1) == utc(2024, 2, 29)
    assert add_months(utc(2024, 1, 28), 1) == utc(2024, 2, 28)


def test_add_months_keeps_time_and_handles_years_and_negatives() -> None:
    assert add_months(utc(2026, 11, 15, 7, 31, 12), 14) == utc(2028, 1, 15, 7, 31, 12)
    assert add_months(utc(2026, 3, 31), -1) == utc(2026, 2, 28)
    assert add_months(utc(2026, 1, 15), -13) == utc(2024, 12, 15)


def test_add_months_normalises_other_offsets_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert add_months(datetime(2026, 2, 1, 0, 30, tzinfo=cet), 1) == utc(2026, 2, 28, 23, 30)


def test_naive_anchor_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_months(datetime(2026, 1, 1), 1)  # noqa: DTZ001 - the naive value is the point


# --- period_containing -------------------------------------------------------------------


def test_domain_monthly_period() -> None:
    assert period_containing(NOV_START, "MONTH", utc(2026, 11, 16)) == (NOV_START, DEC_START)
    assert period_containing(utc(2026, 1, 1), "MONTH", utc(2026, 11, 10, 7, 31, 12)) == (
        NOV_START,
        DEC_START,
    )


def test_month_end_anchor_periods() -> None:
    anchor = utc(2026, 1, 31)
    assert period_containing(anchor, "MONTH", utc(2026, 3, 1)) == (
        utc(2026, 2, 28),
        utc(2026, 3, 31),
    )
    assert period_containing(anchor, "MONTH", utc(2026, 3, 31)) == (
        utc(2026, 3, 31),
        utc(2026, 4, 30),
    )
    assert period_containing(anchor, "MONTH", utc(2026, 2, 27, 23, 59)) == (
        utc(2026, 1, 31),
        utc(2026, 2, 28),
    )


def test_yearly_period_from_leap_day() -> None:
    anchor = utc(2024, 2, 29)
    assert period_containing(anchor, "YEAR", utc(2025, 2, 27)) == (anchor, utc(2025, 2, 28))
    assert period_containing(anchor, "YEAR", utc(2025, 3, 1)) == (
        utc(2025, 2, 28),
        utc(2026, 2, 28),
    )
    assert period_containing(anchor, "YEAR", utc(2028, 2, 29)) == (
        utc(2028, 2, 29),
        utc(2029, 2, 28),
    )


def test_period_at_anchor_and_boundaries() -> None:
    assert period_containing(NOV_START, "MONTH", NOV_START) == (NOV_START, DEC_START)
    # A period is [start, end): its end already belongs to the next period.
    assert period_containing(NOV_START, "MONTH", DEC_START)[0] == DEC_START


def test_period_errors() -> None:
    with pytest.raises(ValueError, match="before the anchor"):
        period_containing(NOV_START, "MONTH", NOV_START - timedelta(microseconds=1))
    with pytest.raises(ValueError, match="interval"):
        period_containing(NOV_START, "WEEK", NOV_START)


# --- proration ---------------------------------------------------------------------------


def test_domain_half_period_fraction_and_lines() -> None:
    at = utc(2026, 11, 16)
    assert proration_fraction(NOV_START, DEC_START, at) == Fraction(1, 2)
    credit, charge = plan_change_lines(
        Decimal("20.00"), Decimal("200.00"), 1, NOV_START, DEC_START, at, "USD"
    )
    assert (credit, charge) == (Decimal("-10.00"), Decimal("100.00"))
    assert credit + charge == Decimal("90.00")


def test_domain_odd_instant_fraction_and_lines() -> None:
    at = utc(2026, 11, 10, 7, 31, 12)
    fraction = proration_fraction(NOV_START, DEC_START, at)
    assert fraction == Fraction(1_787_328, 2_592_000)
    assert 0.689555 < float(fraction) < 0.689556
    credit, charge = plan_change_lines(
        Decimal("20.00"), Decimal("200.00"), 1, NOV_START, DEC_START, at, "USD"
    )
    assert [str(credit), str(charge)] == ["-13.79", "137.91"]
    assert credit + charge == Decimal("124.12")


def test_plan_change_scales_with_quantity_before_rounding() -> None:
    at = utc(2026, 11, 10, 7, 31, 12)
    credit, charge = plan_change_lines(
        Decimal("20.00"), Decimal("200.00"), 3, NOV_START, DEC_START, at, "USD"
    )
    # 60 * 0.6895... = 41.373..., 600 * 0.6895... = 413.733...: rounded once, not 3 * 13.79.
    assert (credit, charge) == (Decimal("-41.37"), Decimal("413.73"))


def test_zero_credit_is_not_negative_zero() -> None:
    credit, _ = plan_change_lines(
        Decimal(0), Decimal(10), 1, NOV_START, DEC_START, NOV_START, "USD"
    )
    assert str(credit) == "0.00"


def test_fraction_at_start_is_one_and_end_is_excluded() -> None:
    assert proration_fraction(NOV_START, DEC_START, NOV_START) == 1
    with pytest.raises(ValueError, match="within"):
        proration_fraction(NOV_START, DEC_START, DEC_START)
    with pytest.raises(ValueError, match="within"):
        proration_fraction(NOV_START, DEC_START, NOV_START - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("amount", "fraction", "expected"),
    [
        ("0.05", Fraction(1, 2), "0.02"),  # 0.025 tie → even
        ("0.15", Fraction(1, 2), "0.08"),  # 0.075 tie → even
        ("-0.05", Fraction(1, 2), "-0.02"),
        ("100.00", Fraction(1, 3), "33.33"),
        ("200.00", Fraction(2, 3), "133.33"),
        ("0.01", Fraction(1, 10**30), "0.00"),
    ],
)
def test_prorate_vectors(amount: str, fraction: Fraction, expected: str) -> None:
    assert str(prorate(Decimal(amount), fraction, "USD")) == expected


def test_prorate_is_exact_beyond_decimal_precision() -> None:
    # 1/3 via a 28-digit Decimal would be 0.333…3 and a product could round the wrong way;
    # here 0.015 * 1 exactly is a tie that must go to even (0.02), with a 40-digit detour.
    big = Fraction(10**40 + 1, 10**40 + 1)
    assert prorate(Decimal("0.015"), big, "USD") == Decimal("0.02")
    assert prorate(Decimal("0.025"), big, "USD") == Decimal("0.02")


# --- properties --------------------------------------------------------------------------

BASE = utc(2000, 1, 1)
INSTANTS = st.integers(0, 100 * 366 * 86_400 * 10**6).map(
    lambda us: BASE + timedelta(microseconds=us)
)
INTERVALS = st.sampled_from(["MONTH", "YEAR"])
PRICES = st.integers(0, 10**9).map(lambda n: Decimal(n).scaleb(-2))


@given(INSTANTS, st.integers(-1200, 1200))
def test_anchor_day_is_preserved_over_many_months(anchor: datetime, months: int) -> None:
    shifted = add_months(anchor, months)
    month_index = anchor.year * 12 + anchor.month - 1 + months
    assert (shifted.year, shifted.month - 1) == divmod(month_index, 12)
    assert shifted.day == min(anchor.day, calendar.monthrange(shifted.year, shifted.month)[1])
    assert shifted.timetz() == anchor.timetz()
    # Computed from the anchor: clamping in a short month never leaks into later months.
    assert add_months(anchor, months + 12).day == min(
        anchor.day, calendar.monthrange(shifted.year + 1, shifted.month)[1]
    )


@given(INSTANTS, INSTANTS, INTERVALS)
def test_periods_contain_at_and_are_contiguous(a: datetime, b: datetime, interval: str) -> None:
    anchor, at = min(a, b), max(a, b)
    start, end = period_containing(anchor, interval, at)
    assert start <= at < end
    assert anchor <= start
    # The next period starts where this one ends; the previous one ends where this starts.
    assert period_containing(anchor, interval, end)[0] == end
    if start > anchor:
        assert period_containing(anchor, interval, start - timedelta(microseconds=1))[1] == start
    else:
        assert start == anchor


@given(INSTANTS, st.integers(0, 48), INTERVALS)
def test_consecutive_periods_do_not_overlap(anchor: datetime, count: int, interval: str) -> None:
    periods = []
    at = anchor
    for _ in range(count + 1):
        start, end = period_containing(anchor, interval, at)
        periods.append((start, end))
        at = end
    assert periods[0][0] == anchor
    assert all(prev[1] == nxt[0] and prev[0] < prev[1] for prev, nxt in pairwise(periods))


@st.composite
def period_and_instant(draw: st.DrawFn) -> tuple[datetime, datetime, datetime]:
    anchor = draw(INSTANTS)
    later = anchor + timedelta(microseconds=draw(st.integers(0, 20 * 366 * 86_400 * 10**6)))
    start, end = period_containing(anchor, draw(INTERVALS), later)
    offset = draw(st.integers(0, (end - start) // timedelta(microseconds=1) - 1))
    return start, end, start + timedelta(microseconds=offset)


@given(period_and_instant())
def test_fraction_is_in_unit_interval(period: tuple[datetime, datetime, datetime]) -> None:
    start, end, at = period
    fraction = proration_fraction(start, end, at)
    assert 0 < fraction <= 1
    assert (fraction == 1) == (at == start)
    assert fraction * (end - start).total_seconds() == pytest.approx((end - at).total_seconds())


@given(period_and_instant(), PRICES, PRICES, st.integers(0, 1000))
def test_credit_and_charge_are_consistent(
    period: tuple[datetime, datetime, datetime], old: Decimal, new: Decimal, quantity: int
) -> None:
    start, end, at = period
    fraction = proration_fraction(start, end, at)
    credit, charge = plan_change_lines(old, new, quantity, start, end, at, "USD")
    assert credit <= 0 <= charge
    assert credit == -prorate(old * quantity, fraction, "USD")
    assert charge == prorate(new * quantity, fraction, "USD")
    # Each line is within half a cent of the exact value, so the net is within one cent.
    exact_net = (Fraction(new) - Fraction(old)) * quantity * fraction
    assert abs(Fraction(credit + charge) - exact_net) <= Fraction(1, 100)
    if old == new:
        assert credit == -charge


@given(st.sampled_from(["MONTH", "YEAR"]), INSTANTS, PRICES, PRICES, st.integers(0, 100))
def test_exact_at_period_start(
    interval: str, anchor: datetime, old: Decimal, new: Decimal, quantity: int
) -> None:
    start, end = period_containing(anchor, interval, anchor)
    credit, charge = plan_change_lines(old, new, quantity, start, end, start, "USD")
    assert credit == round_money(-old * quantity, "USD")
    assert charge == new * quantity


@given(
    st.integers(-(10**15), 10**15).map(lambda n: Decimal(n).scaleb(-4)),
    st.fractions(min_value=0, max_value=1),
)
def test_prorate_is_the_correctly_rounded_rational(amount: Decimal, fraction: Fraction) -> None:
    result = prorate(amount, fraction, "USD")
    exact = Fraction(amount) * fraction
    error = Fraction(result) - exact
    assert abs(error) <= Fraction(1, 200)
    if abs(error) == Fraction(1, 200):  # a tie: the even cent wins
        assert int(result * 100) % 2 == 0
