"""Invoices, their lines, and the upcoming invoice of a live subscription."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loaders.base import Row
from resolvers.base import Ctx, found
from resolvers.catalog import UsagePriceValue, meter, plan, usage_prices
from resolvers.connections import Page, make_page, page_args
from resolvers.errors import BadUserInput
from resolvers.money import Totals, invoice_totals
from resolvers.pricing import graduated_lines, recurring_amount
from resolvers.subscriptions import LIVE, subscription_in_account
from resolvers.values import LineValue, Money, money, quantity, unit_money


@dataclass(frozen=True)
class InvoiceFilter:
    statuses: tuple[str, ...] | None = None
    issued_after: datetime | None = None
    issued_before: datetime | None = None

    def params(self) -> tuple[tuple[str, ...] | None, datetime | None, datetime | None]:
        return self.statuses, self.issued_after, self.issued_before


@dataclass(frozen=True)
class PreviewValue:
    subscription_id: str
    currency: str
    period_start: datetime
    period_end: datetime
    lines: list[LineValue]
    totals: Totals


async def invoice(ctx: Ctx, invoice_id: str) -> Row:
    return found(await ctx.loaders.invoice.load(invoice_id))


async def line(ctx: Ctx, line_id: str) -> Row:
    return found(await ctx.loaders.line.load(line_id))


def invoice_money(row: Row) -> dict[str, Money]:
    c = row["currency"]
    return {
        "subtotal": money(row["subtotal"], c),
        "tax": money(row["tax"], c),
        "total": money(row["total"], c),
        "amount_paid": money(row["amount_paid"], c),
        "amount_due": money(row["total"] - row["amount_paid"], c),
    }


def line_value(row: Row) -> LineValue:
    c = row["currency"]
    return LineValue(
        id=row["id"],
        kind=row["kind"],
        description=row["description"],
        quantity=quantity(row["quantity"]),
        unit_amount=unit_money(row["unit_amount"], c),
        amount=money(row["amount"], c),
        period_start=row["period_start"],
        period_end=row["period_end"],
        meter_id=row["meter_id"],
    )


async def invoices_page(
    ctx: Ctx,
    parent: str,
    by_subscription: bool,
    first: int | None,
    after: str | None,
    where: InvoiceFilter = InvoiceFilter(),
) -> Page:
    if where.issued_after and where.issued_before and where.issued_after >= where.issued_before:
        raise BadUserInput("`issuedAfter` must be before `issuedBefore`.")
    args = page_args(ctx.cursor_secret, "invoices", first, after, where.params())
    pages = (
        ctx.loaders.invoice_page_by_subscription if by_subscription else ctx.loaders.invoice_page
    )
    counts = (
        ctx.loaders.invoice_count_by_subscription if by_subscription else ctx.loaders.invoice_count
    )
    rows = await pages.load((parent, args))

    async def count() -> int:
        return int(await counts.load((parent, args.filters)))

    return make_page(ctx.cursor_secret, "invoices", args, rows, count)


async def lines_page(ctx: Ctx, invoice_id: str, first: int | None, after: str | None) -> Page:
    args = page_args(ctx.cursor_secret, "lines", first, after)
    rows = await ctx.loaders.line_page.load((invoice_id, args))

    async def count() -> int:
        return int(await ctx.loaders.line_count.load((invoice_id, ())))

    return make_page(ctx.cursor_secret, "lines", args, rows, count)


async def upcoming_invoice(
    ctx: Ctx, account_row: Row, subscription_id: str | None
) -> PreviewValue | None:
    """What the current period of a live subscription bills so far; None without one."""
    sub: Row | None
    if subscription_id is not None:
        sub = await subscription_in_account(ctx, account_row["id"], subscription_id)
    else:
        live = await ctx.loaders.live_subscriptions.load(account_row["id"])
        sub = live[0] if live else None
    if sub is None or sub["status"] not in LIVE:
        return None
    lines = await _recurring_lines(ctx, sub) + await _usage_lines(ctx, sub)
    totals = invoice_totals(
        [ln.amount.amount for ln in lines], account_row["tax_rate"], sub["currency"]
    )
    return PreviewValue(
        sub["id"],
        sub["currency"],
        sub["current_period_start"],
        sub["current_period_end"],
        lines,
        totals,
    )


def _preview_line(
    sub: Row,
    n: int,
    kind: str,
    description: str,
    qty: Decimal,
    unit: Decimal,
    amount: Decimal,
    meter_id: str | None = None,
) -> LineValue:
    c = sub["currency"]
    return LineValue(
        id=f"il_preview{sub['id'].removeprefix('sub_')}n{n}",
        kind=kind,
        description=description,
        quantity=quantity(qty),
        unit_amount=unit_money(unit, c),
        amount=money(amount, c),
        period_start=sub["current_period_start"],
        period_end=sub["current_period_end"],
        meter_id=meter_id,
    )


async def _recurring_lines(ctx: Ctx, sub: Row) -> list[LineValue]:
    items = await ctx.loaders.items.load(sub["id"])
    charges = [(sub["plan_id"], sub["quantity"])] + [(i["plan_id"], i["quantity"]) for i in items]
    plans = [await plan(ctx, plan_id) for plan_id, _ in charges]
    trial = sub["status"] == "TRIALING"
    out = []
    for n, (plan_row, qty) in enumerate(zip(plans, [q for _, q in charges], strict=True), 1):
        unit = Decimal(0) if trial else plan_row["amount"]
        label = f"{plan_row['name']}{' (trial)' if trial else ''}"
        amount = recurring_amount(unit, qty, sub["currency"])
        out.append(_preview_line(sub, n, "SUBSCRIPTION", label, Decimal(qty), unit, amount))
    return out


async def _usage_lines(ctx: Ctx, sub: Row) -> list[LineValue]:
    prices = await usage_prices(ctx, sub["plan_id"])
    keys = [
        (sub["account_id"], p.meter_id, sub["current_period_start"], sub["current_period_end"])
        for p in prices
    ]
    totals = await ctx.loaders.usage_total.load_many(keys)
    meters = [await meter(ctx, p.meter_id) for p in prices]
    out: list[LineValue] = []
    for price, (total_sum, total_max), meter_row in zip(prices, totals, meters, strict=True):
        used = total_sum if meter_row["aggregation"] == "SUM" else total_max
        out += _tier_lines(sub, price, meter_row, used, first_n=100 + 10 * len(out))
    return out


def _tier_lines(
    sub: Row, price: UsagePriceValue, meter: Row, used: Decimal, first_n: int
) -> Sequence[LineValue]:
    tiers = graduated_lines(used, price.included, price.tiers, sub["currency"])
    return [
        _preview_line(
            sub,
            first_n + t.tier,
            "USAGE",
            f"{meter['name']} — tier {t.tier + 1}",
            t.quantity,
            t.unit_amount,
            t.amount,
            meter["id"],
        )
        for t in tiers
    ]
