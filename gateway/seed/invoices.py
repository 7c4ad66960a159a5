"""Invoices and their lines: SUBSCRIPTION lines in advance, one USAGE line per tier
touched, quantity-1 PRORATION and ADJUSTMENT lines; an invoice's status changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from gateway.seed.catalog import Plan, UsagePrice
from resolvers.pricing import graduated_lines, recurring_amount

NET_TERMS: Final = timedelta(days=14)


@dataclass(frozen=True)
class Line:
    kind: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal
    period_start: datetime | None = None
    period_end: datetime | None = None
    meter_id: str | None = None


def _fmt(q: Decimal) -> str:
    return f"{q.normalize():,f}"


def day_label(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def service_lines(
    plan: Plan, quantity: int, start: datetime, end: datetime, addons: Sequence[Plan]
) -> list[Line]:
    """SUBSCRIPTION lines billed in advance: the base plan × seats, then each add-on."""
    lines = []
    for p, q in ((plan, quantity), *((addon, 1) for addon in addons)):
        label = "annual" if p.interval == "YEAR" else "monthly"
        amount = recurring_amount(p.amount, q, p.currency)
        text = f"{p.name} ({label}) × {q}"
        lines.append(Line("SUBSCRIPTION", text, Decimal(q), p.amount, amount, start, end))
    return lines


def _tier_text(up: UsagePrice, tier: int) -> str:
    below = up.tiers[tier - 1].up_to if tier else None
    lower = up.included if below is None else max(up.included, below)
    upper = up.tiers[tier].up_to
    span = f"{_fmt(lower)}+" if upper is None else f"{_fmt(lower)} to {_fmt(upper)}"
    return f"{up.meter.name}, tier {tier + 1} ({span} {up.meter.unit})"


def usage_lines(
    plan: Plan, usage: Mapping[str, Decimal], start: datetime, end: datetime
) -> list[Line]:
    """One USAGE line per tier touched (DOMAIN.md, "Graduated usage pricing")."""
    lines = []
    for up in plan.usage:
        used = usage.get(up.meter.key, Decimal(0))
        for t in graduated_lines(used, up.included, up.tiers, plan.currency):
            text = _tier_text(up, t.tier)
            lines.append(
                Line("USAGE", text, t.quantity, t.unit_amount, t.amount, start, end, up.meter.id)
            )
    return lines


def single_line(
    kind: str,
    description: str,
    amount: Decimal,
    period: tuple[datetime, datetime] | tuple[None, None] = (None, None),
) -> Line:
    """A quantity-1 line whose unit amount is the (already rounded) amount itself."""
    return Line(kind, description, Decimal(1), amount, amount, *period)


@dataclass
class Invoice:
    id: str
    subscription_id: str | None
    created_at: datetime
    period: tuple[datetime, datetime]
    lines: list[Line]
    line_ids: list[str]
    total: Decimal
    status: str = "DRAFT"
    issued_at: datetime | None = None
    due_at: datetime | None = None
    paid_at: datetime | None = None
    amount_paid: Decimal = Decimal(0)
    number: str = ""
    held: bool = False  # kept DRAFT (awaiting review), never finalized

    def issue(self, at: datetime) -> None:
        self.status, self.issued_at, self.due_at = "OPEN", at, at + NET_TERMS

    def pay(self, at: datetime) -> None:
        self.status, self.paid_at, self.amount_paid = "PAID", at, self.total

    def unpay(self, status: str, paid: Decimal = Decimal(0)) -> None:
        self.status, self.paid_at, self.amount_paid = status, None, paid
