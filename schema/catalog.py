"""The plan catalog: plans, meters, features. Any valid token may read it."""

from __future__ import annotations

import decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from loaders.base import Row
from resolvers import catalog, values
from resolvers.values import money, quantity
from schema.common import Money, Node
from schema.context import RequestContext
from schema.permissions import PUBLIC, field, resolver


@strawberry.enum(description="How often a plan bills.")
class BillingInterval(Enum):
    MONTH = strawberry.enum_value(
        "MONTH", description="Monthly, on the start's day (clamped to the month's length)."
    )
    YEAR = strawberry.enum_value("YEAR", description="Yearly, on the start's date.")


@strawberry.enum(description="How a meter's events add up over time.")
class MeterAggregation(Enum):
    SUM = strawberry.enum_value("SUM", description="Quantities add (requests, bandwidth).")
    MAX = strawberry.enum_value("MAX", description="The peak counts (storage held).")


@strawberry.enum(description="What an entitlement to a feature holds.")
class FeatureKind(Enum):
    BOOLEAN = strawberry.enum_value("BOOLEAN", description="On or off.")
    LIMIT = strawberry.enum_value("LIMIT", description="A number not to exceed at any time.")
    QUOTA = strawberry.enum_value(
        "QUOTA", description="A number of units of a meter per billing period."
    )


@strawberry.enum(description="BASE plans are subscribed to; ADDON plans are added as items.")
class PlanKind(Enum):
    BASE = strawberry.enum_value("BASE", description="Subscribed to, one per subscription.")
    ADDON = strawberry.enum_value("ADDON", description="Added to a subscription as an item.")


@strawberry.type(description="What is metered: requests, bandwidth, storage…")
class Meter(Node):
    id: strawberry.ID = field(PUBLIC, description="`mtr_…`.")
    key: str = field(PUBLIC, description="Stable key, e.g. `requests` (usage takes it).")
    name: str = field(PUBLIC, description="Human name.")
    unit: str = field(PUBLIC, description="What one unit is, e.g. `request`, `GB`.")
    aggregation: MeterAggregation = field(PUBLIC, description="How its events add up.")

    @classmethod
    def of(cls, row: Row) -> Meter:
        return cls(
            id=row["id"],
            key=row["key"],
            name=row["name"],
            unit=row["unit"],
            aggregation=MeterAggregation(row["aggregation"]),
        )


@strawberry.type(description="A capability a plan or grant can give an account.")
class Feature(Node):
    id: strawberry.ID = field(PUBLIC, description="`feat_…`.")
    key: str = field(PUBLIC, description="Stable key, e.g. `sso` (entitlement takes it).")
    name: str = field(PUBLIC, description="Human name.")
    kind: FeatureKind = field(PUBLIC, description="What an entitlement to it holds.")
    meter_id: strawberry.Private[str | None]

    @resolver(PUBLIC, description="The meter a QUOTA counts; null for other kinds.")
    async def meter(self, info: Info[RequestContext, None]) -> Meter | None:
        if self.meter_id is None:
            return None
        return Meter.of(await catalog.meter(info.context, self.meter_id))

    @classmethod
    def of(cls, row: Row) -> Feature:
        return cls(
            id=row["id"],
            key=row["key"],
            name=row["name"],
            kind=FeatureKind(row["kind"]),
            meter_id=row["meter_id"],
        )


@strawberry.type(description="Units up to `upTo` (of the period's total; null = no bound).")
class PriceTier:
    up_to: decimal.Decimal | None = field(
        PUBLIC, description="Upper bound on the period's total units (null: no bound)."
    )
    unit_amount: Money = field(PUBLIC, description="Price of each unit in this tier.")


@strawberry.type(description="Graduated pricing of one meter on a plan.")
class UsagePrice:
    included: decimal.Decimal = field(PUBLIC, description="Free units per period.")
    tiers: list[PriceTier] = field(PUBLIC, description="Tiers by ascending bound.")
    meter_id: strawberry.Private[str]

    @resolver(PUBLIC, description="The meter it prices.")
    async def meter(self, info: Info[RequestContext, None]) -> Meter:
        return Meter.of(await catalog.meter(info.context, self.meter_id))


@strawberry.type(description="What a plan grants for one feature.")
class PlanEntitlement:
    enabled: bool = field(PUBLIC, description="Whether the plan grants the feature.")
    limit: decimal.Decimal | None = field(
        PUBLIC, description="For LIMIT and QUOTA: the number granted (null: unlimited)."
    )
    feature_id: strawberry.Private[str]

    @resolver(PUBLIC, description="The feature.")
    async def feature(self, info: Info[RequestContext, None]) -> Feature:
        return Feature.of(await catalog.feature(info.context, self.feature_id))


@strawberry.type(description="A price in the catalog: a base plan or an add-on.")
class Plan(Node):
    id: strawberry.ID = field(PUBLIC, description="`plan_…`.")
    code: str = field(PUBLIC, description="Stable code, e.g. `pro-monthly`.")
    name: str = field(PUBLIC, description="Human name.")
    kind: PlanKind = field(PUBLIC, description="A base plan or an add-on.")
    interval: BillingInterval = field(PUBLIC, description="How often it bills.")
    price: Money = field(PUBLIC, description="Per unit of quantity per interval.")
    active: bool = field(PUBLIC, description="Whether it can be subscribed to now.")

    @resolver(PUBLIC, description="How it prices metered use, one entry per meter.")
    async def usage_prices(self, info: Info[RequestContext, None]) -> list[UsagePrice]:
        prices = await catalog.usage_prices(info.context, self.id)
        return [
            UsagePrice(
                included=p.included,
                meter_id=p.meter_id,
                tiers=[
                    PriceTier(up_to=t.up_to, unit_amount=Money.of(_unit(t.unit_amount, self)))
                    for t in p.tiers
                ],
            )
            for p in prices
        ]

    @resolver(PUBLIC, description="What it grants, one entry per feature.")
    async def entitlements(self, info: Info[RequestContext, None]) -> list[PlanEntitlement]:
        rows = await catalog.plan_entitlements(info.context, self.id)
        return [
            PlanEntitlement(
                enabled=r["enabled"],
                feature_id=r["feature_id"],
                limit=None if r["limit_value"] is None else quantity(r["limit_value"]),
            )
            for r in rows
        ]

    @classmethod
    def of(cls, row: Row) -> Plan:
        return cls(
            id=row["id"],
            code=row["code"],
            name=row["name"],
            kind=PlanKind(row["kind"]),
            interval=BillingInterval(row["interval"]),
            active=row["active"],
            price=Money.of(money(row["amount"], row["currency"])),
        )


def _unit(amount: decimal.Decimal, plan: Plan) -> values.Money:
    return values.unit_money(amount, plan.price.currency)


@strawberry.type
class Query:
    @resolver(PUBLIC, description="Every plan and add-on in the catalog.")
    async def plans(self, info: Info[RequestContext, None]) -> list[Plan]:
        return [Plan.of(r) for r in await catalog.catalog(info.context, "plans")]

    @resolver(PUBLIC, description="Every meter.")
    async def meters(self, info: Info[RequestContext, None]) -> list[Meter]:
        return [Meter.of(r) for r in await catalog.catalog(info.context, "meters")]

    @resolver(PUBLIC, description="Every feature.")
    async def features(self, info: Info[RequestContext, None]) -> list[Feature]:
        return [Feature.of(r) for r in await catalog.catalog(info.context, "features")]
