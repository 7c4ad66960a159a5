"""A subscription as the seed builds it: plan, anchor, periods, changes and add-ons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.seed.catalog import Plan
from gateway.seed.invoices import Invoice
from resolvers.periods import add_months


@dataclass
class Subscription:
    id: str
    plan: Plan
    quantity: int
    start: datetime
    status: str = "ACTIVE"
    anchor: datetime | None = None  # None = start
    period: tuple[datetime, datetime] | None = None  # None = the one containing as_of
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    trial_end: datetime | None = None
    # Boundary index of the last invoice, and of the last one that bills service in
    # advance; None: the subscription is live and bills on.
    last_invoice_at: int | None = None
    service_through: int | None = None
    changes: list[tuple[datetime, Plan]] = field(default_factory=list)  # later plans
    addons: list[tuple[str, Plan, datetime]] = field(default_factory=list)  # (si id, plan, from)
    invoices: list[Invoice] = field(default_factory=list)

    @property
    def billing_anchor(self) -> datetime:
        return self.start if self.anchor is None else self.anchor

    @property
    def current_plan(self) -> Plan:
        return self.changes[-1][1] if self.changes else self.plan

    def boundary(self, k: int) -> datetime:
        return add_months(self.billing_anchor, k * (12 if self.plan.interval == "YEAR" else 1))

    def index_at(self, at: datetime) -> int:
        """k with boundary(k) <= at < boundary(k + 1)."""
        k = 0
        while self.boundary(k + 1) <= at:
            k += 1
        return k

    def plan_at(self, at: datetime) -> Plan:
        return next((p for when, p in reversed(self.changes) if when <= at), self.plan)

    def fill_current_period(self, as_of: datetime) -> None:
        """A live subscription's period is the one containing as_of."""
        if self.period is None:
            k = self.index_at(as_of)
            self.period = (self.boundary(k), self.boundary(k + 1))
