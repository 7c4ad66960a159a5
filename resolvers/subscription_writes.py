"""Changing a subscription: cancel (at period end, or now with a final invoice), resume a
pending cancel, change plan with exact proration.

Each mutation first locks the subscription and lets the billing engine process any
boundary that fell due (`engine.catch_up`, same transaction), so it changes the
subscription as it is now, and the engine and a mutation never bill one boundary twice.
Concurrent changes of one subscription queue on its row lock: each applies to the
state the previous one left, with its own proration."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from loaders import changes
from loaders.billing import Conn
from loaders.catalog import Catalog
from resolvers import engine, quotes, writes
from resolvers.base import Ctx
from resolvers.billing import (
    Line,
    charges,
    metered,
    meters_billed,
    unused_time_line,
    usage_lines,
)
from resolvers.errors import Conflict, NotFound
from resolvers.issuing import issue_invoice
from resolvers.lifecycle import State, state_at
from resolvers.money import Totals, invoice_totals
from resolvers.plan_changes import price, target_problem
from resolvers.quotes import Quote
from resolvers.values import quantity
from resolvers.writes import Outcome, refuse

Row = asyncpg.Record


async def _current(
    conn: Conn, catalog: Catalog, ctx: Ctx, subscription_id: str
) -> tuple[Row, State]:
    """The subscription locked and brought current, or NOT_FOUND (missing or out of reach)."""
    sub_id = writes.object_id(subscription_id)
    row, _ = await engine.catch_up(conn, catalog, sub_id, ctx.now, ctx.reach.param)
    if row is None:
        raise NotFound()
    return row, state_at(row, ctx.now)


def _changed(row: Row, invoice: tuple[str, str] | None = None) -> dict[str, Any]:
    return {"subscription": row["id"], "invoice": None if invoice is None else invoice[0]}


def _invoice_event(invoice: tuple[str, str] | None, totals: Totals | None, currency: str) -> Any:
    if invoice is None or totals is None:
        return None
    return {
        "invoiceId": invoice[0],
        "number": invoice[1],
        "total": totals.total,
        "currency": currency,
    }


# --- changeSubscriptionPlan ------------------------------------------------------


async def change_plan(
    ctx: Ctx,
    subscription_id: str,
    plan_id: str,
    prorate: bool,
    quote_id: str | None,
    key: str | None,
) -> Outcome:
    request = {"id": subscription_id, "planId": plan_id, "prorate": prorate, "quoteId": quote_id}
    quote = None if quote_id is None else quotes.verify(ctx.cursor_secret, quote_id)
    if quote_id is not None and quote is None:
        return Outcome(user_errors=refuse(("quoteId",), "This is not a valid quote.").errors)

    async def work(conn: Conn, catalog: Catalog) -> Mapping[str, Any]:
        row, state = await _current(conn, catalog, ctx, subscription_id)
        _check_change(catalog, row, state, plan_id)
        tax_rate = (await _account(conn, ctx, row["account_id"]))["tax_rate"]
        at = ctx.now.replace(microsecond=0)
        if quote is not None:
            at = _quoted_at(ctx, quote, row, state, plan_id, prorate, tax_rate)
        lines, totals = price(catalog, row, state, plan_id, tax_rate, at)
        if quote is not None:
            _bills_as_quoted(quote, lines, totals)
        period = (at, state.period_end)
        invoice = await _bill(conn, ctx, row, lines, totals, tax_rate, period) if prorate else None
        changed = await changes.set_plan(conn, row["id"], plan_id)
        payload = {
            **{"subscriptionId": row["id"], "fromPlan": row["plan_id"], "toPlan": plan_id},
            **{"at": at, "invoice": _invoice_event(invoice, totals, row["currency"].strip())},
        }
        await writes.event(
            conn, ctx, row["account_id"], "subscription.plan_changed", row["id"], payload
        )
        return _changed(changed, invoice)

    return await writes.run(ctx, "changeSubscriptionPlan", key, request, work)


def _check_change(catalog: Catalog, row: Row, state: State, plan_id: str) -> None:
    if not state.live:
        raise refuse(("id",), "Only a live subscription can change plan.")
    plans = catalog.by_id("plans")
    target = plans.get(plan_id)
    if target is None:
        raise refuse(("planId",), "There is no plan with this id.")
    if problem := target_problem(plans[row["plan_id"]], target):
        raise refuse(("planId",), problem)


def _quoted_at(
    ctx: Ctx, quote: Quote, row: Row, state: State, plan_id: str, prorate: bool, tax_rate: Decimal
) -> datetime:
    """The quote's instant, once the quote is shown to be this caller's, for this change,
    unexpired, and the subscription still as it was quoted."""
    problems = [
        (quote.subscription_id != row["id"], "This quote is for another subscription."),
        (quote.subject != ctx.subject, "This quote was issued to another caller."),
        (quote.to_plan != plan_id, "This quote is for another plan."),
        (not prorate, "A quote bills its proration: it cannot be used with prorate: false."),
        (quote.expires_at <= ctx.now, "This quote has expired; preview the change again."),
    ]
    for failed, message in problems:
        if failed:
            raise refuse(("quoteId",), message)
    current = (row["plan_id"], row["quantity"], state.period_start, state.period_end, tax_rate)
    if quote.state() != current:
        raise Conflict("The subscription changed since this quote was issued.")
    return quote.at


def _bills_as_quoted(quote: Quote, lines: list[Line], totals: Totals) -> None:
    if (tuple(ln.amount for ln in lines), totals.total) != (quote.amounts, quote.total):
        raise Conflict("The subscription changed since this quote was issued.")


async def _account(conn: Conn, ctx: Ctx, account_id: str) -> Row:
    account = await changes.account(conn, writes.object_id(account_id), ctx.reach.param)
    if account is None:
        raise NotFound()
    return account


async def _bill(
    conn: Conn, ctx: Ctx, row: Row, lines: list[Line], totals: Totals, tax_rate: Decimal,
    period: tuple[datetime, datetime],
) -> tuple[str, str]:  # fmt: skip
    return await issue_invoice(
        conn,
        account_id=row["account_id"],
        subscription_id=row["id"],
        currency=row["currency"].strip(),
        tax_rate=tax_rate,
        lines=lines,
        totals=totals,
        issued_at=ctx.now,
        period=period,
    )


# --- cancelSubscription / resumeSubscription ---------------------------------------


async def cancel(
    ctx: Ctx, subscription_id: str, at_period_end: bool, prorate: bool, key: str | None
) -> Outcome:
    request = {"id": subscription_id, "atPeriodEnd": at_period_end, "prorate": prorate}

    async def work(conn: Conn, catalog: Catalog) -> Mapping[str, Any]:
        row, state = await _current(conn, catalog, ctx, subscription_id)
        if not state.live:
            raise refuse(("id",), "The subscription is not live: there is nothing to cancel.")
        if at_period_end:
            return await _schedule_cancel(conn, ctx, row, state, prorate)
        return await _cancel_now(conn, ctx, catalog, row, state, prorate)

    return await writes.run(ctx, "cancelSubscription", key, request, work)


async def _schedule_cancel(
    conn: Conn, ctx: Ctx, row: Row, state: State, prorate: bool
) -> Mapping[str, Any]:
    if prorate:
        raise refuse(("prorate",), "prorate applies to a cancel now (atPeriodEnd: false).")
    if state.cancel_at_period_end:
        raise refuse(("id",), "A cancel at the end of this period is already scheduled.")
    changed = await changes.schedule_cancel(conn, row["id"], ctx.now)
    payload = {"subscriptionId": row["id"], "endsAt": state.period_end}
    await writes.event(
        conn, ctx, row["account_id"], "subscription.cancel_scheduled", row["id"], payload
    )
    return _changed(changed)


async def _cancel_now(
    conn: Conn, ctx: Ctx, catalog: Catalog, row: Row, state: State, prorate: bool
) -> Mapping[str, Any]:
    """CANCELED now, with a final invoice: this period's usage so far in arrears, and
    (when asked) a credit for the unused time of what was billed in advance."""
    tax_rate = (await _account(conn, ctx, row["account_id"]))["tax_rate"]
    lines = await _final_lines(conn, catalog, row, state, ctx.now, prorate)
    currency = row["currency"].strip()
    totals = invoice_totals([ln.amount for ln in lines], tax_rate, currency)
    invoice = await _bill(conn, ctx, row, lines, totals, tax_rate, (state.period_start, ctx.now))
    changed = await changes.cancel_now(conn, row["id"], ctx.now)
    payload = {
        "subscriptionId": row["id"],
        "at": ctx.now,
        "invoice": _invoice_event(invoice, totals, currency),
    }
    await writes.event(conn, ctx, row["account_id"], "subscription.canceled", row["id"], payload)
    return _changed(changed, invoice)


async def _final_lines(
    conn: Conn, catalog: Catalog, row: Row, state: State, now: datetime, prorate: bool
) -> list[Line]:
    currency, period = row["currency"].strip(), (state.period_start, state.period_end)
    used = await changes.usage_by_meter(conn, row["account_id"], state.period_start, now)
    usage = {
        meter: quantity(used.get(meter, (Decimal(0), Decimal(0)))[0 if agg == "SUM" else 1])
        for meter, agg in meters_billed(catalog, row["plan_id"])
    }
    lines = usage_lines(
        metered(catalog, row["plan_id"]), usage, currency, (state.period_start, now)
    )
    # A trial was not billed in advance: there is nothing to credit.
    if prorate and state.status != "TRIALING":
        items = await changes.items_held(conn, row["id"], state.period_start)
        billed = charges(catalog, row["plan_id"], row["quantity"], items)
        lines += [unused_time_line(c, period, now, currency) for c in billed]
    return lines


async def resume(ctx: Ctx, subscription_id: str, key: str | None) -> Outcome:
    """Undo a pending cancel before the period ends."""

    async def work(conn: Conn, catalog: Catalog) -> Mapping[str, Any]:
        row, state = await _current(conn, catalog, ctx, subscription_id)
        if not (state.live and state.cancel_at_period_end):
            raise refuse(("id",), "The subscription has no pending cancel to undo.")
        changed = await changes.resume(conn, row["id"])
        payload = {"subscriptionId": row["id"], "periodEnd": state.period_end}
        await writes.event(conn, ctx, row["account_id"], "subscription.resumed", row["id"], payload)
        return _changed(changed)

    return await writes.run(ctx, "resumeSubscription", key, {"id": subscription_id}, work)
