"""Deterministic demo data for every part of the graph.

Same (accounts, seed, as_of) → the same rows, byte for byte: every id and choice comes
from `random.Random` instances keyed by the seed (one per account, so account N's data
does not depend on how many accounts follow it), every time is derived from `as_of`,
and every amount is a `Decimal` built from integers or literals.

Billing follows DOMAIN.md through the resolvers' own functions (`resolvers.money`,
`resolvers.periods`, `resolvers.pricing`):
- periods are anchored on the subscription start (day clamped) and start on whole
  UTC hours, so a period's usage is an exact sum of `usage_hourly` rows;
- the invoice created at period boundary P_k bills the plan and add-ons in advance for
  [P_k, P_k+1) and the usage of [P_k-1, P_k) in arrears, one USAGE line per tier
  touched; the invoice's period is the service period it bills (a final invoice,
  which bills only usage, takes the usage period);
- a plan change mid-period is an invoice of its own, at the change, with the two
  PRORATION lines of DOMAIN.md (quantity 1, unit amount = the prorated amount);
- usage of periods inside the 90-day event window is the events' exact aggregate;
  older periods get a synthetic figure from the same usage profile.
"""

from __future__ import annotations

import calendar
import random
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

import asyncpg

from resolvers.money import exact_product, exact_sum, invoice_totals, round_money
from resolvers.periods import add_months, plan_change_lines
from resolvers.pricing import Tier, graduated_lines, recurring_amount

Row = tuple[object, ...]

ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz234567"
USAGE_DAYS: Final = 90
NET_TERMS: Final = timedelta(days=14)
FINALIZE_AFTER: Final = timedelta(hours=1)
HOUR: Final = timedelta(hours=1)
PARTNER_NAMES: Final = (
    "Northwind Cloud Partners",
    "Globex Managed Services",
    "Initech Resellers",
    "Umbrella Digital",
)

# Insert order (foreign keys first) and the columns each table is filled with.
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
        *("total", "amount_paid", "created_at"),
    ),
    "invoice_lines": (
        *("id", "invoice_id", "account_id", "currency", "position", "kind", "description"),
        *("quantity", "unit_amount", "amount", "period_start", "period_end", "meter_id"),
    ),
    "entitlement_grants": (
        *("id", "account_id", "feature_id", "enabled", "limit_value", "expires_at"),
        "created_at",
    ),
    "usage_event_keys": ("account_id", "idempotency_key", "meter_id", "quantity", "occurred_at"),
    "usage_events": (
        *("account_id", "meter_id", "quantity", "occurred_at", "idempotency_key"),
        "recorded_at",
    ),
}


def make_id(rng: random.Random, prefix: str) -> str:
    """`<prefix>_` + 20 lowercase base32 characters (100 bits drawn from `rng`)."""
    bits = rng.getrandbits(100)
    return f"{prefix}_" + "".join(ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, 100, 5))


def _rng(seed: int, *scope: object) -> random.Random:
    # A str seed is hashed with SHA-512: stable across processes and Python builds.
    return random.Random(":".join(["billing-seed", str(seed), *map(str, scope)]))


def _midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class MeterSpec:
    key: str
    name: str
    unit: str
    aggregation: str


@dataclass(frozen=True)
class FeatureSpec:
    key: str
    name: str
    kind: str
    meter: str | None = None


@dataclass(frozen=True)
class UsageSpec:
    meter: str
    included: str
    tiers: tuple[tuple[str | None, Mapping[str, str]], ...]  # (up_to, unit price by currency)


# (enabled, limit); limit None = unlimited (and meaningless for BOOLEAN features).
Ent = tuple[bool, int | None]


@dataclass(frozen=True)
class PlanSpec:
    family: str
    name: str
    kind: str
    interval: str
    prices: Mapping[str, str]
    usage: tuple[UsageSpec, ...] = ()
    entitlements: Mapping[str, Ent] = field(default_factory=dict)


CURRENCIES: Final = ("USD", "EUR")
METERS: Final = (
    MeterSpec("requests", "Requests", "requests", "SUM"),
    MeterSpec("bandwidth_gb", "Bandwidth", "GB", "SUM"),
    MeterSpec("storage_gb", "Storage", "GB", "MAX"),
)
FEATURES: Final = (
    FeatureSpec("sso", "Single sign-on", "BOOLEAN"),
    FeatureSpec("audit_logs", "Audit logs", "BOOLEAN"),
    FeatureSpec("support.priority", "Priority support", "BOOLEAN"),
    FeatureSpec("waf.custom_rules", "Custom WAF rules", "LIMIT"),
    FeatureSpec("team.seats", "Team seats", "LIMIT"),
    FeatureSpec("requests.monthly", "Requests per billing period", "QUOTA", "requests"),
    FeatureSpec("bandwidth.monthly", "Bandwidth per billing period", "QUOTA", "bandwidth_gb"),
    FeatureSpec("storage.peak", "Peak storage per billing period", "QUOTA", "storage_gb"),
)


def _usd_eur(usd: str, eur: str) -> Mapping[str, str]:
    return {"USD": usd, "EUR": eur}


