"""Invoicing an account up to as_of (docs/billing.md): at each period boundary P_k, the plan
and add-ons for [P_k, P_k+1) in advance and the usage of [P_k-1, P_k) in arrears; an
invoice of two PRORATION lines at each plan change; the odd service credit; and the
invoices outside any subscription. Statuses are set afterwards (`settlement`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from gateway.seed.accounts import FIXED_SCENARIOS, Account
from gateway.seed.catalog import Plan
from gateway.seed.ids import make_id
from gateway.seed.invoices import Invoice, service_lines, usage_lines
from gateway.seed.subscriptions import Subscription
from gateway.seed.usage import MeterSeries, synthetic_usage
from resolvers.billing import Line, Recurring, day_label, proration_lines, single_line
from resolvers.money import exact_product, invoice_totals, round_money


def new_invoice(
    a: Account,
    subscription_id: str | None,
    created: datetime,
    period: tuple[datetime, datetime],
    lines: list[Line],
    boundary: datetime | None = None,
) -> Invoice:
    """A DRAFT invoice; its line ids are drawn before its own id. `boundary`: the period
    boundary it bills at (the engine's one-invoice-per-boundary key)."""
    total = invoice_totals([ln.amount for ln in lines], a.tax_rate, a.currency).total
    line_ids = [make_id(a.rng, "il") for _ in lines]
    inv_id = make_id(a.rng, "inv")
    return Invoice(inv_id, subscription_id, created, period, lines, line_ids, total, boundary)


def bill(a: Account, sub: Subscription, events: Sequence[MeterSeries]) -> None:
    """The subscription's invoices up to as_of (statuses are set by settlement)."""
    if sub.trial_end is not None:
        _bill_trial(a, sub, sub.trial_end)
        return
    k = 0
    while sub.boundary(k) <= a.as_of and (sub.last_invoice_at is None or k <= sub.last_invoice_at):
        if k:
            _bill_changes(a, sub, sub.boundary(k - 1), sub.boundary(k))
        _bill_boundary(a, sub, k, events)
        k += 1


def _bill_trial(a: Account, sub: Subscription, trial_end: datetime) -> None:
    text = f"Trial period for {sub.plan.name}"
    zero = round_money(Decimal(0), a.currency)
    line = single_line("SUBSCRIPTION", text, zero, (sub.start, trial_end))
    period = (sub.start, trial_end)
    sub.invoices.append(new_invoice(a, sub.id, sub.start, period, [line], sub.start))


def _bill_boundary(a: Account, sub: Subscription, k: int, events: Sequence[MeterSeries]) -> None:
    """The invoice at boundary k: service in advance unless paused or canceled, usage of
    the period before in arrears; its period is the service period it bills, if any."""
    at, end = sub.boundary(k), sub.boundary(k + 1)
    prev = sub.boundary(k - 1) if k else None
    serving = sub.service_through is None or k <= sub.service_through
    lines: list[Line] = []
    if serving:
        addons = [p for _, p, since in sub.addons if since <= at]
        lines += service_lines(sub.plan_at(at), sub.quantity, at, end, addons)
    if prev is not None:
        lines += usage_lines(sub.plan_at(at), _usage(a, events, (prev, at)), prev, at)
    if lines:
        _maybe_credit(a, lines, at)
        period = (at, end) if serving or prev is None else (prev, at)
        sub.invoices.append(new_invoice(a, sub.id, at, period, lines, at))


def _usage(
    a: Account, events: Sequence[MeterSeries], period: tuple[datetime, datetime]
) -> dict[str, Decimal]:
    """The events' exact aggregate inside the event window, a synthetic figure before."""
    if period[0] >= a.as_of - timedelta(days=a.usage_days):
        return {s.meter.key: s.aggregate(*period) for s in events}
    return {
        m.key: synthetic_usage(a.key, a.profile, m, period, a.as_of)
        for m in a.catalog.meters.values()
    }


def _bill_changes(a: Account, sub: Subscription, after: datetime, until: datetime) -> None:
    """Plan changes in (after, until]: an invoice of two PRORATION lines at each."""
    for at, new in sub.changes:
        if after < at <= until:
            _bill_change(a, sub, at, new)


def _bill_change(a: Account, sub: Subscription, at: datetime, new: Plan) -> None:
    old = sub.plan_at(at - timedelta(microseconds=1))
    k = sub.index_at(at)
    period = (sub.boundary(k), sub.boundary(k + 1))
    q = sub.quantity
    lines = proration_lines(
        Recurring(old.name, old.interval, old.amount, q),
        Recurring(new.name, new.interval, new.amount, q),
        period,
        at,
        a.currency,
    )
    sub.invoices.append(new_invoice(a, sub.id, at, (at, period[1]), lines))


def _maybe_credit(a: Account, lines: list[Line], at: datetime) -> None:
    """Now and then a service credit on the plan's line, for an incident days before."""
    base = lines[0].amount if lines[0].kind == "SUBSCRIPTION" else Decimal(0)
    if base > 0 and a.rng.randrange(100) < 4:
        pct = a.rng.choice((5, 10, 25))
        credit = round_money(exact_product(base, Decimal(-pct).scaleb(-2)), a.currency)
        incident = day_label(at - timedelta(days=a.rng.randint(3, 20)))
        text = f"Service credit ({pct} %): incident of {incident}"
        lines.append(single_line("ADJUSTMENT", text, credit))


def one_off_invoices(a: Account, first_start: datetime) -> list[Invoice]:
    """Invoices outside any subscription: a DRAFT for services, a paid onboarding fee."""
    out = []
    if a.scenario == "active_draft" or (
        a.index >= len(FIXED_SCENARIOS) and a.rng.randrange(100) < 6
    ):
        out.append(_services_draft(a))
    if a.rng.randrange(100) < 15:
        out.append(_onboarding_fee(a, first_start))
    return out


def _services_draft(a: Account) -> Invoice:
    at = a.day0 - timedelta(hours=38)
    hours, rate = Decimal(a.rng.randint(2, 8)), Decimal("150.00")
    amount = round_money(exact_product(hours, rate), a.currency)
    text = "Professional services: WAF rule migration (hours)"
    draft = new_invoice(a, None, at, (at, at), [Line("ADJUSTMENT", text, hours, rate, amount)])
    draft.held = True
    return draft


def _onboarding_fee(a: Account, first_start: datetime) -> Invoice:
    at = first_start + timedelta(days=a.rng.randint(1, 5))
    fee = round_money(Decimal(a.rng.choice((99, 250, 500))), a.currency)
    line = single_line("ADJUSTMENT", "Onboarding and setup", fee)
    return new_invoice(a, None, at, (at, at), [line])
