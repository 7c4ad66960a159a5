"""Invoices and their lines, composed by the billing rule the engine issues with
(`resolvers.billing`); an invoice's status changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from gateway.seed.catalog import Plan
from resolvers import billing
from resolvers.billing import Line, Metered, Recurring, recurring_lines

NET_TERMS: Final = timedelta(days=14)


def service_lines(
    plan: Plan, quantity: int, start: datetime, end: datetime, addons: Sequence[Plan]
) -> list[Line]:
    """SUBSCRIPTION lines billed in advance: the base plan × seats, then each add-on."""
    due = [
        Recurring(p.name, p.interval, p.amount, q)
        for p, q in ((plan, quantity), *((a, 1) for a in addons))
    ]
    return recurring_lines(due, plan.currency, (start, end))


def usage_lines(
    plan: Plan, usage: Mapping[str, Decimal], start: datetime, end: datetime
) -> list[Line]:
    """One USAGE line per tier touched (`usage` by meter key)."""
    prices = [
        Metered(up.meter.id, up.meter.name, up.meter.unit, up.included, up.tiers)
        for up in plan.usage
    ]
    by_id = {up.meter.id: usage[up.meter.key] for up in plan.usage if up.meter.key in usage}
    return billing.usage_lines(prices, by_id, plan.currency, (start, end))


@dataclass
class Invoice:
    id: str
    subscription_id: str | None
    created_at: datetime
    period: tuple[datetime, datetime]
    lines: list[Line]
    line_ids: list[str]
    total: Decimal
    boundary_at: datetime | None
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
