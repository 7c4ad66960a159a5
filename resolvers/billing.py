"""What an invoice bills at a period boundary: one rule, shared by the billing engine
(which issues the invoice), the upcoming invoice (which shows it beforehand) and the
demo data, so a preview can never disagree with the invoice that follows it.

At boundary B, where a subscription's period [S, B) ends and the next one [B, E) begins:
- the recurring charges of [B, E) in advance: the base plan × the subscription's
  quantity, then each add-on held at B × its quantity (one SUBSCRIPTION line each);
- the usage of [S, B) in arrears through the current plan's included quantity and
  graduated tiers, one USAGE line per tier touched;
- a subscription that ends at B (a scheduled cancel) gets a final invoice of its usage
  only, over [S, B);
- tax on the subtotal at the account's rate, rounded half-even once (`invoice_totals`).
The invoice's period is the service period it bills in advance, or [S, B) for a final
invoice. A trial's end is a boundary like any other: the trial's usage in arrears and
the first paid period in advance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loaders.catalog import Catalog
from resolvers.lifecycle import Fields, State, state_at
from resolvers.money import round_money
from resolvers.periods import prorated
from resolvers.pricing import Tier, graduated_lines, recurring_amount
from resolvers.values import LineValue, money, quantity, unit_money

Period = tuple[datetime, datetime]


@dataclass(frozen=True)
class Recurring:
    """A licensed price billed in advance: a plan or an add-on."""

    name: str
    interval: str
    unit_amount: Decimal
    quantity: int


@dataclass(frozen=True)
class Metered:
    """A plan's usage price on one meter."""

    meter_id: str
    meter_name: str
    unit: str
    included: Decimal
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class Line:
    kind: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal  # quantity × unit amount, rounded once, half-even
    period_start: datetime | None = None
    period_end: datetime | None = None
    meter_id: str | None = None


def preview_line(line_id: str, ln: Line, currency: str) -> LineValue:
    """A line not (yet) on an invoice, as the graph shows it: upcoming or quoted."""
    return LineValue(
        id=line_id,
        kind=ln.kind,
        description=ln.description,
        quantity=quantity(ln.quantity),
        unit_amount=unit_money(ln.unit_amount, currency),
        amount=money(ln.amount, currency),
        period_start=ln.period_start,
        period_end=ln.period_end,
        meter_id=ln.meter_id,
    )


def single_line(
    kind: str, description: str, amount: Decimal, period: Period | tuple[None, None] = (None, None)
) -> Line:
    """A quantity-1 line whose unit amount is the (already rounded) amount itself."""
    return Line(kind, description, Decimal(1), amount, amount, *period)


def recurring_lines(charges: Iterable[Recurring], currency: str, period: Period) -> list[Line]:
    """SUBSCRIPTION lines in advance for `period`, in the order given."""
    lines = []
    for c in charges:
        label = "annual" if c.interval == "YEAR" else "monthly"
        amount = recurring_amount(c.unit_amount, c.quantity, currency)
        text = f"{c.name} ({label}) × {c.quantity}"
        lines.append(
            Line("SUBSCRIPTION", text, Decimal(c.quantity), c.unit_amount, amount, *period)
        )
    return lines


def _fmt(q: Decimal) -> str:
    return f"{q.normalize():,f}"


def _tier_text(price: Metered, tier: int) -> str:
    below = price.tiers[tier - 1].up_to if tier else None
    lower = price.included if below is None else max(price.included, below)
    upper = price.tiers[tier].up_to
    span = f"{_fmt(lower)}+" if upper is None else f"{_fmt(lower)} to {_fmt(upper)}"
    return f"{price.meter_name}, tier {tier + 1} ({span} {price.unit})"


def usage_lines(
    prices: Iterable[Metered], usage: Mapping[str, Decimal], currency: str, period: Period
) -> list[Line]:
    """One USAGE line per tier touched; `usage` is the period's use by meter id."""
    lines = []
    for p in prices:
        used = usage.get(p.meter_id, Decimal(0))
        for t in graduated_lines(used, p.included, p.tiers, currency):
            text = _tier_text(p, t.tier)
            lines.append(
                Line("USAGE", text, t.quantity, t.unit_amount, t.amount, *period, p.meter_id)
            )
    return lines


# --- proration (see docs/billing.md) -------------------------------------------


