"""Accounts and partners."""

from __future__ import annotations

from loaders.base import Row
from resolvers.base import Ctx, found
from resolvers.connections import Page, make_page, page_args

ROOT = ""  # the parent key of the root `accounts` list


async def account(ctx: Ctx, account_id: str) -> Row:
    return found(await ctx.loaders.account.load(account_id))


async def partner(ctx: Ctx, partner_id: str) -> Row:
    return found(await ctx.loaders.partner.load(partner_id))


async def partner_of(ctx: Ctx, account_row: Row) -> Row | None:
    partner_id = account_row["partner_id"]
    return None if partner_id is None else await ctx.loaders.partner.load(partner_id)


async def accounts_page(ctx: Ctx, parent: str, first: int | None, after: str | None) -> Page:
    """Accounts in reach: all of them (parent ROOT) or those a partner manages."""
    args = page_args(ctx.cursor_secret, "accounts", first, after)
    rows = await ctx.loaders.account_page.load((parent, args))

    async def count() -> int:
        return int(await ctx.loaders.account_count_by_partner.load((parent, ())))

    return make_page(ctx.cursor_secret, "accounts", args, rows, count)
