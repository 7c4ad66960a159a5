"""Plain values the graph shows, made from rows: money at its currency's scale,
quantities without storage padding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from resolvers.money import minor_unit, round_money


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


def money(amount: Decimal, currency: str) -> Money:
    """A stored amount (numeric(20,4), always rounded) at the currency's scale."""
    return Money(round_money(amount, currency), currency)


def unit_money(amount: Decimal, currency: str) -> Money:
    """A unit price keeps its own precision, but at least the currency's scale."""
    trimmed = quantity(amount)
    places = max(minor_unit(currency), -int(trimmed.as_tuple().exponent))
    return Money(trimmed.quantize(Decimal(1).scaleb(-places)), currency)


def quantity(value: Decimal) -> Decimal:
    """numeric(24,6) padding removed: 73456789.000000 → 73456789."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


@dataclass(frozen=True)
class LineValue:
    """An invoice line: stored (id from the row) or computed (a preview's)."""

    id: str
    kind: str
    description: str
    quantity: Decimal
    unit_amount: Money
    amount: Money
    period_start: datetime | None
    period_end: datetime | None
    meter_id: str | None
