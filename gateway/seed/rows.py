"""The built catalog, partners and accounts flattened into table rows (`tables.COLUMNS`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from gateway.seed.accounts import PARTNER_NAMES, AccountData
from gateway.seed.catalog import Catalog
from gateway.seed.clock import midnight
from gateway.seed.tables import Row, empty_rows
from resolvers.money import invoice_totals


def catalog_rows(catalog: Catalog, created_at: datetime) -> dict[str, list[Row]]:
    """Rows for every table, of which only the catalog's are filled."""
    rows = empty_rows()
    for m in catalog.meters.values():
        rows["meters"].append((m.id, m.key, m.name, m.unit, m.aggregation))
    for feature_id, f in catalog.features.values():
        meter_id = None if f.meter is None else catalog.meters[f.meter].id
        rows["features"].append((feature_id, f.key, f.name, f.kind, meter_id))
    for p in catalog.plans.values():
        rows["plans"].append(
            (p.id, p.code, p.name, p.kind, p.interval, p.currency, p.amount, True, created_at)
        )
        for up in p.usage:
            rows["usage_prices"].append((up.id, p.id, up.meter.id, up.included))
            rows["usage_price_tiers"].extend(
                (up.id, position, tier.up_to, tier.unit_amount)
                for position, tier in enumerate(up.tiers, start=1)
            )
        for key, (enabled, limit) in p.entitlements.items():
            value = None if limit is None else Decimal(limit)
            rows["plan_entitlements"].append((p.id, catalog.features[key][0], enabled, value))
    return rows


def add_partner_rows(rows: dict[str, list[Row]], ids: Sequence[str], as_of: datetime) -> None:
    for n, (pid, name) in enumerate(zip(ids, PARTNER_NAMES, strict=True)):
        rows["partners"].append((pid, name, midnight(as_of) - timedelta(days=1500 - 90 * n)))


def add_account_rows(rows: dict[str, list[Row]], a: AccountData, as_of: datetime) -> None:
    rows["accounts"].append((a.id, a.name, a.currency, a.tax_rate, a.partner_id, a.created_at))
    _subscription_rows(rows, a)
    _invoice_rows(rows, a)
    rows["entitlement_grants"].extend((*g, _expiry_recorded(g[5], as_of)) for g in a.grants)
    _usage_rows(rows, a)


def _expiry_recorded(expires: object, as_of: datetime) -> datetime | None:
    """A grant that expired before the data's "now" had its expiry recorded then."""
    return expires if isinstance(expires, datetime) and expires <= as_of else None


def _subscription_rows(rows: dict[str, list[Row]], a: AccountData) -> None:
    for sub in a.subscriptions:
        assert sub.period is not None
        rows["subscriptions"].append(
            (
                *(sub.id, a.id, a.currency, sub.current_plan.id, sub.status, sub.quantity),
                *(sub.billing_anchor, *sub.period, sub.cancel_at_period_end, sub.canceled_at),
                *(sub.trial_end, sub.start),
            )
        )
        rows["subscription_items"].extend(
            (si, sub.id, a.id, a.currency, plan.id, 1, since) for si, plan, since in sub.addons
        )


def _invoice_rows(rows: dict[str, list[Row]], a: AccountData) -> None:
    for inv in a.invoices:
        t = invoice_totals([ln.amount for ln in inv.lines], a.tax_rate, a.currency, inv.amount_paid)
        rows["invoices"].append(
            (
                *(inv.id, a.id, inv.subscription_id, inv.number, inv.status, a.currency),
                *(a.tax_rate, *inv.period, inv.issued_at, inv.due_at, inv.paid_at),
                *(t.subtotal, t.tax, t.total, t.amount_paid, inv.created_at, inv.boundary_at),
            )
        )
        rows["invoice_lines"].extend(
            (
                *(line_id, inv.id, a.id, a.currency, pos, ln.kind, ln.description),
                *(ln.quantity, ln.unit_amount, ln.amount, ln.period_start, ln.period_end),
                ln.meter_id,
            )
            for pos, (line_id, ln) in enumerate(zip(inv.line_ids, inv.lines, strict=True), 1)
        )


def _usage_rows(rows: dict[str, list[Row]], a: AccountData) -> None:
    """Each event with its idempotency key, recorded a second or more after it occurred."""
    for s in a.usage:
        for n, (at, qty) in enumerate(zip(s.times, s.quantities, strict=True)):
            key = f"seed:{s.meter.key}:{n:05d}"
            recorded = at + timedelta(seconds=1 + n % 59)
            rows["usage_event_keys"].append((a.id, key, s.meter.id, qty, at))
            rows["usage_events"].append((a.id, s.meter.id, qty, at, key, recorded))
