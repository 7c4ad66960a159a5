"""Accounts and partners."""

from __future__ import annotations

from loaders.accounts import ROOT
from loaders.base import CountLoader, PageLoader, Row
from resolvers.base import Ctx, found
from resolvers.connections import ListOf, Page, Slice, make_page, page_args


async def account(ctx: Ctx, account_id: str) -> Row:
    return found(await ctx.loaders.account.load(account_id))


async def partner(ctx: Ctx, partner_id: str) -> Row:
    return found(await ctx.loaders.partner.load(partner_id))


async def partner_of(ctx: Ctx, account_row: Row) -> Row | None:
    partner_id = account_row["partner_id"]
    return None if partner_id is None else await ctx.loaders.partner.load(partner_id)


async def accounts_page(ctx: Ctx, partner_id: str | None, window: Slice) -> Page:
    """Accounts in reach, oldest first: all of them, or those `partner_id` manages."""
    pages: PageLoader
    counts: CountLoader
    if partner_id is None:
        of = ListOf("Query.accounts", ROOT)
        pages, counts = ctx.loaders.account_page, ctx.loaders.account_page_count
    else:
        of = ListOf("Partner.accounts", partner_id)
        pages, counts = ctx.loaders.account_page_by_partner, ctx.loaders.account_count_by_partner
    args = page_args(ctx.cursor_secret, of, window)
    rows = await pages.load((of.parent, args))

    async def count() -> int:
        return int(await counts.load((of.parent, ())))

    return make_page(ctx.cursor_secret, of, args, rows, count)
