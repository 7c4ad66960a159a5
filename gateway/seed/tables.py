"""The tables the demo data fills: insert order (foreign keys first) and columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

Row = tuple[object, ...]

COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "partners": ("id", "name", "created_at"),
    "accounts": ("id", "name", "currency", "tax_rate", "partner_id", "created_at"),
    "meters": ("id", "key", "name", "unit", "aggregation"),
    "plans": (
        *("id", "code", "name", "kind", "interval", "currency", "amount", "active"),
        "created_at",
    ),
    "usage_prices": ("id", "plan_id", "meter_id", "included"),
    "usage_price_tiers": ("usage_price_id", "position", "up_to", "unit_amount"),
    "features": ("id", "key", "name", "kind", "meter_id"),
    "plan_entitlements": ("plan_id", "feature_id", "enabled", "limit_value"),
    "subscriptions": (
        *("id", "account_id", "currency", "plan_id", "status", "quantity", "billing_anchor"),
        *("current_period_start", "current_period_end", "cancel_at_period_end"),
        *("canceled_at", "trial_end", "created_at"),
    ),
    "subscription_items": (
        *("id", "subscription_id", "account_id", "currency", "plan_id", "quantity"),
        "created_at",
    ),
    "invoices": (
        *("id", "account_id", "subscription_id", "number", "status", "currency", "tax_rate"),
        *("period_start", "period_end", "issued_at", "due_at", "paid_at", "subtotal", "tax"),
        *("total", "amount_paid", "created_at", "boundary_at"),
    ),
    "invoice_lines": (
        *("id", "invoice_id", "account_id", "currency", "position", "kind", "description"),
        *("quantity", "unit_amount", "amount", "period_start", "period_end", "meter_id"),
    ),
    "entitlement_grants": (
        *("id", "account_id", "feature_id", "enabled", "limit_value", "expires_at"),
        *("created_at", "expiry_recorded_at"),
    ),
    "invoice_number_counters": ("year", "last_number"),
    "usage_event_keys": ("account_id", "idempotency_key", "meter_id", "quantity", "occurred_at"),
    "usage_events": (
        *("account_id", "meter_id", "quantity", "occurred_at", "idempotency_key"),
        "recorded_at",
    ),
}


def empty_rows() -> dict[str, list[Row]]:
    return {name: [] for name in COLUMNS}
