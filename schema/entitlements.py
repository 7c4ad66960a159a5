"""Entitlements in force for an account."""

from __future__ import annotations

import decimal
from datetime import datetime
from enum import Enum

import strawberry

from resolvers.entitlements import EntitlementValue
from schema.catalog import Feature
from schema.permissions import PUBLIC, field


@strawberry.enum(description="Where an entitlement's value comes from.")
class EntitlementSource(Enum):
    PLAN = strawberry.enum_value("PLAN", description="The plans of live subscriptions, combined.")
    GRANT = strawberry.enum_value(
        "GRANT", description="A grant, which replaces the plans' value until it expires."
    )


@strawberry.type(description="A feature in force; limit null = unlimited.")
class Entitlement:
    feature: Feature = field(PUBLIC, description="The feature.")
    enabled: bool = field(PUBLIC, description="Whether the account has it.")
    limit: decimal.Decimal | None = field(
        PUBLIC, description="LIMIT and QUOTA: the number held (null: unlimited)."
    )
    used: decimal.Decimal | None = field(
        PUBLIC, description="QUOTA: the meter's use in the current billing period."
    )
    remaining: decimal.Decimal | None = field(PUBLIC, description="QUOTA: max(limit − used, 0).")
    resets_at: datetime | None = field(PUBLIC, description="QUOTA: the current period's end.")
    source: EntitlementSource = field(PUBLIC, description="Where the value comes from.")
    expires_at: datetime | None = field(PUBLIC, description="A grant's expiry (null: never).")

    @classmethod
    def of(cls, v: EntitlementValue) -> Entitlement:
        return cls(
            feature=Feature.of(v.feature),
            enabled=v.enabled,
            limit=v.limit,
            used=v.used,
            remaining=v.remaining,
            resets_at=v.resets_at,
            source=EntitlementSource(v.source),
            expires_at=v.expires_at,
        )