def day_label(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def unused_time_line(charge: Recurring, period: Period, at: datetime, currency: str) -> Line:
    """The credit (≤ 0) for `charge` from `at` to the end of `period`: quantity 1 at the
    exactly prorated amount (DOMAIN rule: each line rounded once)."""
    credit = prorated(charge.unit_amount, charge.quantity, *period, at, currency)
    text = f"Unused time on {charge.name} × {charge.quantity} after {day_label(at)}"
    amount = round_money(credit.copy_negate(), currency)
    return single_line("PRORATION", text, amount, (at, period[1]))


def remaining_time_line(charge: Recurring, period: Period, at: datetime, currency: str) -> Line:
    """The charge for `charge` from `at` to the end of `period`."""
    amount = prorated(charge.unit_amount, charge.quantity, *period, at, currency)
    text = f"Remaining time on {charge.name} × {charge.quantity} after {day_label(at)}"
    return single_line("PRORATION", text, amount, (at, period[1]))


def proration_lines(
    old: Recurring, new: Recurring, period: Period, at: datetime, currency: str
) -> list[Line]:
    """A change of plan at `at`: credit the old plan's unused time, charge the new one's."""
    return [
        unused_time_line(old, period, at, currency),
        remaining_time_line(new, period, at, currency),
    ]


# --- a subscription's next boundary ------------------------------------------


@dataclass(frozen=True)
class Boundary:
    """The end of a subscription's period and what the engine does there."""

    at: datetime
    before: State  # the period that ends at `at`
    after: State  # the state from `at` on (CANCELED for a scheduled cancel)

    @property
    def renews(self) -> bool:
        return self.after.status != "CANCELED"

    @property
    def usage_period(self) -> Period:
        return self.before.period_start, self.before.period_end

    @property
    def service_period(self) -> Period | None:
        return (self.after.period_start, self.after.period_end) if self.renews else None

    @property
    def invoice_period(self) -> Period:
        return self.service_period or self.usage_period


def next_boundary(row: Fields, state: State) -> Boundary:
    """The boundary that ends `state`'s period (a live state of the subscription `row`)."""
    at = state.period_end
    virtual = {
        **{k: row[k] for k in ("billing_anchor", "trial_end", "interval")},
        "status": state.status,
        "current_period_start": state.period_start,
        "current_period_end": state.period_end,
        "cancel_at_period_end": state.cancel_at_period_end,
    }
    return Boundary(at, state, state_at(virtual, at))


# --- from the catalog ------------------------------------------------------------


def charges(
    catalog: Catalog, plan_id: str, seats: int, items: Iterable[tuple[str, int]]
) -> list[Recurring]:
    """The base plan × seats, then each add-on (plan id, quantity) in the order given."""
    plans = catalog.by_id("plans")
    out = []
    for pid, qty in ((plan_id, seats), *items):
        p = plans[pid]
        out.append(Recurring(p["name"], p["interval"], p["amount"], qty))
    return out


def metered(catalog: Catalog, plan_id: str) -> list[Metered]:
    meters = catalog.by_id("meters")
    out = []
    for price in catalog.usage_prices.get(plan_id, []):
        m = meters[price["meter_id"]]
        tiers = tuple(
            Tier(None if t["up_to"] is None else quantity(t["up_to"]), t["unit_amount"])
            for t in catalog.tiers.get(price["id"], [])
        )
        out.append(Metered(m["id"], m["name"], m["unit"], quantity(price["included"]), tiers))
    return out


def boundary_lines(
    catalog: Catalog,
    row: Fields,
    boundary: Boundary,
    items: Sequence[tuple[str, int]],
    usage: Mapping[str, Decimal],
) -> list[Line]:
    """Every line of the invoice `row`'s subscription gets at `boundary`; `items` are the
    add-ons held at the boundary, `usage` the usage period's use by meter id."""
    currency = row["currency"].strip()
    lines: list[Line] = []
    if boundary.service_period is not None:
        due = charges(catalog, row["plan_id"], row["quantity"], items)
        lines += recurring_lines(due, currency, boundary.service_period)
    prices = metered(catalog, row["plan_id"])
    return lines + usage_lines(prices, usage, currency, boundary.usage_period)


def meters_billed(catalog: Catalog, plan_id: str) -> list[tuple[str, str]]:
    """(meter id, aggregation) of each meter the plan bills usage of."""
    meters = catalog.by_id("meters")
    return [
        (p["meter_id"], meters[p["meter_id"]]["aggregation"])
        for p in catalog.usage_prices.get(plan_id, [])
    ]
