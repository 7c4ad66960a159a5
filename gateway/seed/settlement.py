"""Invoice statuses: DRAFT until finalized an hour after creation, then OPEN (net 14
days) and PAID within 3 days; each scenario's rules override the latest invoices, and a
few old paid invoices are voided and re-issued with a credit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Final

from gateway.seed.accounts import Account
from gateway.seed.billing import new_invoice
from gateway.seed.invoices import Invoice
from gateway.seed.subscriptions import Subscription
from resolvers.billing import single_line
from resolvers.money import exact_product, round_money

FINALIZE_AFTER: Final = timedelta(hours=1)


def settle(a: Account, subs: Sequence[Subscription], one_off: Sequence[Invoice]) -> None:
    """Every invoice's status; partners' accounts on terms (and account 0) leave their
    latest invoice OPEN."""
    terms = a.partner_id is not None and a.rng.randrange(100) < 40
    for sub in subs:
        for pos, inv in enumerate(sub.invoices):
            latest = pos == len(sub.invoices) - 1
            _lifecycle(a, inv, hold_open=latest and (terms or a.index == 0))
        _scenario_statuses(a, sub)
    for inv in one_off:
        _lifecycle(a, inv, hold_open=False)
    for sub in subs:
        _voids(a, sub)


def _lifecycle(a: Account, inv: Invoice, *, hold_open: bool) -> None:
    issued = inv.created_at + FINALIZE_AFTER
    if inv.held or issued > a.as_of:
        return
    inv.issue(issued)
    paid = issued + timedelta(hours=a.rng.randint(1, 72))
    if inv.total <= 0:
        inv.pay(issued)
    elif not hold_open and paid <= a.as_of:
        inv.pay(paid)


def _scenario_statuses(a: Account, sub: Subscription) -> None:
    rng = a.rng
    billable = [i for i in sub.invoices if i.total > 0 and i.issued_at is not None]
    if sub.status == "PAST_DUE" and len(billable) >= 2:
        billable[-1].unpay("OPEN")
        billable[-2].unpay("OPEN", _part(a, billable[-2], rng.randint(20, 60)))
    elif sub.status == "CANCELED" and a.scenario == "canceled_unpaid" and len(billable) >= 2:
        billable[-1].unpay("UNCOLLECTIBLE")
        billable[-2].unpay("UNCOLLECTIBLE", _part(a, billable[-2], 25))
    elif billable and billable[-1].status == "OPEN" and rng.randrange(100) < 30:
        billable[-1].amount_paid = _part(a, billable[-1], rng.randint(10, 90))


def _part(a: Account, inv: Invoice, pct: int) -> Decimal:
    return round_money(exact_product(inv.total, Decimal(pct).scaleb(-2)), a.currency)


def _voids(a: Account, sub: Subscription) -> None:
    """A few old paid invoices were voided and re-issued a day later with a credit."""
    for inv in list(sub.invoices):
        if _voided(a, inv):
            _reissue(a, sub, inv)


def _voided(a: Account, inv: Invoice) -> bool:
    return (
        inv.created_at < a.as_of - timedelta(days=60)
        and inv.status == "PAID"
        and inv.lines[0].kind == "SUBSCRIPTION"
        and inv.total > 0
        and a.rng.randrange(100) < 3
    )


def _reissue(a: Account, sub: Subscription, inv: Invoice) -> None:
    inv.unpay("VOID")
    credit = round_money(exact_product(inv.lines[0].amount, Decimal("-0.1")), a.currency)
    lines = [*inv.lines, single_line("ADJUSTMENT", "Correction: 10 % goodwill credit", credit)]
    again = new_invoice(a, sub.id, inv.created_at + timedelta(days=1), inv.period, lines)
    _lifecycle(a, again, hold_open=False)
    sub.invoices.insert(sub.invoices.index(inv) + 1, again)
