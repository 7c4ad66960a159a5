"""Invoices, their lines, and the upcoming invoice of a live subscription."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loaders.base import Row
from loaders.catalog import Catalog
from resolvers.base import Ctx, found
from resolvers.billing import boundary_lines, meters_billed, next_boundary, preview_line
from resolvers.connections import ListOf, Page, Slice, make_page, page_args
from resolvers.errors import BadUserInput
from resolvers.money import Totals, invoice_totals
from resolvers.subscriptions import SubscriptionValue, live_subscriptions, subscription_in_account
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
    issued_at: datetime
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
    ctx: Ctx, name: str, parent: str, window: Slice, where: InvoiceFilter = InvoiceFilter()
) -> Page:
    """`Account.invoices` or `Subscription.invoices` (`name`) of `parent`, newest first."""
    if where.issued_after and where.issued_before and where.issued_after >= where.issued_before:
        raise BadUserInput("`issuedAfter` must be before `issuedBefore`.")
    of = ListOf(name, parent, where.params())
    args = page_args(ctx.cursor_secret, of, window)
    by_subscription = of.name == "Subscription.invoices"
    loaders = ctx.loaders
    pages = loaders.invoice_page_by_subscription if by_subscription else loaders.invoice_page
    counts = loaders.invoice_count_by_subscription if by_subscription else loaders.invoice_count
    rows = await pages.load((of.parent, args))

    async def count() -> int:
        return int(await counts.load((of.parent, args.filters)))

    return make_page(ctx.cursor_secret, of, args, rows, count)


async def lines_page(ctx: Ctx, invoice_id: str, window: Slice) -> Page:
    of = ListOf("Invoice.lines", invoice_id)
    args = page_args(ctx.cursor_secret, of, window)
    rows = await ctx.loaders.line_page.load((invoice_id, args))

    async def count() -> int:
        return int(await ctx.loaders.line_count.load((invoice_id, ())))

    return make_page(ctx.cursor_secret, of, args, rows, count)


async def upcoming_invoice(
    ctx: Ctx, account_row: Row, subscription_id: str | None
) -> PreviewValue | None:
    """The invoice the billing engine will issue at the end of a live subscription's
    current period if nothing else changes (`resolvers.billing`); None without one."""
    value: SubscriptionValue | None
    if subscription_id is not None:
        value = await subscription_in_account(ctx, account_row["id"], subscription_id)
    else:
        live = await live_subscriptions(ctx, account_row["id"])
        value = live[0] if live else None
    if value is None or not value.state.live:
        return None
    row, boundary = value.row, next_boundary(value.row, value.state)
    catalog = await ctx.loaders.catalog.get()
    held = await ctx.loaders.items.load(row["id"])
    items = [(i["plan_id"], i["quantity"]) for i in held if i["created_at"] <= boundary.at]
    usage = await _usage(ctx, catalog, row, boundary.usage_period)
    lines = boundary_lines(catalog, row, boundary, items, usage)
    currency = row["currency"].strip()
    totals = invoice_totals([ln.amount for ln in lines], account_row["tax_rate"], currency)
    stem = f"il_upcoming{row['id'].removeprefix('sub_')}t{int(boundary.at.timestamp())}n"
    return PreviewValue(
        subscription_id=row["id"],
        currency=currency,
        period_start=boundary.invoice_period[0],
        period_end=boundary.invoice_period[1],
        issued_at=boundary.at,
        lines=[preview_line(f"{stem}{n}", ln, currency) for n, ln in enumerate(lines, 1)],
        totals=totals,
    )


async def _usage(
    ctx: Ctx, catalog: Catalog, row: Row, period: tuple[datetime, datetime]
) -> dict[str, Decimal]:
    """The period's use of each meter the plan bills: SUM meters add, MAX meters peak."""
    meters = meters_billed(catalog, row["plan_id"])
    keys = [(row["account_id"], meter_id, *period) for meter_id, _ in meters]
    totals = await ctx.loaders.usage_total.load_many(keys)
    return {
        meter_id: quantity(total if aggregation == "SUM" else peak)
        for (meter_id, aggregation), (total, peak) in zip(meters, totals, strict=True)
    }
