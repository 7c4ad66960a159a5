"""A change of plan, priced: the two PRORATION lines (a credit for the old plan's unused
time, a charge for the new plan's remaining time), taxed, and the signed quote that
`previewPlanChange` shows and `changeSubscriptionPlan(quoteId:)` holds the caller to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from loaders.catalog import Catalog
from resolvers import quotes
from resolvers.base import Ctx, found
from resolvers.billing import Line, Recurring, preview_line, proration_lines
from resolvers.errors import BadUserInput, NotFound
from resolvers.lifecycle import Fields, State
from resolvers.money import Totals, invoice_totals
from resolvers.quotes import Quote
from resolvers.subscriptions import SubscriptionValue
from resolvers.values import LineValue, Money, money

QUOTE_TTL: Final = timedelta(minutes=15)


@dataclass(frozen=True)
class QuoteValue:
    quote_id: str
    expires_at: datetime
    lines: list[LineValue]
    subtotal: Money
    tax: Money
    total: Money


def target_problem(old: Fields, new: Fields) -> str | None:
    """Why `new` cannot replace `old` as a subscription's plan, if it cannot."""
    if new["id"] == old["id"]:
        return "The subscription is already on that plan."
    if new["kind"] != "BASE" or not new["active"]:
        return "The target plan is not an active base plan."
    if new["currency"] != old["currency"]:
        return f"The target plan bills in {new['currency']}, the subscription in {old['currency']}."
    if new["interval"] != old["interval"]:
        return "The target plan must bill at the same interval (monthly or yearly)."
    return None


def price(
    catalog: Catalog, row: Fields, state: State, to_plan: str, tax_rate: Decimal, at: datetime
) -> tuple[list[Line], Totals]:
    """The lines and totals of changing `row` (in `state`) to `to_plan` at `at`."""
    plans = catalog.by_id("plans")
    old, new, seats = plans[row["plan_id"]], plans[to_plan], row["quantity"]
    lines = proration_lines(
        Recurring(old["name"], old["interval"], old["amount"], seats),
        Recurring(new["name"], new["interval"], new["amount"], seats),
        (state.period_start, state.period_end),
        at,
        row["currency"].strip(),
    )
    return lines, invoice_totals([ln.amount for ln in lines], tax_rate, row["currency"].strip())


def quote_of(
    row: Fields, state: State, to_plan: str, tax_rate: Decimal, at: datetime, subject: str,
    lines: list[Line], totals: Totals,
) -> Quote:  # fmt: skip
    return Quote(
        subscription_id=row["id"],
        subject=subject,
        from_plan=row["plan_id"],
        to_plan=to_plan,
        quantity=row["quantity"],
        period_start=state.period_start,
        period_end=state.period_end,
        at=at,
        tax_rate=tax_rate,
        amounts=tuple(ln.amount for ln in lines),
        total=totals.total,
        expires_at=at + QUOTE_TTL,
    )


async def preview(ctx: Ctx, value: SubscriptionValue, plan_id: str) -> QuoteValue:
    """What a change to `plan_id` now would bill, signed as a quote valid 15 minutes."""
    if not value.state.live:
        raise BadUserInput("Only a live subscription can change plan.")
    catalog = await ctx.loaders.catalog.get()
    row, plans = value.row, catalog.by_id("plans")
    new = plans.get(plan_id)
    if new is None:
        raise NotFound()
    if problem := target_problem(plans[row["plan_id"]], new):
        raise BadUserInput(problem)
    account = found(await ctx.loaders.account.load(row["account_id"]))
    at = ctx.now.replace(microsecond=0)
    lines, totals = price(catalog, row, value.state, plan_id, account["tax_rate"], at)
    quote = quote_of(row, value.state, plan_id, account["tax_rate"], at, ctx.subject, lines, totals)
    quote_id = quotes.sign(ctx.cursor_secret, quote)
    c = row["currency"].strip()
    return QuoteValue(
        quote_id=quote_id,
        expires_at=quote.expires_at,
        lines=[preview_line(quotes.line_id(quote_id, n), ln, c) for n, ln in enumerate(lines, 1)],
        subtotal=money(totals.subtotal, c),
        tax=money(totals.tax, c),
        total=money(totals.total, c),
    )
