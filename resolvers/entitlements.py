"""Entitlement rules: combining plan values and applying grants (docs/billing.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from loaders.base import Row, group
from resolvers import catalog
from resolvers.base import Ctx
from resolvers.buckets import floor_bucket, next_bucket
from resolvers.errors import BadUserInput
from resolvers.lifecycle import LIVE, status_at
from resolvers.money import exact_difference, exact_sum
from resolvers.periods import require_utc
from resolvers.subscriptions import live_subscriptions
from resolvers.values import quantity

KINDS: Final = ("BOOLEAN", "LIMIT", "QUOTA")


@dataclass(frozen=True)
class PlanValue:
    enabled: bool
    limit: Decimal | None  # None = unlimited


@dataclass(frozen=True)
class Grant:
    enabled: bool
    limit: Decimal | None  # None = unlimited
    expires_at: datetime | None  # None = never expires


def _combine_limits(values: Sequence[PlanValue]) -> PlanValue:
    # A disabled plan value grants nothing, so it adds nothing to the sum.
    enabled = [value for value in values if value.enabled]
    if not enabled:
        return PlanValue(enabled=False, limit=Decimal(0))
    if any(value.limit is None for value in enabled):
        return PlanValue(enabled=True, limit=None)  # unlimited wins over any number
    return PlanValue(enabled=True, limit=exact_sum(v.limit for v in enabled if v.limit is not None))


def combine(kind: str, values: Sequence[PlanValue]) -> PlanValue | None:
    """Merge the values of one feature across live plans; None when no plan has it."""
    if kind not in KINDS:
        raise ValueError(f"unknown entitlement kind {kind!r}")
    if not values:
        return None
    if kind == "BOOLEAN":
        return PlanValue(enabled=any(value.enabled for value in values), limit=None)
    return _combine_limits(values)


def is_active(grant: Grant, now: datetime) -> bool:
    """A grant counts until (excluding) its expiry instant."""
    return grant.expires_at is None or require_utc(grant.expires_at) > now


def effective(
    kind: str, plan_values: Sequence[PlanValue], grants: Sequence[Grant], now: datetime
) -> tuple[PlanValue, str] | None:
    """The value in force at `now` and its source: an unexpired grant replaces the plans."""
    now = require_utc(now, "now")
    combined = combine(kind, plan_values)  # also rejects an unknown kind up front
    active = [grant for grant in grants if is_active(grant, now)]
    if active:
        # Grants arrive in creation order; the latest one wins.
        latest = active[-1]
        return PlanValue(enabled=latest.enabled, limit=latest.limit), "GRANT"
    return None if combined is None else (combined, "PLAN")


def remaining(limit: Decimal | None, used: Decimal) -> Decimal | None:
    """max(limit - used, 0); None when unlimited."""
    if limit is None:
        return None
    return max(exact_difference(limit, used), Decimal(0))


# --- an account's effective set, from its rows --------------------------------


@dataclass(frozen=True)
class EntitlementValue:
    feature: Row
    enabled: bool
    limit: Decimal | None
    used: Decimal | None
    remaining: Decimal | None
    resets_at: datetime | None
    source: str
    expires_at: datetime | None


async def account_entitlements(ctx: Ctx, account_id: str) -> list[EntitlementValue]:
    """Every feature the account has from live plans or unexpired grants, by key."""
    sources = await ctx.loaders.entitlement_sources.load(account_id)
    by_feature = group(sources, "feature_id")
    features = [await catalog.feature(ctx, f) for f in sorted(by_feature)]
    values = [_value(f, by_feature[f["id"]], ctx.now) for f in features if f is not None]
    found = [v for v in values if v is not None]
    return sorted(await _with_usage(ctx, account_id, found), key=lambda v: v.feature["key"])


async def account_entitlement(ctx: Ctx, account_id: str, key: str) -> EntitlementValue:
    """One feature by key; a known feature the account lacks reads as disabled."""
    feature = await catalog.feature_by_key(ctx, key)
    if feature is None:
        raise BadUserInput(f"Unknown feature {key[:64]!r}.")
    for value in await account_entitlements(ctx, account_id):
        if value.feature["id"] == feature["id"]:
            return value
    limit = None if feature["kind"] == "BOOLEAN" else Decimal(0)
    return EntitlementValue(feature, False, limit, None, None, None, "PLAN", None)


def _grants_now(row: Row, now: datetime) -> bool:
    """A plan row counts while its subscription is live (a due scheduled cancel ended it)."""
    if row["source"] != "PLAN":
        return False
    status = status_at(row["status"], row["cancel_at_period_end"], row["current_period_end"], now)
    return status in LIVE


def _value(feature: Row, rows: Sequence[Row], now: datetime) -> EntitlementValue | None:
    plans = [PlanValue(r["enabled"], _qty(r["limit_value"])) for r in rows if _grants_now(r, now)]
    grant_rows = [r for r in rows if r["source"] == "GRANT"]
    grants = [Grant(r["enabled"], _qty(r["limit_value"]), r["expires_at"]) for r in grant_rows]
    result = effective(feature["kind"], plans, grants, now)
    if result is None:
        return None
    value, source = result
    expiry = _expiry(grant_rows, grants, now) if source == "GRANT" else None
    limit = None if feature["kind"] == "BOOLEAN" else value.limit
    return EntitlementValue(feature, value.enabled, limit, None, None, None, source, expiry)


def _expiry(rows: Sequence[Row], grants: Sequence[Grant], now: datetime) -> datetime | None:
    active = [r for r, g in zip(rows, grants, strict=True) if is_active(g, now)]
    expires: datetime | None = active[-1]["expires_at"]
    return expires


def _qty(value: Decimal | None) -> Decimal | None:
    return None if value is None else quantity(value)


async def _with_usage(
    ctx: Ctx, account_id: str, values: list[EntitlementValue]
) -> list[EntitlementValue]:
    """QUOTA values get used/remaining/resetsAt over the account's current period."""
    quotas = [v for v in values if v.feature["kind"] == "QUOTA"]
    if not quotas:
        return values
    start, end = await billing_period(ctx, account_id)
    keys = [(account_id, v.feature["meter_id"], start, end) for v in quotas]
    totals = await ctx.loaders.usage_total.load_many(keys)
    meters = [await catalog.meter(ctx, v.feature["meter_id"]) for v in quotas]
    used = {
        v.feature["id"]: quantity(s if m["aggregation"] == "SUM" else mx)
        for v, (s, mx), m in zip(quotas, totals, meters, strict=True)
    }
    return [_quota(v, used[v.feature["id"]], end) if v.feature["id"] in used else v for v in values]


def _quota(v: EntitlementValue, used: Decimal, resets_at: datetime) -> EntitlementValue:
    left = remaining(v.limit, used)
    return replace(v, used=used, remaining=left, resets_at=resets_at)


async def billing_period(ctx: Ctx, account_id: str) -> tuple[datetime, datetime]:
    """The current period of the account's oldest live subscription, else the UTC month."""
    live = await live_subscriptions(ctx, account_id)
    if live:
        return live[0].state.period_start, live[0].state.period_end
    start = floor_bucket(ctx.now, "MONTH")
    return start, next_bucket(start, "MONTH")
