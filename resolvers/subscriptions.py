"""Subscriptions, their items, and plan-change quotes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from loaders.base import Row
from resolvers import catalog, quotes
from resolvers.base import Ctx, found
from resolvers.connections import ListOf, Page, Slice, make_page, page_args
from resolvers.errors import BadUserInput, NotFound
from resolvers.lifecycle import State, state_at
from resolvers.money import exact_sum, round_money
from resolvers.periods import plan_change_lines
from resolvers.values import LineValue, Money, money, unit_money


@dataclass(frozen=True)
class SubscriptionValue:
    """A subscription as the graph shows it: the stored row in its state at `now`."""

    row: Row
    state: State

    @property
    def id(self) -> str:
        return str(self.row["id"])


def subscription_value(row: Row, now: datetime) -> SubscriptionValue:
    return SubscriptionValue(row, state_at(row, now))


async def subscription(ctx: Ctx, subscription_id: str) -> SubscriptionValue:
    row = found(await ctx.loaders.subscription.load(subscription_id))
    return subscription_value(row, ctx.now)


async def subscription_in_account(
    ctx: Ctx, account_id: str, subscription_id: str
) -> SubscriptionValue:
    """A subscription named in an argument must belong to the account it is asked under."""
    value = await subscription(ctx, subscription_id)
    if value.row["account_id"] != account_id:
        raise NotFound()
    return value


async def live_subscriptions(ctx: Ctx, account_id: str) -> list[SubscriptionValue]:
    """The account's subscriptions live at `now`, oldest first."""
    rows = await ctx.loaders.live_subscriptions.load(account_id)
    values = [subscription_value(row, ctx.now) for row in rows]
    return [v for v in values if v.state.live]


async def item(ctx: Ctx, item_id: str) -> Row:
    return found(await ctx.loaders.item.load(item_id))


async def items(ctx: Ctx, subscription_id: str) -> list[Row]:
    return list(await ctx.loaders.items.load(subscription_id))


async def subscriptions_page(
    ctx: Ctx, account_id: str, window: Slice, statuses: tuple[str, ...] | None
) -> Page:
    # Statuses filter on the state at `now`, as the graph shows it; a cursor stays good
    # from one request to the next, so the instant is not part of what it is bound to.
    of = ListOf("Account.subscriptions", account_id, (statuses,))
    args = page_args(ctx.cursor_secret, of, window, (ctx.now,))
    rows = await ctx.loaders.subscription_page.load((account_id, args))

    async def count() -> int:
        return int(await ctx.loaders.subscription_count.load((account_id, args.filters)))

    return make_page(ctx.cursor_secret, of, args, rows, count)


# --- plan-change quotes ---------------------------------------------------------

QUOTE_TTL: Final = timedelta(minutes=15)


@dataclass(frozen=True)
class QuoteValue:
    quote_id: str
    expires_at: datetime
    lines: list[LineValue]
    total: Money


async def preview_plan_change(ctx: Ctx, value: SubscriptionValue, plan_id: str) -> QuoteValue:
    """The two PRORATION lines a change now would bill, signed as a quote that
    changeSubscriptionPlan can hold the caller to until it expires."""
    if not value.state.live:
        raise BadUserInput("Only a live subscription can change plan.")
    sub = value.row
    old = await catalog.plan(ctx, sub["plan_id"])
    new = await catalog.plan(ctx, plan_id)
    _check_target(old, new)
    at = ctx.now.replace(microsecond=0)
    start, end, c = value.state.period_start, value.state.period_end, sub["currency"]
    credit, charge = plan_change_lines(
        old["amount"], new["amount"], sub["quantity"], start, end, at, c
    )
    lines = [
        _quote_line(
            sub,
            1,
            f"Unused time on {old['name']}",
            -sub["quantity"],
            old["amount"],
            credit,
            at,
            end,
        ),
        _quote_line(
            sub,
            2,
            f"Remaining time on {new['name']}",
            sub["quantity"],
            new["amount"],
            charge,
            at,
            end,
        ),
    ]
    total = round_money(exact_sum([credit, charge]), c)
    quote = quotes.sign(ctx.cursor_secret, sub["id"], sub["version"], plan_id, at, [credit, charge])
    return QuoteValue(quote, at + QUOTE_TTL, lines, Money(total, c))


def _check_target(old: Row, new: Row) -> None:
    if new["id"] == old["id"]:
        raise BadUserInput("The subscription is already on that plan.")
    if new["kind"] != "BASE" or not new["active"]:
        raise BadUserInput("The target plan is not an active base plan.")
    if new["currency"] != old["currency"] or new["interval"] != old["interval"]:
        raise BadUserInput("The target plan must bill in the same currency and interval.")


def _quote_line(
    sub: Row,
    n: int,
    description: str,
    qty: int,
    unit: Decimal,
    amount: Decimal,
    at: datetime,
    end: datetime,
) -> LineValue:
    c = sub["currency"]
    return LineValue(
        id=f"il_quote{sub['id'].removeprefix('sub_')}n{n}",
        kind="PRORATION",
        description=description,
        quantity=Decimal(qty),
        unit_amount=unit_money(unit, c),
        amount=money(amount, c),
        period_start=at,
        period_end=end,
        meter_id=None,
    )
