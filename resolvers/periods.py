"""Billing periods anchored on the subscription start, and exact time-based proration."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Final

from resolvers.money import exact_product, round_money, round_rational

INTERVAL_MONTHS: Final = {"MONTH": 1, "YEAR": 12}
_MICROSECOND: Final = timedelta(microseconds=1)


def require_utc(value: datetime, name: str = "datetime") -> datetime:
    """Refuse naive datetimes (their instant is unknown) and normalise aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def iso(at: datetime) -> str:
    """RFC 3339 in UTC with a Z: 2026-11-01T00:00:00Z."""
    return require_utc(at).isoformat().replace("+00:00", "Z")


def add_months(anchor: datetime, months: int) -> datetime:
    """anchor + months, on the anchor's day clamped to the month's length (Jan 31 → Feb 28)."""
    anchor = require_utc(anchor, "anchor")
    year, month0 = divmod(anchor.year * 12 + anchor.month - 1 + months, 12)
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return anchor.replace(year=year, month=month0 + 1, day=day)


def period_containing(anchor: datetime, interval: str, at: datetime) -> tuple[datetime, datetime]:
    """The [start, end) period of a MONTH/YEAR schedule anchored at `anchor` containing `at`."""
    if interval not in INTERVAL_MONTHS:
        raise ValueError(f"unknown billing interval {interval!r}")
    step = INTERVAL_MONTHS[interval]
    anchor, at = require_utc(anchor, "anchor"), require_utc(at, "at")
    if at < anchor:
        raise ValueError("at must not be before the anchor")
    # Calendar-month distance is at most one period off; fix it up from the anchor
    # (never from the previous period, so clamped days do not drift).
    n = ((at.year - anchor.year) * 12 + at.month - anchor.month) // step
    while n > 0 and add_months(anchor, n * step) > at:
        n -= 1
    while add_months(anchor, (n + 1) * step) <= at:
        n += 1
    return add_months(anchor, n * step), add_months(anchor, (n + 1) * step)


def proration_fraction(period_start: datetime, period_end: datetime, at: datetime) -> Fraction:
    """(time left) / (period length) as an exact rational, counted in microseconds."""
    start, end = require_utc(period_start, "period_start"), require_utc(period_end, "period_end")
    at = require_utc(at, "at")
    if not start <= at < end:
        raise ValueError("at must lie within [period_start, period_end)")
    # Integer microseconds: whole seconds give the same ratio, sub-seconds stay exact.
    return Fraction((end - at) // _MICROSECOND, (end - start) // _MICROSECOND)


def prorate(amount: Decimal, fraction: Fraction, currency: str) -> Decimal:
    """amount * fraction, computed exactly as a rational and rounded once, half-even."""
    if not amount.is_finite():
        raise ValueError("amount must be a finite number")
    # Fraction(Decimal) is exact, so the only rounding is round_rational's single step.
    return round_rational(Fraction(amount) * fraction, currency)


def prorated(
    unit: Decimal, quantity: int, period_start: datetime, period_end: datetime, at: datetime,
    currency: str,
) -> Decimal:  # fmt: skip
    """unit × quantity for the part of [period_start, period_end) left at `at`, rounded once."""
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    fraction = proration_fraction(period_start, period_end, at)
    return prorate(exact_product(unit, Decimal(quantity)), fraction, currency)


def plan_change_lines(
    old_price: Decimal,
    new_price: Decimal,
    quantity: int,
    period_start: datetime,
    period_end: datetime,
    at: datetime,
    currency: str,
) -> tuple[Decimal, Decimal]:
    """(credit for the unused old plan (<= 0), charge for the new plan for the rest)."""
    credit = prorated(old_price, quantity, period_start, period_end, at, currency)
    charge = prorated(new_price, quantity, period_start, period_end, at, currency)
    # copy_negate is exact; round_money only turns a zero credit into "0.00", not "-0.00".
    return round_money(credit.copy_negate(), currency), charge
