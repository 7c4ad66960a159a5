"""The plan catalog: plans, meters, features, usage prices and plan entitlements.
Public to every valid token, so these statements take no reach."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from loaders.base import CatalogByIdLoader, Loader, Row, group

PLAN_COLUMNS: Final = "id, code, name, kind, interval, currency, amount, active, created_at"
METER_COLUMNS: Final = "id, key, name, unit, aggregation"
FEATURE_COLUMNS: Final = "id, key, name, kind, meter_id"

ALL_PLANS: Final = f"SELECT {PLAN_COLUMNS} FROM plans ORDER BY kind, currency, amount, code"
PLANS_BY_ID: Final = f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = ANY($1::text[])"
ALL_METERS: Final = f"SELECT {METER_COLUMNS} FROM meters ORDER BY key"
METERS_BY_ID: Final = f"SELECT {METER_COLUMNS} FROM meters WHERE id = ANY($1::text[])"
METERS_BY_KEY: Final = f"SELECT {METER_COLUMNS} FROM meters WHERE key = ANY($1::text[])"
ALL_FEATURES: Final = f"SELECT {FEATURE_COLUMNS} FROM features ORDER BY key"
FEATURES_BY_ID: Final = f"SELECT {FEATURE_COLUMNS} FROM features WHERE id = ANY($1::text[])"
FEATURES_BY_KEY: Final = f"SELECT {FEATURE_COLUMNS} FROM features WHERE key = ANY($1::text[])"

# Tiers travel with their price as parallel arrays, in position order.
USAGE_PRICES_BY_PLAN: Final = """
SELECT up.id, up.plan_id, up.meter_id, up.included,
       array_agg(t.up_to ORDER BY t.position) AS tier_up_to,
       array_agg(t.unit_amount ORDER BY t.position) AS tier_unit_amount
  FROM usage_prices up JOIN usage_price_tiers t ON t.usage_price_id = up.id
 WHERE up.plan_id = ANY($1::text[])
 GROUP BY up.id ORDER BY up.plan_id, up.id"""

ENTITLEMENTS_BY_PLAN: Final = """
SELECT pe.plan_id, pe.feature_id, pe.enabled, pe.limit_value
  FROM plan_entitlements pe JOIN features f ON f.id = pe.feature_id
 WHERE pe.plan_id = ANY($1::text[]) ORDER BY pe.plan_id, f.key"""


class PlanByIdLoader(CatalogByIdLoader):
    sql = PLANS_BY_ID


class MeterByIdLoader(CatalogByIdLoader):
    sql = METERS_BY_ID


class FeatureByIdLoader(CatalogByIdLoader):
    sql = FEATURES_BY_ID


class _ByKeyLoader(Loader):
    sql: str

    async def batch_load_fn(self, keys: Sequence[str]) -> list[Row | None]:
        found = {row["key"]: row for row in await self.db.fetch(self.sql, list(keys))}
        return [found.get(key) for key in keys]


class MeterByKeyLoader(_ByKeyLoader):
    sql = METERS_BY_KEY


class FeatureByKeyLoader(_ByKeyLoader):
    sql = FEATURES_BY_KEY


class _ByPlanLoader(Loader):
    sql: str

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Row]]:
        rows = group(await self.db.fetch(self.sql, list(keys)), "plan_id")
        return [rows.get(key, []) for key in keys]


class UsagePricesByPlanLoader(_ByPlanLoader):
    sql = USAGE_PRICES_BY_PLAN


class EntitlementsByPlanLoader(_ByPlanLoader):
    sql = ENTITLEMENTS_BY_PLAN


class AllCatalogLoader(Loader):
    """key: the name of a catalog list ('plans', 'meters', 'features') → its rows."""

    SQL: Final = {"plans": ALL_PLANS, "meters": ALL_METERS, "features": ALL_FEATURES}

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Row]]:
        return [await self.db.fetch(self.SQL[key]) for key in keys]