_PRO_ENTITLEMENTS: Final[Mapping[str, Ent]] = {
    "sso": (False, None),
    "audit_logs": (True, None),
    "support.priority": (False, None),
    "waf.custom_rules": (True, 20),
    "team.seats": (True, 10),
    "requests.monthly": (True, 100_000_000),
    "bandwidth.monthly": (True, 2_000),
    "storage.peak": (True, 250),
}
PLANS: Final = (
    PlanSpec(
        "free_monthly",
        "Free",
        "BASE",
        "MONTH",
        _usd_eur("0.00", "0.00"),
        entitlements={
            "sso": (False, None),
            "audit_logs": (False, None),
            "waf.custom_rules": (True, 5),
            "team.seats": (True, 3),
            "requests.monthly": (True, 1_000_000),
            "bandwidth.monthly": (True, 10),
            "storage.peak": (True, 1),
        },
    ),
    PlanSpec(
        "pro_monthly",
        "Pro",
        "BASE",
        "MONTH",
        _usd_eur("20.00", "19.00"),
        usage=(
            UsageSpec(
                "requests",
                "10000000",
                (
                    ("50000000", _usd_eur("0.0000003", "0.00000028")),
                    (None, _usd_eur("0.0000002", "0.00000018")),
                ),
            ),
            UsageSpec(
                "bandwidth_gb",
                "100",
                (("1000", _usd_eur("0.08", "0.075")), (None, _usd_eur("0.05", "0.045"))),
            ),
            UsageSpec("storage_gb", "10", ((None, _usd_eur("0.10", "0.09")),)),
        ),
        entitlements=_PRO_ENTITLEMENTS,
    ),
    PlanSpec(
        "business_monthly",
        "Business",
        "BASE",
        "MONTH",
        _usd_eur("200.00", "190.00"),
        usage=(
            UsageSpec(
                "requests",
                "100000000",
                (
                    ("500000000", _usd_eur("0.00000025", "0.00000023")),
                    (None, _usd_eur("0.00000015", "0.00000014")),
                ),
            ),
            UsageSpec("bandwidth_gb", "1000", ((None, _usd_eur("0.04", "0.037")),)),
            UsageSpec("storage_gb", "100", ((None, _usd_eur("0.08", "0.075")),)),
        ),
        entitlements={
            "sso": (True, None),
            "audit_logs": (True, None),
            "support.priority": (True, None),
            "waf.custom_rules": (True, 100),
            "team.seats": (True, None),
            "requests.monthly": (True, None),
            "bandwidth.monthly": (True, None),
            "storage.peak": (True, 5_000),
        },
    ),
    PlanSpec(
        "pro_yearly",
        "Pro (annual)",
        "BASE",
        "YEAR",
        _usd_eur("200.00", "190.00"),
        entitlements=_PRO_ENTITLEMENTS,
    ),
    PlanSpec(
        "addon_extra_rules",
        "Extra rules",
        "ADDON",
        "MONTH",
        _usd_eur("5.00", "4.50"),
        entitlements={"waf.custom_rules": (True, 10)},
    ),
    PlanSpec(
        "addon_priority_support",
        "Priority support",
        "ADDON",
        "MONTH",
        _usd_eur("49.00", "45.00"),
        entitlements={"support.priority": (True, None)},
    ),
)


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
    rng = _rng(seed, "catalog")
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


def catalog_rows(catalog: Catalog, created_at: datetime) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = {name: [] for name in COLUMNS}
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


# ---------------------------------------------------------------------------- usage

# Share of the hourly request rate by UTC hour, in percent (mean ≈ 100).
DIURNAL: Final = (
    *(70, 62, 56, 52, 50, 52, 60, 75, 92, 108, 120, 128),
    *(132, 134, 133, 130, 126, 120, 112, 104, 96, 88, 80, 74),
)


@dataclass(frozen=True)
class UsageProfile:
    requests_per_hour: int
    bandwidth_micro_gb: int  # per 3-hour slot
    storage_micro_gb: int  # level at the start of the window
    has_storage: bool


@dataclass
class MeterSeries:
    """One meter's events of one account, in time order."""

    meter: Meter
    times: list[datetime] = field(default_factory=list)
    quantities: list[Decimal] = field(default_factory=list)

    def add(self, at: datetime, quantity: Decimal) -> None:
        self.times.append(at)
        self.quantities.append(quantity)

    def aggregate(self, start: datetime, end: datetime) -> Decimal:
        values = self.quantities[bisect_left(self.times, start) : bisect_left(self.times, end)]
        if self.meter.aggregation == "MAX":
            return max(values, default=Decimal(0))
        return exact_sum(values)


def _micro(value: int) -> Decimal:
    return Decimal(value).scaleb(-6)


