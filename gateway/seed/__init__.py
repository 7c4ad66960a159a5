"""Deterministic demo data for every part of the graph.

Same (accounts, seed, as_of, usage_days) → the same rows, byte for byte: every id and choice comes
from `random.Random` instances keyed by the seed (one per account, so account N's data
does not depend on how many accounts follow it), every time is derived from `as_of`,
and every amount is a `Decimal` built from integers or literals.

Billing follows docs/money.md and docs/billing.md through the resolvers' own functions
(`resolvers.money`, `resolvers.periods`, `resolvers.pricing`):
- periods are anchored on the subscription start (day clamped) and start on whole
  UTC hours, so a period's usage is an exact sum of `usage_hourly` rows;
- the invoice created at period boundary P_k bills the plan and add-ons in advance for
  [P_k, P_k+1) and the usage of [P_k-1, P_k) in arrears, one USAGE line per tier
  touched; the invoice's period is the service period it bills (a final invoice,
  which bills only usage, takes the usage period);
- a plan change mid-period is an invoice of its own, at the change, with the two
  PRORATION lines of docs/money.md (quantity 1, unit amount = the prorated amount);
- usage of periods inside the 90-day event window is the events' exact aggregate;
  older periods get a synthetic figure from the same usage profile.

Layout: `catalog_specs` → `catalog`; per account, `accounts` (identity, name, grants)
→ `scenarios` (subscriptions) → `usage` (events) → `billing` (invoices) → `settlement`
(statuses); `dataset` assembles the rows (`rows`, `tables`) and `writer` writes them.
"""

from __future__ import annotations

from gateway.seed.catalog import Catalog, Meter, Plan, UsagePrice, build_catalog
from gateway.seed.dataset import SeedData, build_seed_data
from gateway.seed.ids import make_id
from gateway.seed.invoices import Invoice, service_lines, usage_lines
from gateway.seed.rows import catalog_rows
from gateway.seed.tables import COLUMNS, Row
from gateway.seed.usage import USAGE_DAYS, MeterSeries, UsageProfile, generate_usage
from gateway.seed.writer import SeedSummary, is_empty, seed
from resolvers.billing import Line, single_line

__all__ = [
    "COLUMNS",
    "USAGE_DAYS",
    "Catalog",
    "Invoice",
    "Line",
    "Meter",
    "MeterSeries",
    "Plan",
    "Row",
    "SeedData",
    "SeedSummary",
    "UsagePrice",
    "UsageProfile",
    "build_catalog",
    "build_seed_data",
    "catalog_rows",
    "generate_usage",
    "is_empty",
    "make_id",
    "seed",
    "service_lines",
    "single_line",
    "usage_lines",
]
