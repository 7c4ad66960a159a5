"""The plan catalog, from the request's one read of it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from loaders.base import Row
from resolvers.base import Ctx, found
from resolvers.pricing import Tier
from resolvers.values import quantity


@dataclass(frozen=True)
class UsagePriceValue:
    id: str
    meter_id: str
    included: Decimal
    tiers: list[Tier]


async def catalog(ctx: Ctx, table: str) -> list[Row]:
    """Every row of 'plans', 'meters' or 'features'."""
    return list(getattr(await ctx.loaders.catalog.get(), table))


async def plan(ctx: Ctx, plan_id: str) -> Row:
    return found((await ctx.loaders.catalog.get()).by_id("plans").get(plan_id))


async def meter(ctx: Ctx, meter_id: str) -> Row:
    return found((await ctx.loaders.catalog.get()).by_id("meters").get(meter_id))


async def meter_by_key(ctx: Ctx, key: str) -> Row | None:
    return (await ctx.loaders.catalog.get()).by_key("meters").get(key)


async def feature(ctx: Ctx, feature_id: str) -> Row:
    return found((await ctx.loaders.catalog.get()).by_id("features").get(feature_id))


async def feature_by_key(ctx: Ctx, key: str) -> Row | None:
    return (await ctx.loaders.catalog.get()).by_key("features").get(key)


async def usage_prices(ctx: Ctx, plan_id: str) -> list[UsagePriceValue]:
    snapshot = await ctx.loaders.catalog.get()
    return [
        UsagePriceValue(
            id=price["id"],
            meter_id=price["meter_id"],
            included=quantity(price["included"]),
            tiers=[_tier(t) for t in snapshot.tiers.get(price["id"], [])],
        )
        for price in snapshot.usage_prices.get(plan_id, [])
    ]


def _tier(row: Row) -> Tier:
    up_to = row["up_to"]
    return Tier(up_to=None if up_to is None else quantity(up_to), unit_amount=row["unit_amount"])


async def plan_entitlements(ctx: Ctx, plan_id: str) -> list[Row]:
    return list((await ctx.loaders.catalog.get()).entitlements.get(plan_id, []))
