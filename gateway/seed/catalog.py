"""The built catalog: every plan family in every currency, with seeded ids."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from gateway.seed.catalog_specs import (
    CURRENCIES,
    FEATURES,
    METERS,
    PLANS,
    Ent,
    FeatureSpec,
    PlanSpec,
)
from gateway.seed.ids import make_id, scoped_rng
from resolvers.pricing import Tier


@dataclass(frozen=True)
class Meter:
    id: str
    key: str
    name: str
    unit: str
    aggregation: str


@dataclass(frozen=True)
class UsagePrice:
    id: str
    meter: Meter
    included: Decimal
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class Plan:
    id: str
    code: str
    family: str
    name: str
    kind: str
    interval: str
    currency: str
    amount: Decimal
    usage: tuple[UsagePrice, ...]
    entitlements: Mapping[str, Ent]


@dataclass(frozen=True)
class Catalog:
    meters: Mapping[str, Meter]
    features: Mapping[str, tuple[str, FeatureSpec]]  # key → (id, spec)
    plans: Mapping[tuple[str, str], Plan]  # (family, currency) → plan

    def plan(self, family: str, currency: str) -> Plan:
        return self.plans[(family, currency)]


def build_catalog(seed: int) -> Catalog:
    """Meters, features and plans (every family in every currency) with seeded ids."""
    rng = scoped_rng(seed, "catalog")
    meters = {
        m.key: Meter(make_id(rng, "mtr"), m.key, m.name, m.unit, m.aggregation) for m in METERS
    }
    features = {spec.key: (make_id(rng, "feat"), spec) for spec in FEATURES}
    plans = {
        (spec.family, currency): _build_plan(rng, spec, currency, meters)
        for spec in PLANS
        for currency in CURRENCIES
    }
    return Catalog(meters=meters, features=features, plans=plans)


def _build_plan(
    rng: random.Random, spec: PlanSpec, currency: str, meters: Mapping[str, Meter]
) -> Plan:
    usage = tuple(
        UsagePrice(
            id=make_id(rng, "up"),
            meter=meters[u.meter],
            included=Decimal(u.included),
            tiers=tuple(
                Tier(None if up_to is None else Decimal(up_to), Decimal(price[currency]))
                for up_to, price in u.tiers
            ),
        )
        for u in spec.usage
    )
    return Plan(
        id=make_id(rng, "plan"),
        code=f"{spec.family}_{currency.lower()}",
        family=spec.family,
        name=spec.name,
        kind=spec.kind,
        interval=spec.interval,
        currency=currency,
        amount=Decimal(spec.prices[currency]),
        usage=usage,
        entitlements=spec.entitlements,
    )
