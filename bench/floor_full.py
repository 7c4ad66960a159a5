"""The floor's answer to the FULL document: the core, plus entitlements, the upcoming
invoice and a 30-day usage series, from one more SQL statement (the usage totals of
the periods derived at `now`, and the series' days).

Billing goes through the gateway's own rules (`resolvers.billing`, `resolvers.money`,
`resolvers.entitlements`), fed from rows this module reads itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from bench.floor_core import (
    Ask,
    Conn,
    account_rows,
    core_fields,
    items_by_subscription,
    money,
    optional_decimal,
    optional_iso,
    state_of,
)
from loaders.base import Row
from resolvers.billing import Boundary, boundary_lines, meters_billed, next_boundary
from resolvers.buckets import bucket_starts, floor_bucket, next_bucket, validate_range
from resolvers.entitlements import Grant, PlanValue, effective, remaining
from resolvers.lifecycle import LIVE, status_at
from resolvers.money import format_decimal, invoice_totals
from resolvers.periods import iso
from resolvers.values import quantity

SERIES_METER: Final = "requests"

# 3. Usage totals over [from, to) per key (n = 1..), then the series' days (n = 0).
USAGE: Final = """
SELECT k.n, NULL::timestamptz AS day, coalesce(sum(h.quantity_sum), 0) AS quantity_sum,
       coalesce(max(h.quantity_max), 0) AS quantity_max
  FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[])
       WITH ORDINALITY AS k(meter_id, from_ts, to_ts, n)
  LEFT JOIN usage_hourly h ON h.account_id = $1 AND h.meter_id = k.meter_id
   AND h.hour >= k.from_ts AND h.hour < k.to_ts
 GROUP BY k.n