def generate_usage(
    rng: random.Random, profile: UsageProfile, meters: Mapping[str, Meter], as_of: datetime
) -> list[MeterSeries]:
    """Events in [as_of - 90 days, as_of): request counts in most hours (one or two
    batches), a bandwidth figure per 3 hours, a storage level (MAX meter) per 6 hours."""
    start = as_of - timedelta(days=USAGE_DAYS)
    first = start.replace(minute=0, second=0, microsecond=0)
    hours = (as_of - first) // HOUR + 1
    requests, bandwidth = MeterSeries(meters["requests"]), MeterSeries(meters["bandwidth_gb"])
    storage = MeterSeries(meters["storage_gb"])
    level = profile.storage_micro_gb
    for n in range(hours):
        hour = first + n * HOUR
        growth = 90 + 20 * n // hours  # +20 % over the window, in percent
        if rng.randrange(100) < 97:
            noise = rng.randint(80, 120)
            count = profile.requests_per_hour * DIURNAL[hour.hour] * growth * noise // 1_000_000
            # Some hours report in two batches, so the rollup has work to do.
            first_part = count * rng.randint(20, 80) // 100 if rng.randrange(100) < 30 else 0
            for part, offset in ((first_part, 0), (count - first_part, 1800)):
                at = hour + timedelta(seconds=offset + rng.randrange(1800))
                if part and start <= at < as_of:
                    requests.add(at, Decimal(part))
        if n % 3 == 0:
            gb = profile.bandwidth_micro_gb * growth * rng.randint(50, 150) // 10_000
            at = hour + timedelta(seconds=rng.randrange(3 * 3600))
            if start <= at < as_of:
                bandwidth.add(at, _micro(gb))
        if n % 6 == 0 and profile.has_storage:
            level += rng.randint(-level // 400, level // 150)
            at = hour + timedelta(seconds=rng.randrange(6 * 3600))
            if start <= at < as_of:
                storage.add(at, _micro(level))
    return [s for s in (requests, bandwidth, storage) if s.times]


def synthetic_usage(
    key: str,
    profile: UsageProfile,
    meter: Meter,
    period: tuple[datetime, datetime],
    as_of: datetime,
) -> Decimal:
    """A period's usage before the event window: the profile, smaller for older periods,
    with noise from an RNG keyed by the period (independent of call order)."""
    start, end = period
    rng = random.Random(f"{key}:{meter.key}:{start.isoformat()}")
    months_ago = (as_of - end).days // 30
    scale = max(40, 100 - 3 * months_ago) * rng.randint(85, 115)  # percent × percent
    hours = (end - start) // HOUR
    if meter.key == "requests":
        return Decimal(profile.requests_per_hour * hours * scale // 10_000)
    if meter.key == "bandwidth_gb":
        return _micro(profile.bandwidth_micro_gb * hours // 3 * scale // 10_000)
    return _micro(profile.storage_micro_gb * scale // 10_000) if profile.has_storage else Decimal(0)


# ---------------------------------------------------------------------------- billing


@dataclass(frozen=True)
class Line:
    kind: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount: Decimal
    period_start: datetime | None = None
    period_end: datetime | None = None
    meter_id: str | None = None


def _fmt(q: Decimal) -> str:
    return f"{q.normalize():,f}"


def _day(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def service_lines(
    plan: Plan, quantity: int, start: datetime, end: datetime, addons: Sequence[Plan]
) -> list[Line]:
    """SUBSCRIPTION lines billed in advance: the base plan × seats, then each add-on."""
    lines = []
    for p, q in ((plan, quantity), *((addon, 1) for addon in addons)):
        label = "annual" if p.interval == "YEAR" else "monthly"
        amount = recurring_amount(p.amount, q, p.currency)
        lines.append(
            Line(
                "SUBSCRIPTION",
                f"{p.name} ({label}) × {q}",
                Decimal(q),
                p.amount,
                amount,
                start,
                end,
            )
        )
    return lines


def usage_lines(
    plan: Plan, usage: Mapping[str, Decimal], start: datetime, end: datetime
) -> list[Line]:
    """One USAGE line per tier touched (DOMAIN.md, "Graduated usage pricing")."""
    lines = []
    for up in plan.usage:
        used = usage.get(up.meter.key, Decimal(0))
        for t in graduated_lines(used, up.included, up.tiers, plan.currency):
            below = up.tiers[t.tier - 1].up_to if t.tier else None
            lower = up.included if below is None else max(up.included, below)
            upper = up.tiers[t.tier].up_to
            span = f"{_fmt(lower)}+" if upper is None else f"{_fmt(lower)} to {_fmt(upper)}"
            text = f"{up.meter.name}, tier {t.tier + 1} ({span} {up.meter.unit})"
            lines.append(
                Line("USAGE", text, t.quantity, t.unit_amount, t.amount, start, end, up.meter.id)
            )
    return lines


def single_line(
    kind: str,
    description: str,
    amount: Decimal,
    period: tuple[datetime, datetime] | tuple[None, None] = (None, None),
) -> Line:
    """A quantity-1 line whose unit amount is the (already rounded) amount itself."""
    return Line(kind, description, Decimal(1), amount, amount, *period)


@dataclass
class Invoice:
    id: str
    subscription_id: str | None
    created_at: datetime
    period: tuple[datetime, datetime]
    lines: list[Line]
    line_ids: list[str]
    total: Decimal
    status: str = "DRAFT"
    issued_at: datetime | None = None
    due_at: datetime | None = None
    paid_at: datetime | None = None
    amount_paid: Decimal = Decimal(0)
    number: str = ""
    held: bool = False  # kept DRAFT (awaiting review), never finalized

    def issue(self, at: datetime) -> None:
        self.status, self.issued_at, self.due_at = "OPEN", at, at + NET_TERMS

    def pay(self, at: datetime) -> None:
        self.status, self.paid_at, self.amount_paid = "PAID", at, self.total

    def unpay(self, status: str, paid: Decimal = Decimal(0)) -> None:
        self.status, self.paid_at, self.amount_paid = status, None, paid


@dataclass
class Subscription:
    id: str
    plan: Plan
    quantity: int
    start: datetime
    status: str = "ACTIVE"
    anchor: datetime | None = None  # None = start
    period: tuple[datetime, datetime] | None = None  # None = the one containing as_of
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    trial_end: datetime | None = None
    # Boundary index of the last invoice, and of the last one that bills service in
    # advance; None: the subscription is live and bills on.
    last_invoice_at: int | None = None
    service_through: int | None = None
    changes: list[tuple[datetime, Plan]] = field(default_factory=list)  # later plans
    addons: list[tuple[str, Plan, datetime]] = field(default_factory=list)  # (si id, plan, from)
    invoices: list[Invoice] = field(default_factory=list)

    @property
    def billing_anchor(self) -> datetime:
        return self.start if self.anchor is None else self.anchor

    @property
    def current_plan(self) -> Plan:
        return self.changes[-1][1] if self.changes else self.plan

    def boundary(self, k: int) -> datetime:
        return add_months(self.billing_anchor, k * (12 if self.plan.interval == "YEAR" else 1))

    def index_at(self, at: datetime) -> int:
        """k with boundary(k) <= at < boundary(k + 1)."""
        k = 0
        while self.boundary(k + 1) <= at:
            k += 1
        return k

    def plan_at(self, at: datetime) -> Plan:
        return next((p for when, p in reversed(self.changes) if when <= at), self.plan)


# ---------------------------------------------------------------------------- accounts

FIXED_SCENARIOS: Final = (
    *("rich", "trialing", "past_due", "paused", "canceled_unpaid", "active_draft"),
    *("upgraded", "yearly", "free", "canceled"),
)
RANDOM_SCENARIOS: Final = (
    *("active",) * 10,
    *("upgraded", "upgraded", "past_due", "past_due", "canceled", "canceled"),
    *("yearly", "free", "trialing", "paused", "active_draft"),
)
ADJECTIVES: Final = (
    *("Acme", "Blue", "Northern", "Bright", "Silver", "Rapid", "Quiet", "Crimson"),
    *("Golden", "Lunar", "Coastal", "Urban", "Iron", "Maple", "Nimbus", "Polar"),
)
NOUNS: Final = (
    *("Analytics", "Robotics", "Labs", "Foods", "Logistics", "Media", "Health", "Studios"),
    *("Systems", "Outfitters", "Energy", "Games", "Works", "Travel", "Networks", "Pharma"),
)
TAX_RATES: Final[Mapping[str, tuple[str, ...]]] = {
    "USD": ("0", "0", "0.0725", "0.08875", "0.06"),
    "EUR": ("0.19", "0.2", "0.21", "0.2"),
}
# Requests per hour, bandwidth µGB per 3 h, storage µGB: ranges by account size.
SIZES: Final[Mapping[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]] = {
    "small": ((300, 4_000), (20_000, 400_000), (500_000, 5_000_000)),
    "medium": ((8_000, 60_000), (400_000, 4_000_000), (5_000_000, 80_000_000)),
    "large": ((80_000, 300_000), (4_000_000, 40_000_000), (100_000_000, 2_000_000_000)),
}


@dataclass
class AccountData:
    index: int
    id: str
    name: str
    currency: str
    tax_rate: Decimal
    partner_id: str | None
    created_at: datetime
    subscriptions: list[Subscription]
    one_off: list[Invoice]
    grants: list[Row]
    usage: list[MeterSeries]

    @property
    def invoices(self) -> list[Invoice]:
        return [i for s in self.subscriptions for i in s.invoices] + self.one_off


class AccountBuilder:
    """One account and everything it owns, drawn from the account's own RNG."""

    def __init__(
        self, seed: int, index: int, catalog: Catalog, as_of: datetime, partners: Sequence[str]
    ) -> None:
        self.key = f"billing-seed:{seed}:account:{index}"
        self.rng = rng = random.Random(self.key)
        self.index, self.catalog, self.as_of, self.day0 = index, catalog, as_of, _midnight(as_of)
        self.id = make_id(rng, "acct")
        self.currency = "USD" if index == 0 or rng.randrange(100) < 78 else "EUR"
        rate = "0.0825" if index == 0 else rng.choice(TAX_RATES[self.currency])
        self.tax_rate = Decimal(rate)
        self.partner_id = partners[index] if index < len(partners) else None
        if index >= len(partners) and rng.randrange(100) < 30:
            self.partner_id = rng.choice(partners)
        self.scenario = (
            FIXED_SCENARIOS[index] if index < len(FIXED_SCENARIOS) else rng.choice(RANDOM_SCENARIOS)
        )
        self.size = "large" if index == 0 else rng.choice(("small", "medium", "medium", "large"))
        self.profile = self._profile()

    def build(self, name: str) -> AccountData:
        subs = self._subscriptions()
        events = generate_usage(
            random.Random(f"{self.key}:events"), self.profile, self.catalog.meters, self.as_of
        )
        for sub in subs:
            self._bill(sub, events)
        one_off = self._one_off_invoices(subs[0].start)
        self._settle(subs, one_off)
        for sub in subs:
            if sub.period is None:
                k = sub.index_at(self.as_of)
                sub.period = (sub.boundary(k), sub.boundary(k + 1))
        # The demo token names the oldest account (gateway.app.DEMO_ACCOUNT): account 0.
        created = self.day0 - timedelta(days=3 * 365)
        if self.index:
            created = subs[0].start - timedelta(days=self.rng.randint(0, 20))
        grants = self._grants()
        return AccountData(
            *(self.index, self.id, name, self.currency, self.tax_rate, self.partner_id, created),
            *(subs, one_off, grants, events),
        )

    # -- shape

    def _profile(self) -> UsageProfile:
        if self.index == 0:
            return UsageProfile(100_000, 4_000_000, 40_000_000, True)
        rate, bandwidth, storage = SIZES[self.size]
        r = self.rng
        return UsageProfile(
            r.randint(*rate), r.randint(*bandwidth), r.randint(*storage), r.randrange(100) < 70
        )

    def _start(self, months_back: tuple[int, int]) -> datetime:
        """A subscription start: a whole UTC hour, days 29-31 often enough to see clamping."""
        rng = self.rng
        month = add_months(self.day0.replace(day=1), -rng.randint(*months_back))
        day = rng.choice((29, 30, 31)) if rng.randrange(5) == 0 else rng.randint(1, 28)
        hour = 0 if rng.randrange(3) else rng.randint(1, 23)
        return month.replace(
            day=min(day, calendar.monthrange(month.year, month.month)[1]), hour=hour
        )

    def _paid_plan(self) -> Plan:
        family = "business_monthly" if self.size == "large" else "pro_monthly"
        return self.catalog.plan(family, self.currency)

    def _sub(self, family: str | None, start: datetime, *, seats: bool = True) -> Subscription:
        plan = self._paid_plan() if family is None else self.catalog.plan(family, self.currency)
        quantity = 1
        if seats and self.index and self.rng.randrange(100) < 20:
            quantity = self.rng.randint(2, 5)
        return Subscription(make_id(self.rng, "sub"), plan, quantity, start)

    def _addons(self, sub: Subscription, chance: int) -> None:
        rng, last = self.rng, sub.index_at(self.as_of)
        for family in ("addon_extra_rules", "addon_priority_support"):
            if rng.randrange(100) < chance:
                since = sub.boundary(rng.randint(0, max(0, last - 1)))
                addon = self.catalog.plan(family, self.currency)
                sub.addons.append((make_id(rng, "si"), addon, since))
            chance //= 3

    # -- scenarios: each returns the account's subscriptions, oldest first

    def _subscriptions(self) -> list[Subscription]:
        scenarios: Mapping[str, Callable[[], list[Subscription]]] = {
            "rich": self._rich,
            "active": self._active,
            "active_draft": self._active,
            "upgraded": self._upgraded,
            "yearly": lambda: [self._sub("pro_yearly", self._start((13, 30)), seats=False)],
            "free": lambda: [self._sub("free_monthly", self._start((13, 30)), seats=False)],
            "past_due": self._past_due,
            "paused": self._paused,
            "canceled": self._canceled,
            "canceled_unpaid": self._canceled,
            "trialing": self._trialing,
        }
        return scenarios[self.scenario]()

    def _rich(self) -> list[Subscription]:
        sub = self._sub("pro_monthly", add_months(self.day0 - timedelta(days=3), -14))
        addon = self.catalog.plan("addon_extra_rules", self.currency)
        sub.addons.append((make_id(self.rng, "si"), addon, sub.boundary(2)))
        return [sub]

    def _active(self) -> list[Subscription]:
        sub = self._sub(None, self._start((13, 30)))
        self._addons(sub, 35)
        if self.rng.randrange(100) < 12:
            period_start = sub.boundary(sub.index_at(self.as_of))
            requested = self.as_of - timedelta(hours=self.rng.randint(1, 24 * 20))
            sub.cancel_at_period_end, sub.canceled_at = True, max(period_start, requested)
        return [sub]

    def _upgraded(self) -> list[Subscription]:
        rng = self.rng
        sub = self._sub("pro_monthly", self._start((13, 30)))
        j = rng.randint(2, sub.index_at(self.as_of) - 2)
        at = sub.boundary(j) + timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 23))
        sub.changes.append((at, self.catalog.plan("business_monthly", self.currency)))
        self._addons(sub, 25)
        return [sub]

    def _past_due(self) -> list[Subscription]:
        sub = self._sub(None, self._start((13, 30)))
        sub.status = "PAST_DUE"
        self._addons(sub, 20)
        return [sub]

    def _paused(self) -> list[Subscription]:
        sub = self._sub(None, self._start((13, 30)))
        paused = sub.index_at(self.as_of) - self.rng.randint(1, 2)
        sub.status, sub.last_invoice_at, sub.service_through = "PAUSED", paused, paused - 1
        return [sub]

    def _canceled(self) -> list[Subscription]:
        """Canceled at a period end some months ago, then back on the Free plan."""
        old = self._sub(None, self._start((16, 30)))
        self._addons(old, 20)
        end = old.index_at(self.as_of) - self.rng.randint(2, 5)
        old.status, old.canceled_at = "CANCELED", old.boundary(end)
        old.period = (old.boundary(end - 1), old.boundary(end))
        old.last_invoice_at, old.service_through = end, end - 1
        return [old, self._sub("free_monthly", old.boundary(end), seats=False)]

    def _trialing(self) -> list[Subscription]:
        """On Free for a year or more, then a 14-day trial of a paid plan started days ago."""
        rng = self.rng
        free = self._sub("free_monthly", self._start((13, 30)), seats=False)
        began = self.day0 - timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 23))
        k = free.index_at(began)
        free.status, free.canceled_at = "CANCELED", began
        free.period = (free.boundary(k), free.boundary(k + 1))
        free.last_invoice_at = free.service_through = k
        trial = self._sub(None, began, seats=False)
        trial.status, trial.trial_end = "TRIALING", began + timedelta(days=14)
        trial.anchor, trial.period = trial.trial_end, (began, trial.trial_end)
        return [free, trial]

    # -- invoices

    def _bill(self, sub: Subscription, events: Sequence[MeterSeries]) -> None:
        """The subscription's invoices up to as_of (statuses are set by _settle)."""
        if sub.trial_end is not None:
            text = f"Trial period for {sub.plan.name}"
            zero = round_money(Decimal(0), self.currency)
            line = single_line("SUBSCRIPTION", text, zero, (sub.start, sub.trial_end))
            sub.invoices.append(
                self._invoice(sub.id, sub.start, (sub.start, sub.trial_end), [line])
            )
            return
        k = 0
        while sub.boundary(k) <= self.as_of and (
            sub.last_invoice_at is None or k <= sub.last_invoice_at
        ):
            at, prev = sub.boundary(k), sub.boundary(k - 1) if k else None
            if prev is not None:
                self._bill_changes(sub, prev, at)
            serving = sub.service_through is None or k <= sub.service_through
            lines: list[Line] = []
            if serving:
                addons = [p for _, p, since in sub.addons if since <= at]
                lines += service_lines(
                    sub.plan_at(at), sub.quantity, at, sub.boundary(k + 1), addons
                )
            if prev is not None:
                used = self._usage(events, (prev, at))
                lines += usage_lines(sub.plan_at(at), used, prev, at)
            if lines:
                self._maybe_credit(lines, at)
                period = (at, sub.boundary(k + 1)) if serving or prev is None else (prev, at)
                sub.invoices.append(self._invoice(sub.id, at, period, lines))
            k += 1

    def _usage(
        self, events: Sequence[MeterSeries], period: tuple[datetime, datetime]
    ) -> dict[str, Decimal]:
        if period[0] >= self.as_of - timedelta(days=USAGE_DAYS):
            return {s.meter.key: s.aggregate(*period) for s in events}
        return {
            m.key: synthetic_usage(self.key, self.profile, m, period, self.as_of)
            for m in self.catalog.meters.values()
        }

    def _bill_changes(self, sub: Subscription, after: datetime, until: datetime) -> None:
        """Plan changes in (after, until]: an invoice of two PRORATION lines at each."""
        for at, new in sub.changes:
            if not after < at <= until:
                continue
            old = sub.plan_at(at - timedelta(microseconds=1))
            k = sub.index_at(at)
            start, end = sub.boundary(k), sub.boundary(k + 1)
            q = sub.quantity
            credit, charge = plan_change_lines(
                old.amount, new.amount, q, start, end, at, self.currency
            )
            lines = [
                single_line(
                    "PRORATION",
                    f"Unused time on {old.name} × {q} after {_day(at)}",
                    credit,
                    (at, end),
                ),
                single_line(
                    "PRORATION",
                    f"Remaining time on {new.name} × {q} after {_day(at)}",
                    charge,
                    (at, end),
                ),
            ]
            sub.invoices.append(self._invoice(sub.id, at, (at, end), lines))

    def _maybe_credit(self, lines: list[Line], at: datetime) -> None:
        base = lines[0].amount if lines[0].kind == "SUBSCRIPTION" else Decimal(0)
        if base > 0 and self.rng.randrange(100) < 4:
            pct = self.rng.choice((5, 10, 25))
            credit = round_money(exact_product(base, Decimal(-pct).scaleb(-2)), self.currency)
            incident = _day(at - timedelta(days=self.rng.randint(3, 20)))
            lines.append(
                single_line(
                    "ADJUSTMENT", f"Service credit ({pct} %): incident of {incident}", credit
                )
            )

    def _invoice(
        self,
        subscription_id: str | None,
        created: datetime,
        period: tuple[datetime, datetime],
        lines: list[Line],
    ) -> Invoice:
        total = invoice_totals([ln.amount for ln in lines], self.tax_rate, self.currency).total
        line_ids = [make_id(self.rng, "il") for _ in lines]
        return Invoice(
            make_id(self.rng, "inv"), subscription_id, created, period, lines, line_ids, total
        )

    def _one_off_invoices(self, first_start: datetime) -> list[Invoice]:
        """Invoices outside any subscription: a DRAFT for services, a paid onboarding fee."""
        rng, out = self.rng, []
        if self.scenario == "active_draft" or (
            self.index >= len(FIXED_SCENARIOS) and rng.randrange(100) < 6
        ):
            at = self.day0 - timedelta(hours=38)
            hours, rate = Decimal(rng.randint(2, 8)), Decimal("150.00")
            amount = round_money(exact_product(hours, rate), self.currency)
            text = "Professional services: WAF rule migration (hours)"
            draft = self._invoice(
                None, at, (at, at), [Line("ADJUSTMENT", text, hours, rate, amount)]
            )
            draft.held = True
            out.append(draft)
        if rng.randrange(100) < 15:
            at = first_start + timedelta(days=rng.randint(1, 5))
            fee = round_money(Decimal(rng.choice((99, 250, 500))), self.currency)
            line = single_line("ADJUSTMENT", "Onboarding and setup", fee)
            out.append(self._invoice(None, at, (at, at), [line]))
        return out

    # -- statuses

    def _settle(self, subs: Sequence[Subscription], one_off: Sequence[Invoice]) -> None:
        """DRAFT until finalized an hour after creation, then OPEN (net 14 days) and PAID
        within 3 days; the scenario's rules override the latest invoices."""
        terms = self.partner_id is not None and self.rng.randrange(100) < 40
        for sub in subs:
            for pos, inv in enumerate(sub.invoices):
                latest = pos == len(sub.invoices) - 1
                self._lifecycle(inv, hold_open=latest and (terms or self.index == 0))
            self._scenario_statuses(sub)
        for inv in one_off:
            self._lifecycle(inv, hold_open=False)
        for sub in subs:
            self._voids(sub)

    def _lifecycle(self, inv: Invoice, *, hold_open: bool) -> None:
        issued = inv.created_at + FINALIZE_AFTER
        if inv.held or issued > self.as_of:
            return
        inv.issue(issued)
        paid = issued + timedelta(hours=self.rng.randint(1, 72))
        if inv.total <= 0:
            inv.pay(issued)
        elif not hold_open and paid <= self.as_of:
            inv.pay(paid)

    def _scenario_statuses(self, sub: Subscription) -> None:
        rng = self.rng
        billable = [i for i in sub.invoices if i.total > 0 and i.issued_at is not None]
        if sub.status == "PAST_DUE" and len(billable) >= 2:
            billable[-1].unpay("OPEN")
            billable[-2].unpay("OPEN", self._part(billable[-2], rng.randint(20, 60)))
        elif sub.status == "CANCELED" and self.scenario == "canceled_unpaid" and len(billable) >= 2:
            billable[-1].unpay("UNCOLLECTIBLE")
            billable[-2].unpay("UNCOLLECTIBLE", self._part(billable[-2], 25))
        elif billable and billable[-1].status == "OPEN" and rng.randrange(100) < 30:
            billable[-1].amount_paid = self._part(billable[-1], rng.randint(10, 90))

    def _part(self, inv: Invoice, pct: int) -> Decimal:
        return round_money(exact_product(inv.total, Decimal(pct).scaleb(-2)), self.currency)

    def _voids(self, sub: Subscription) -> None:
        """A few old paid invoices were voided and re-issued a day later with a credit."""
        for inv in list(sub.invoices):
            if not (
                inv.created_at < self.as_of - timedelta(days=60)
                and inv.status == "PAID"
                and inv.lines[0].kind == "SUBSCRIPTION"
                and inv.total > 0
                and self.rng.randrange(100) < 3
            ):
                continue
            inv.unpay("VOID")
            credit = round_money(exact_product(inv.lines[0].amount, Decimal("-0.1")), self.currency)
            lines = [
                *inv.lines,
                single_line("ADJUSTMENT", "Correction: 10 % goodwill credit", credit),
            ]
            again = self._invoice(sub.id, inv.created_at + timedelta(days=1), inv.period, lines)
            self._lifecycle(again, hold_open=False)
            sub.invoices.insert(sub.invoices.index(inv) + 1, again)

    # -- grants

    def _grants(self) -> list[Row]:
        rng, feats, day0 = self.rng, self.catalog.features, self.day0
        if self.index == 0:  # DOMAIN.md's example: 100 custom rules until a date, then 30
            rules, sso = feats["waf.custom_rules"][0], feats["sso"][0]

            def ago(days: int) -> datetime:
                return day0 - timedelta(days=days)

            return [
                (make_id(rng, "grt"), self.id, rules, True, Decimal(100), ago(-47), ago(20)),
                (make_id(rng, "grt"), self.id, sso, True, None, ago(10), ago(40)),
            ]
        if rng.randrange(100) >= 25:
            return []
        key = rng.choice(sorted(feats))
        limit = None if feats[key][1].kind == "BOOLEAN" else Decimal(rng.choice((50, 200, 10**9)))
        created = day0 - timedelta(days=rng.randint(5, 200))
        expires = rng.choice(
            (
                None,
                day0 + timedelta(days=rng.randint(5, 90)),
                created + timedelta(days=rng.randint(1, 4)),
            )
        )
        return [(make_id(rng, "grt"), self.id, feats[key][0], True, limit, expires, created)]


# ---------------------------------------------------------------------------- assembly


@dataclass
class SeedData:
    rows: dict[str, list[Row]]
    account_ids: list[str]
    partner_ids: list[str]


def build_seed_data(*, accounts: int, seed: int, as_of: datetime) -> SeedData:
    """Every row of the demo data set, without touching a database."""
    as_of = _utc(as_of)
    catalog = build_catalog(seed)
    rows = catalog_rows(catalog, _midnight(as_of) - timedelta(days=4 * 365))
    prng = _rng(seed, "partners")
    partners = [make_id(prng, "ptr") for _ in PARTNER_NAMES]
    for n, (pid, name) in enumerate(zip(partners, PARTNER_NAMES, strict=True)):
        rows["partners"].append((pid, name, _midnight(as_of) - timedelta(days=1500 - 90 * n)))
    built: list[AccountData] = []
    names: set[str] = set()
    for index in range(accounts):
        builder = AccountBuilder(seed, index, catalog, as_of, partners)
        built.append(builder.build(_account_name(builder.rng, index, builder.currency, names)))
    _number_invoices(built)
    for account in built:
        _account_rows(rows, account)
    return SeedData(rows, [a.id for a in built], partners)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    return at.astimezone(UTC)


def _account_name(rng: random.Random, index: int, currency: str, used: set[str]) -> str:
    name = "Acme Analytics"
    if index:
        suffix = rng.choice(("", " Inc.", " Ltd") if currency == "USD" else ("", " GmbH", " SAS"))
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}{suffix}"
    if name in used:
        name = f"{name} #{index}"
    used.add(name)
    return name


