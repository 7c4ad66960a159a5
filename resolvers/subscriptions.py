"""Subscriptions, their items, and plan-change quotes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loaders.base import Row
from resolvers.base import Ctx, found
from resolvers.connections import ListOf, Page, Slice, make_page, page_args
from resolvers.errors import NotFound
from resolvers.lifecycle import State, state_at


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
