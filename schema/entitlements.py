"""Entitlements in force for an account."""

from __future__ import annotations

import decimal
from datetime import datetime
from enum import Enum

import strawberry

from resolvers.entitlements import EntitlementValue
from schema.catalog import Feature
from schema.permissions import ENTITLEMENTS_READ, field


@strawberry.enum
class EntitlementSource(Enum):
    PLAN = "PLAN"
    GRANT = "GRANT"


@strawberry.type(description="A feature in force; limit null = unlimited.")
class Entitlement:
    feature: Feature = field(ENTITLEMENTS_READ)
    enabled: bool = field(ENTITLEMENTS_READ)
    limit: decimal.Decimal | None = field(ENTITLEMENTS_READ)
    used: decimal.Decimal | None = field(ENTITLEMENTS_READ, description="QUOTA: this period.")
    remaining: decimal.Decimal | None = field(
        ENTITLEMENTS_READ, description="max(limit − used, 0)."
    )
    resets_at: datetime | None = field(ENTITLEMENTS_READ, description="QUOTA: period end.")
    source: EntitlementSource = field(ENTITLEMENTS_READ)
    expires_at: datetime | None = field(ENTITLEMENTS_READ, description="A grant's expiry.")

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