UNION ALL
SELECT 0, date_trunc('day', h.hour, 'UTC'), sum(h.quantity_sum), max(h.quantity_max)
  FROM usage_hourly h
 WHERE h.account_id = $1 AND h.meter_id = $5 AND h.hour >= $6 AND h.hour < $7
 GROUP BY 2"""

Period = tuple[datetime, datetime]
UsageKey = tuple[str, datetime, datetime]  # meter id, [from, to)
Totals = tuple[Decimal, Decimal]  # sum, max


@dataclass(frozen=True)
class Held:
    """An entitlement in force before its usage is known."""

    feature: Row
    enabled: bool
    limit: Decimal | None
    source: str


@dataclass(frozen=True)
class Primary:
    """The account's primary subscription (its oldest live one), its current period and
    the boundary that ends it: quotas reset there, the upcoming invoice bills there."""

    row: dict[str, Any]
    period: Period
    boundary: Boundary


async def full(conn: Conn, ask: Ask, variables: dict[str, Any]) -> dict[str, Any]:
    found = await account_rows(conn, ask, variables["id"])
    if found is None:
        return {"account": None}
    account, invoices = found
    first = primary(ask, account)
    held = entitlements_held(ask, account)
    start, end = validate_range(instant(variables["from"]), instant(variables["to"]), "DAY")
    meter = ask.catalog.by_key("meters")[SERIES_METER]
    quota_used, billed_used, days = await usage_now(
        conn, ask, account, held, first, meter, (start, end)
    )
    period = first.period if first else month_of(ask.now)
    upcoming = None if first is None else upcoming_invoice(ask, account, first, billed_used)
    return {
        "account": core_fields(ask, account, invoices)
        | {
            "entitlements": [entitlement(h, quota_used, period[1]) for h in held],
            "upcomingInvoice": upcoming,
            "usage": series(meter, bucket_starts(start, end, "DAY"), days),
        }
    }


async def usage_now(
    conn: Conn,
    ask: Ask,
    account: Row,
    held: Sequence[Held],
    first: Primary | None,
    meter: Row,
    window: Period,
) -> tuple[dict[str, Decimal], dict[str, Decimal], dict[datetime, Totals]]:
    """In one statement: each QUOTA's use over the primary period (or the UTC month), each
    billed meter's use over the period the upcoming invoice bills, the series' days."""
    quotas = [h for h in held if h.feature["kind"] == "QUOTA"]
    period = first.period if first else month_of(ask.now)
    billed = [m for m, _ in meters_billed(ask.catalog, first.row["plan_id"])] if first else []
    keys = [(q.feature["meter_id"], *period) for q in quotas]
    keys += [(m, *first.boundary.usage_period) for m in billed] if first else []
    totals, days = await usage(conn, account["id"], keys, (meter["id"], *window))
    quota_used = {
        q.feature["id"]: used(t, ask, q.feature["meter_id"])
        for q, t in zip(quotas, totals[: len(quotas)], strict=True)
    }
    billed_used = {m: used(t, ask, m) for m, t in zip(billed, totals[len(quotas) :], strict=True)}
    return quota_used, billed_used, days


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def primary(ask: Ask, account: Row) -> Primary | None:
    """The oldest subscription live at `now` (the gateway's rule), if any."""
    stored = sorted(
        (s for s in account["subscriptions"] if s["status"] in LIVE),
        key=lambda s: (s["created_at"], s["id"]),
    )
    plans = ask.catalog.by_id("plans")
    for sub in stored:
        state = state_of(ask, sub)
        if state.live:
            row = {**sub, "interval": plans[sub["plan_id"]]["interval"]}
            return Primary(row, (state.period_start, state.period_end), next_boundary(row, state))
    return None


def month_of(now: datetime) -> Period:
    start = floor_bucket(now, "MONTH")
    return start, next_bucket(start, "MONTH")


# --- usage ---------------------------------------------------------------------------


async def usage(
    conn: Conn, account_id: str, keys: Sequence[UsageKey], series_key: UsageKey
) -> tuple[list[Totals], dict[datetime, Totals]]:
    """(sum, max) per key, and per day of the series."""
    columns = [list(c) for c in zip(*keys, strict=True)] if keys else [[], [], []]
    rows = await conn.fetch(USAGE, account_id, *columns, *series_key)
    totals = {r["n"]: (r["quantity_sum"], r["quantity_max"]) for r in rows if r["n"]}
    days = {r["day"]: (r["quantity_sum"], r["quantity_max"]) for r in rows if not r["n"]}
    return [totals[n] for n in range(1, len(keys) + 1)], days


def used(totals: Totals, ask: Ask, meter_id: str) -> Decimal:
    """SUM meters add, MAX meters peak."""
    aggregation = ask.catalog.by_id("meters")[meter_id]["aggregation"]
    return quantity(totals[0] if aggregation == "SUM" else totals[1])


def series(meter: Row, starts: Sequence[datetime], days: dict[datetime, Totals]) -> dict[str, Any]:
    sums = meter["aggregation"] == "SUM"
    zero = (Decimal(0), Decimal(0))
    points = [(t, quantity(days.get(t, zero)[0 if sums else 1])) for t in starts]
    values = [q for _, q in points]
    total = sum(values, Decimal(0)) if sums else max(values, default=Decimal(0))
    return {
        "total": format_decimal(quantity(total)),
        "points": [{"start": iso(t), "quantity": format_decimal(q)} for t, q in points],
    }


# --- entitlements --------------------------------------------------------------------


def entitlements_held(ask: Ask, account: Row) -> list[Held]:
    """Every feature the account has from live plans or unexpired grants, by key."""
    plan_values: dict[str, list[PlanValue]] = {}
    for sub in account["subscriptions"]:
        if sub["status"] in LIVE:
            for pe in plan_entitlements(ask, account, sub):
                counted = counts_now(sub, ask.now)
                value = PlanValue(pe["enabled"], optional_quantity(pe["limit_value"]))
                plan_values.setdefault(pe["feature_id"], []).extend([value] if counted else [])
    grants: dict[str, list[Grant]] = {}
    for g in account["grants"]:
        grant = Grant(g["enabled"], optional_quantity(g["limit_value"]), g["expires_at"])
        grants.setdefault(g["feature_id"], []).append(grant)
    features = ask.catalog.by_id("features")
    held = [
        held_now(features[f], plan_values.get(f, []), grants.get(f, []), ask.now)
        for f in plan_values.keys() | grants.keys()
    ]
    return sorted((h for h in held if h is not None), key=lambda h: h.feature["key"])


def plan_entitlements(ask: Ask, account: Row, sub: Row) -> list[Row]:
    """What the subscription's base plan and add-ons each grant."""
    add_ons = items_by_subscription(account)[sub["id"]]
    plan_ids = [sub["plan_id"], *(i["plan_id"] for i in add_ons)]
    return [pe for p in plan_ids for pe in ask.catalog.entitlements.get(p, [])]


def counts_now(sub: Row, now: datetime) -> bool:
    """A plan grants while its subscription is live (a due scheduled cancel ended it)."""
    status = status_at(sub["status"], sub["cancel_at_period_end"], sub["current_period_end"], now)
    return status in LIVE


def held_now(
    feature: Row, plans: Sequence[PlanValue], grants: Sequence[Grant], now: datetime
) -> Held | None:
    result = effective(feature["kind"], plans, grants, now)
    if result is None:
        return None
    value, source = result
    limit = None if feature["kind"] == "BOOLEAN" else value.limit
    return Held(feature, value.enabled, limit, source)


def entitlement(held: Held, quota_used: dict[str, Decimal], resets_at: datetime) -> dict[str, Any]:
    use = quota_used.get(held.feature["id"])
    return {
        "feature": {"key": held.feature["key"], "kind": held.feature["kind"]},
        "enabled": held.enabled,
        "limit": optional_decimal(held.limit),
        "used": optional_decimal(use),
        "remaining": None if use is None else optional_decimal(remaining(held.limit, use)),
        "resetsAt": None if use is None else optional_iso(resets_at),
        "source": held.source,
    }


def optional_quantity(value: Decimal | None) -> Decimal | None:
    return None if value is None else quantity(value)


# --- the upcoming invoice --------------------------------------------------------------


def upcoming_invoice(
    ask: Ask, account: Row, first: Primary, usage: dict[str, Decimal]
) -> dict[str, Any]:
    """What the primary subscription's next boundary will bill (the engine's rule)."""
    sub, boundary = first.row, first.boundary
    add_ons = items_by_subscription(account)[sub["id"]]
    items = [(i["plan_id"], i["quantity"]) for i in add_ons if i["created_at"] <= boundary.at]
    lines = boundary_lines(ask.catalog, sub, boundary, items, usage)
    c = sub["currency"].strip()
    totals = invoice_totals([ln.amount for ln in lines], account["tax_rate"], c)
    return {
        "periodEnd": iso(boundary.invoice_period[1]),
        "lines": [
            {
                "kind": ln.kind,
                "description": ln.description,
                "amount": {"amount": money(ln.amount, c)},
            }
            for ln in lines
        ],
        "subtotal": {"amount": money(totals.subtotal, c)},
        "tax": {"amount": money(totals.tax, c)},
        "total": {"amount": money(totals.total, c)},
    }
