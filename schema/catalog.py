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
from schema.permissions import CATALOG, PUBLIC, field, resolver


@strawberry.enum
class BillingInterval(Enum):
    MONTH = "MONTH"
    YEAR = "YEAR"


@strawberry.enum
class MeterAggregation(Enum):
    SUM = "SUM"
    MAX = "MAX"


@strawberry.enum
class FeatureKind(Enum):
    BOOLEAN = "BOOLEAN"
    LIMIT = "LIMIT"
    QUOTA = "QUOTA"


@strawberry.enum(description="BASE plans are subscribed to; ADDON plans are added as items.")
class PlanKind(Enum):
    BASE = "BASE"
    ADDON = "ADDON"


@strawberry.type(description="What is metered: requests, bandwidth, storage…")
class Meter(Node):
    id: strawberry.ID = field(PUBLIC)
    key: str = field(CATALOG)
    name: str = field(CATALOG)
    unit: str = field(CATALOG)
    aggregation: MeterAggregation = field(CATALOG)

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
    id: strawberry.ID = field(PUBLIC)
    key: str = field(CATALOG)
    name: str = field(CATALOG)
    kind: FeatureKind = field(CATALOG)
    meter_id: strawberry.Private[str | None]

    @resolver(CATALOG, description="The meter a QUOTA counts.")
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
    up_to: decimal.Decimal | None = field(CATALOG)
    unit_amount: Money = field(CATALOG)


@strawberry.type(description="Graduated pricing of one meter on a plan.")
class UsagePrice:
    included: decimal.Decimal = field(CATALOG, description="Free units per period.")
    tiers: list[PriceTier] = field(CATALOG)
    meter_id: strawberry.Private[str]

    @resolver(CATALOG)
    async def meter(self, info: Info[RequestContext, None]) -> Meter:
        return Meter.of(await catalog.meter(info.context, self.meter_id))


@strawberry.type(description="What a plan grants for one feature.")
class PlanEntitlement:
    enabled: bool = field(CATALOG)
    limit: decimal.Decimal | None = field(CATALOG, description="null = unlimited.")
    feature_id: strawberry.Private[str]

    @resolver(CATALOG)
    async def feature(self, info: Info[RequestContext, None]) -> Feature:
        return Feature.of(await catalog.feature(info.context, self.feature_id))


@strawberry.type(description="A price in the catalog: a base plan or an add-on.")
class Plan(Node):
    id: strawberry.ID = field(PUBLIC)
    code: str = field(CATALOG)
    name: str = field(CATALOG)
    kind: PlanKind = field(CATALOG)
    interval: BillingInterval = field(CATALOG)
    price: Money = field(CATALOG, description="Per unit of quantity per interval.")
    active: bool = field(CATALOG)

    @resolver(CATALOG)
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

    @resolver(CATALOG)
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
    @resolver(CATALOG, description="Every plan and add-on in the catalog.")
    async def plans(self, info: Info[RequestContext, None]) -> list[Plan]:
        return [Plan.of(r) for r in await catalog.catalog(info.context, "plans")]

    @resolver(CATALOG, description="Every meter.")
    async def meters(self, info: Info[RequestContext, None]) -> list[Meter]:
        return [Meter.of(r) for r in await catalog.catalog(info.context, "meters")]

    @resolver(CATALOG, description="Every feature.")
    async def features(self, info: Info[RequestContext, None]) -> list[Feature]:
        return [Feature.of(r) for r in await catalog.catalog(info.context, "features")]