def _number_invoices(accounts: Sequence[AccountData]) -> None:
    """INV-<year>-<counter>: one counter across all accounts, in creation order."""
    keyed = [
        ((inv.created_at, a.index, pos), inv)
        for a in accounts
        for pos, inv in enumerate(a.invoices)
    ]
    keyed.sort(key=lambda pair: pair[0])
    for n, (_, inv) in enumerate(keyed, start=1):
        inv.number = f"INV-{inv.created_at.year:04d}-{n:06d}"


def _account_rows(rows: dict[str, list[Row]], a: AccountData) -> None:
    rows["accounts"].append((a.id, a.name, a.currency, a.tax_rate, a.partner_id, a.created_at))
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
    for inv in a.invoices:
        t = invoice_totals([ln.amount for ln in inv.lines], a.tax_rate, a.currency, inv.amount_paid)
        rows["invoices"].append(
            (
                *(inv.id, a.id, inv.subscription_id, inv.number, inv.status, a.currency),
                *(a.tax_rate, *inv.period, inv.issued_at, inv.due_at, inv.paid_at),
                *(t.subtotal, t.tax, t.total, t.amount_paid, inv.created_at),
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
    rows["entitlement_grants"].extend(a.grants)
    for s in a.usage:
        for n, (at, qty) in enumerate(zip(s.times, s.quantities, strict=True)):
            key = f"seed:{s.meter.key}:{n:05d}"
            recorded = at + timedelta(seconds=1 + n % 59)
            rows["usage_event_keys"].append((a.id, key, s.meter.id, qty, at))
            rows["usage_events"].append((a.id, s.meter.id, qty, at, key, recorded))


# ---------------------------------------------------------------------------- database


@dataclass
class SeedSummary:
    account_ids: list[str]
    partner_ids: list[str]
    counts: dict[str, int]  # rows per table


async def is_empty(conn: asyncpg.Connection) -> bool:
    """True when the database holds no accounts (the demo data may be seeded)."""
    return bool(await conn.fetchval("SELECT NOT EXISTS (SELECT 1 FROM accounts)"))


async def seed(
    conn: asyncpg.Connection,
    *,
    accounts: int = 50,
    seed: int = 1,
    as_of: datetime | None = None,
) -> SeedSummary:
    """Fill an empty, migrated database with the demo data, in one transaction.

    `as_of` (default: today 00:00 UTC) is "now" for the data: live subscriptions'
    periods contain it and the 90 days of usage events end at it.
    """
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    when = _midnight(datetime.now(UTC)) if as_of is None else _utc(as_of)
    async with conn.transaction():
        if not await is_empty(conn):
            raise RuntimeError("the database already holds accounts; seed only fills an empty one")
        data = build_seed_data(accounts=accounts, seed=seed, as_of=when)
        await conn.execute(
            "SELECT ensure_usage_partitions($1, $2)",
            when - timedelta(days=USAGE_DAYS + 31),
            when + timedelta(days=62),
        )
        for table, columns in COLUMNS.items():
            if data.rows[table]:
                await conn.copy_records_to_table(table, records=data.rows[table], columns=columns)
        await conn.execute("SELECT setval('invoice_number_seq', $1)", len(data.rows["invoices"]))
        hourly = int(await conn.fetchval("SELECT count(*) FROM usage_hourly"))
    counts = {table: len(rows) for table, rows in data.rows.items()}
    counts["usage_hourly"] = hourly
    return SeedSummary(data.account_ids, data.partner_ids, counts)
