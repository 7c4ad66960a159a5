"""The plan catalog."""

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


async def catalog(ctx: Ctx, name: str) -> list[Row]:
    return list(await ctx.loaders.catalog_lists.load(name))


async def plan(ctx: Ctx, plan_id: str) -> Row:
    return found(await ctx.loaders.plan.load(plan_id))


async def meter(ctx: Ctx, meter_id: str) -> Row:
    return found(await ctx.loaders.meter.load(meter_id))


async def feature(ctx: Ctx, feature_id: str) -> Row:
    return found(await ctx.loaders.feature.load(feature_id))


def usage_price(row: Row) -> UsagePriceValue:
    tiers = [
        Tier(up_to=None if up is None else quantity(up), unit_amount=unit)
        for up, unit in zip(row["tier_up_to"], row["tier_unit_amount"], strict=True)
    ]
    return UsagePriceValue(row["id"], row["meter_id"], quantity(row["included"]), tiers)


async def usage_prices(ctx: Ctx, plan_id: str) -> list[UsagePriceValue]:
    return [usage_price(r) for r in await ctx.loaders.usage_prices_by_plan.load(plan_id)]


async def plan_entitlements(ctx: Ctx, plan_id: str) -> list[Row]:
    return list(await ctx.loaders.entitlements_by_plan.load(plan_id))
