"""Graduated usage pricing and recurring charges (docs/money.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from resolvers.money import exact_difference, exact_product, round_money


@dataclass(frozen=True)
class Tier:
    # Absolute bound on the period's total usage (not a width); None = no upper bound.
    up_to: Decimal | None
    unit_amount: Decimal


@dataclass(frozen=True)
class TierLine:
    tier: int  # index into the tiers sequence
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal  # quantity * unit_amount, rounded once, half-even


def validate_tiers(tiers: Sequence[Tier]) -> None:
    """Tiers must be non-empty, strictly increasing, priced >= 0 and end unbounded."""
    if not tiers or tiers[-1].up_to is not None:
        raise ValueError("tiers must end with an unbounded tier (up_to = None)")
    bounds = [tier.up_to for tier in tiers[:-1]]
    if any(bound is None or not bound.is_finite() or bound <= 0 for bound in bounds):
        raise ValueError("only the last tier may be unbounded; bounds must be positive")
    if any(a is not None and b is not None and a >= b for a, b in pairwise(bounds)):
        raise ValueError("tier bounds must be strictly increasing")
    if any(not tier.unit_amount.is_finite() or tier.unit_amount < 0 for tier in tiers):
        raise ValueError("tier unit amounts must be finite and non-negative")


def _tier_quantity(lower: Decimal, upper: Decimal | None, start: Decimal, end: Decimal) -> Decimal:
    # Overlap of the tier's usage range (lower, upper] with the billed range (start, end].
    top = end if upper is None else min(end, upper)
    return max(exact_difference(top, max(start, lower)), Decimal(0))


def graduated_lines(
    usage: Decimal, included: Decimal, tiers: Sequence[Tier], currency: str
) -> list[TierLine]:
    """One line per tier touched by the units in (included, usage]; included units are free."""
    validate_tiers(tiers)
    if not usage.is_finite() or not included.is_finite() or usage < 0 or included < 0:
        raise ValueError("usage and included quantity must be finite and non-negative")
    lines: list[TierLine] = []
    lower = Decimal(0)
    for index, tier in enumerate(tiers):
        quantity = _tier_quantity(lower, tier.up_to, included, usage)
        if quantity > 0:
            amount = round_money(exact_product(quantity, tier.unit_amount), currency)
            lines.append(TierLine(index, quantity, tier.unit_amount, amount))
        if tier.up_to is not None:
            lower = tier.up_to
    return lines


def recurring_amount(unit_price: Decimal, quantity: int, currency: str) -> Decimal:
    """A licensed line: unit price * seats, rounded once."""
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    return round_money(exact_product(unit_price, Decimal(quantity)), currency)
