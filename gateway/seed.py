"""Deterministic demo data for every part of the graph.

Same (accounts, seed, as_of) → the same rows, byte for byte: every id and choice comes
from `random.Random` instances keyed by the seed (one per account, so account N's data
does not depend on how many accounts follow it), every time is derived from `as_of`,
and every amount is a `Decimal` built from integers or literals.

Billing follows DOMAIN.md (the same functions as the resolvers: `resolvers.money`,
`resolvers.periods`, `resolvers.pricing`):
- periods are anchored on the subscription start (day clamped) and start on whole
  UTC hours, so period totals are exact sums of `usage_hourly`;
- the invoice created at period boundary P_k bills the plan and add-ons in advance for
  [P_k, P_k+1) and the usage of [P_k-1, P_k) in arrears, one USAGE line per tier
  touched; the invoice's own period is the service period it bills (a final invoice,
  which bills only usage, takes the usage period);
- a plan change mid-period is its own invoice at the change, with the two PRORATION
  lines of DOMAIN.md (quantity 1, unit amount = the prorated amount);
- usage of periods inside the 90-day event window is the events' exact aggregate;
  older periods use a synthetic figure of the same profile.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Mapping, Sequence
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

# Insert order (foreign keys) and the columns each table is filled with.
COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "partners": ("id", "name", "created_at"),
    "accounts": ("id", "name", "currency", "tax_rate", "partner_id", "created_at"),
    "meters": ("id", "key", "name", "unit", "aggregation"),
    "plans": (
        "id",
        "code",
        "name",
        "kind",
        "interval",
        "currency",
        "amount",
        "active",
        "created_at",
    ),
    "usage_prices": ("id", "plan_id", "meter_id", "included"),
    "usage_price_tiers": ("usage_price_id", "position", "up_to", "unit_amount"),
    "features": ("id", "key", "name", "kind", "meter_id"),
    "plan_entitlements": ("plan_id", "feature_id", "enabled", "limit_value"),
    "subscriptions": (
        "id",
        "account_id",
        "currency",
        "plan_id",
        "status",
        "quantity",
        "billing_anchor",
        "current_period_start",
        "current_period_end",
        "cancel_at_period_end",
        "canceled_at",
        "trial_end",
        "created_at",
    ),
    "subscription_items": (
        "id",
        "subscription_id",
        "account_id",
        "currency",
        "plan_id",
        "quantity",
        "created_at",
    ),
    "invoices": (
        "id",
        "account_id",
        "subscription_id",
        "number",
        "status",
        "currency",
        "tax_rate",
        "period_start",
        "period_end",
        "issued_at",
        "due_at",
        "paid_at",
        "subtotal",
        "tax",
        "total",
        "amount_paid",
        "created_at",
    ),
    "invoice_lines": (
        "id",
        "invoice_id",
        "account_id",
        "currency",
        "position",
        "kind",
        "description",
        "quantity",
        "unit_amount",
        "amount",
        "period_start",
        "period_end",
        "meter_id",
    ),
    "entitlement_grants": (
        "id",
        "account_id",
        "feature_id",
        "enabled",
        "limit_value",
        "expires_at",
        "created_at",
    ),
    "usage_event_keys": ("account_id", "idempotency_key", "meter_id", "quantity", "occurred_at"),
    "usage_events": (
        "account_id",
        "meter_id",
        "quantity",
        "occurred_at",
        "idempotency_key",
        "recorded_at",
    ),
}


def make_id(rng: random.Random, prefix: str) -> str:
    """`<prefix>_` + 20 lowercase base32 characters (100 bits drawn from `rng`)."""
    bits = rng.getrandbits(100)
    return f"{prefix}_" + "".join(ID_ALPHABET[(bits >> shift) & 31] for shift in range(0, 100, 5))


def _rng(seed: int, *scope: object) -> random.Random:
    # String seeds are hashed with SHA-512: stable across processes and Python builds.
    return random.Random(":".join(["billing-seed", str(seed), *map(str, scope)]))


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


# (enabled, limit); limit None = unlimited (and unused for BOOLEAN features).
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
        {"USD": "0.00", "EUR": "0.00"},
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
        {"USD": "20.00", "EUR": "19.00"},
        usage=(
            UsageSpec(
                "requests",
                "10000000",
                (
                    ("50000000", {"USD": "0.0000003", "EUR": "0.00000028"}),
                    (None, {"USD": "0.0000002", "EUR": "0.00000018"}),
                ),
            ),
            UsageSpec(
                "bandwidth_gb",
                "100",
                (
                    ("1000", {"USD": "0.08", "EUR": "0.075"}),
                    (None, {"USD": "0.05", "EUR": "0.045"}),
                ),
            ),
            UsageSpec("storage_gb", "10", ((None, {"USD": "0.10", "EUR": "0.09"}),)),
        ),
        entitlements=_PRO_ENTITLEMENTS,
    ),
    PlanSpec(
        "business_monthly",
        "Business",
        "BASE",
        "MONTH",
        {"USD": "200.00", "EUR": "190.00"},
        usage=(
            UsageSpec(
                "requests",
                "100000000",
                (
                    ("500000000", {"USD": "0.00000025", "EUR": "0.00000023"}),
                    (None, {"USD": "0.00000015", "EUR": "0.00000014"}),
                ),
            ),
            UsageSpec("bandwidth_gb", "1000", ((None, {"USD": "0.04", "EUR": "0.037"}),)),
            UsageSpec("storage_gb", "100", ((None, {"USD": "0.08", "EUR": "0.075"}),)),
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
        {"USD": "200.00", "EUR": "190.00"},
        entitlements=_PRO_ENTITLEMENTS,
    ),
    PlanSpec(
        "addon_extra_rules",
        "Extra rules",
        "ADDON",
        "MONTH",
        {"USD": "5.00", "EUR": "4.50"},
        entitlements={"waf.custom_rules": (True, 10)},
    ),
    PlanSpec(
        "addon_priority_support",
        "Priority support",
        "ADDON",
        "MONTH",
        {"USD": "49.00", "EUR": "45.00"},
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
        spec.key: Meter(make_id(rng, "mtr"), spec.key, spec.name, spec.unit, spec.aggregation)
        for spec in METERS
    }
    features = {spec.key: (make_id(rng, "feat"), spec) for spec in FEATURES}
    plans: dict[tuple[str, str], Plan] = {}
    for spec in PLANS:
        for currency in CURRENCIES:
            plans[(spec.family, currency)] = _build_plan(rng, spec, currency, meters)
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
    for feature_id, spec in catalog.features.values():
        meter_id = None if spec.meter is None else catalog.meters[spec.meter].id
        rows["features"].append((feature_id, spec.key, spec.name, spec.kind, meter_id))
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
            limit_value = None if limit is None else Decimal(limit)
            rows["plan_entitlements"].append((p.id, catalog.features[key][0], enabled, limit_value))
    return rows


# ---------------------------------------------------------------------------- usage

# Share of the hourly request rate by UTC hour, in percent (mean 100).
DIURNAL: Final = (
    70,
    62,
    56,
    52,
    50,
    52,
    60,
    75,
    92,
    108,
    120,
    128,
    132,
    134,
    133,
    130,
    126,
    120,
    112,
    104,
    96,
    88,
    80,
    74,
)


@dataclass(frozen=True)
class UsageProfile:
    requests_per_hour: int
    bandwidth_micro_gb: int  # per 3-hour slot
    storage_micro_gb: int  # level at the start of the window
    has_storage: bool


@dataclass
class MeterSeries:
    meter: Meter
    times: list[datetime] = field(default_factory=list)
    quantities: list[Decimal] = field(default_factory=list)

    def aggregate(self, start: datetime, end: datetime) -> Decimal:
        lo, hi = bisect_left(self.times, start), bisect_left(self.times, end)
        values = self.quantities[lo:hi]
        if self.meter.aggregation == "MAX":
            return max(values, default=Decimal(0))
        return exact_sum(values)


def _micro(value: int) -> Decimal:
    return Decimal(value).scaleb(-6)


def generate_usage(
    rng: random.Random, profile: UsageProfile, meters: Mapping[str, Meter], as_of: datetime
) -> list[MeterSeries]:
    """Events over [as_of - 90 days, as_of): hourly requests, 3-hourly bandwidth,
    6-hourly storage samples (MAX meter)."""
    start = as_of - timedelta(days=USAGE_DAYS)
    first_hour = start.replace(minute=0, second=0, microsecond=0)
    hours = int((as_of - first_hour) / HOUR) + 1
    requests, bandwidth = MeterSeries(meters["requests"]), MeterSeries(meters["bandwidth_gb"])
    storage = MeterSeries(meters["storage_gb"])
    level = profile.storage_micro_gb
    for n in range(hours):
        hour = first_hour + n * HOUR
        growth = 90 + 20 * n // hours  # +20 % over the window, in percent
        if rng.randrange(100) < 97:
            qty = (
                profile.requests_per_hour
                * DIURNAL[hour.hour]
                * growth
                * rng.randint(80, 120)
                // 1_000_000
            )
            _add(
                requests, hour + timedelta(seconds=rng.randrange(3600)), Decimal(qty), start, as_of
            )
        if n % 3 == 0:
            qty = profile.bandwidth_micro_gb * growth * rng.randint(50, 150) // 10_000
            _add(
                bandwidth,
                hour + timedelta(seconds=rng.randrange(3 * 3600)),
                _micro(qty),
                start,
                as_of,
            )
        if n % 6 == 0 and profile.has_storage:
            level += rng.randint(-level // 400, level // 150)
            _add(
                storage,
                hour + timedelta(seconds=rng.randrange(6 * 3600)),
                _micro(level),
                start,
                as_of,
            )
    return [s for s in (requests, bandwidth, storage) if s.times]


def _add(series: MeterSeries, at: datetime, qty: Decimal, start: datetime, end: datetime) -> None:
    if start <= at < end and (not series.times or at > series.times[-1]):
        series.times.append(at)
        series.quantities.append(qty)


def synthetic_usage(
    key: str,
    profile: UsageProfile,
    meter: Meter,
    start: datetime,
    end: datetime,
    as_of: datetime,
) -> Decimal:
    """A period's usage before the event window: the profile, shrunk for older periods,
    with noise from an RNG keyed by the period (independent of call order)."""
    rng = random.Random(f"{key}:{meter.key}:{start.isoformat()}")
    months_ago = (as_of - end).days // 30
    scale = max(40, 100 - 3 * months_ago) * rng.randint(85, 115)  # percent²
    hours = int((end - start) / HOUR)
    if meter.key == "requests":
        return Decimal(profile.requests_per_hour * hours * scale // 10_000)
    if meter.key == "bandwidth_gb":
        return _micro(profile.bandwidth_micro_gb * hours // 3 * scale // 10_000)
    if not profile.has_storage:
        return Decimal(0)
    return _micro(profile.storage_micro_gb * scale // 10_000)


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


@dataclass
class Invoice:
    id: str
    subscription_id: str | None
    created_at: datetime
    period_start: datetime
    period_end: datetime
    lines: list[Line]
    total: Decimal = Decimal(0)
    status: str = "DRAFT"
    issued_at: datetime | None = None
    due_at: datetime | None = None
    paid_at: datetime | None = None
    amount_paid: Decimal = Decimal(0)
    number: str = ""

    def issue(self, at: datetime) -> None:
        self.status, self.issued_at, self.due_at = "OPEN", at, at + NET_TERMS

    def pay(self, at: datetime) -> None:
        self.status, self.paid_at, self.amount_paid = "PAID", at, self.total

    def unpay(self, status: str, paid: Decimal = Decimal(0)) -> None:
        self.status, self.paid_at, self.amount_paid = status, None, paid


def _fmt(q: Decimal) -> str:
    return f"{q.normalize():,f}"


def _day(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def service_lines(
    plan: Plan, quantity: int, start: datetime, end: datetime, addons: Sequence[Plan]
) -> list[Line]:
    """SUBSCRIPTION lines billed in advance: the base plan × seats, then each add-on."""
    lines = []
    for p, q in ((plan, quantity), *((a, 1) for a in addons)):
        label = "annual" if p.interval == "YEAR" else "monthly"
        lines.append(
            Line(
                "SUBSCRIPTION",
                f"{p.name} ({label}) × {q}",
                Decimal(q),
                p.amount,
                recurring_amount(p.amount, q, p.currency),
                start,
                end,
            )
        )
    return lines


def usage_lines(
    plan: Plan, usage: Mapping[str, Decimal], start: datetime, end: datetime
) -> list[Line]:
    """One USAGE line per tier touched (DOMAIN.md "Graduated usage pricing")."""
    lines = []
    for up in plan.usage:
        used = usage.get(up.meter.key, Decimal(0))
        for tl in graduated_lines(used, up.included, up.tiers, plan.currency):
            lower = (
                up.included
                if tl.tier == 0
                else max(up.included, up.tiers[tl.tier - 1].up_to or Decimal(0))
            )
            upper = up.tiers[tl.tier].up_to
            span = f"{_fmt(lower)}+" if upper is None else f"{_fmt(lower)} to {_fmt(upper)}"
            lines.append(
                Line(
                    "USAGE",
                    f"{up.meter.name}, tier {tl.tier + 1} ({span} {up.meter.unit})",
                    tl.quantity,
                    tl.unit_amount,
                    tl.amount,
                    start,
                    end,
                    up.meter.id,
                )
            )
    return lines


def single_line(
    kind: str,
    description: str,
    amount: Decimal,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Line:
    """A quantity-1 line whose unit amount is the (already rounded) amount itself."""
    return Line(kind, description, Decimal(1), amount, amount, start, end)


# ---------------------------------------------------------------------------- accounts

FIXED_SCENARIOS: Final = (
    "rich",
    "trialing",
    "past_due",
    "paused",
    "canceled_unpaid",
    "active_draft",
    "upgraded",
    "yearly",
    "free",
    "canceled",
)
RANDOM_SCENARIOS: Final = (
    ("active",) * 10
    + ("upgraded",) * 2
    + ("past_due",) * 2
    + ("canceled",) * 2
    + ("yearly", "free", "trialing", "paused", "active_draft")
)
ADJECTIVES: Final = (
    "Acme",
    "Blue",
    "Northern",
    "Bright",
    "Silver",
    "Rapid",
    "Quiet",
    "Crimson",
    "Golden",
    "Lunar",
    "Coastal",
    "Urban",
    "Iron",
    "Maple",
    "Nimbus",
    "Polar",
)
NOUNS: Final = (
    "Analytics",
    "Robotics",
    "Labs",
    "Foods",
    "Logistics",
    "Media",
    "Health",
    "Studios",
    "Systems",
    "Outfitters",
    "Energy",
    "Games",
    "Works",
    "Travel",
    "Networks",
    "Pharma",
)
TAX_RATES: Final[Mapping[str, tuple[str, ...]]] = {
    "USD": ("0", "0", "0.0725", "0.08875", "0.06"),
    "EUR": ("0.19", "0.2", "0.21", "0.2"),
}


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
    changes: list[tuple[datetime, Plan]] = field(default_factory=list)  # later plans
    addons: list[tuple[str, Plan, datetime]] = field(default_factory=list)  # (si id, plan, from)
    invoices: list[Invoice] = field(default_factory=list)

    @property
    def billing_anchor(self) -> datetime:
        return self.start if self.anchor is None else self.anchor

    def boundary(self, k: int) -> datetime:
        return add_months(self.billing_anchor, k * (12 if self.plan.interval == "YEAR" else 1))

    def plan_at(self, at: datetime) -> Plan:
        plan = self.plan
        for when, later in self.changes:
            if when <= at:
                plan = later
        return plan

    def index_at(self, at: datetime) -> int:
        """k with boundary(k) <= at < boundary(k + 1)."""
        k = 0
        while self.boundary(k + 1) <= at:
            k += 1
        return k


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
    """Everything one account owns, from its own RNG."""

    def __init__(
        self, seed: int, index: int, catalog: Catalog, as_of: datetime, partners: Sequence[str]
    ) -> None:
        self.key = f"billing-seed:{seed}:account:{index}"
        self.rng = random.Random(self.key)
        self.index, self.catalog, self.as_of = index, catalog, as_of
        self.day0 = as_of.replace(hour=0, minute=0, second=0, microsecond=0)
        rng = self.rng
        self.id = make_id(rng, "acct")
        self.currency = "USD" if index == 0 or rng.randrange(100) < 78 else "EUR"
        self.tax_rate = (
            Decimal("0.0825") if index == 0 else Decimal(rng.choice(TAX_RATES[self.currency]))
        )
        if index < len(partners):
            self.partner_id: str | None = partners[index]
        else:
            self.partner_id = rng.choice(partners) if rng.randrange(100) < 30 else None
        self.scenario = (
            FIXED_SCENARIOS[index] if index < len(FIXED_SCENARIOS) else rng.choice(RANDOM_SCENARIOS)
        )
        self.size = "large" if index == 0 else rng.choice(("small", "medium", "medium", "large"))
        self.profile = self._profile()

    # -- shape

    def _profile(self) -> UsageProfile:
        rng = self.rng
        if self.index == 0:
            return UsageProfile(100_000, 4_000_000, 40_000_000, True)
        rate, bw, st = {
            "small": ((300, 4_000), (20_000, 400_000), (500_000, 5_000_000)),
            "medium": ((8_000, 60_000), (400_000, 4_000_000), (5_000_000, 80_000_000)),
            "large": ((80_000, 300_000), (4_000_000, 40_000_000), (100_000_000, 2_000_000_000)),
        }[self.size]
        return UsageProfile(
            rng.randint(*rate), rng.randint(*bw), rng.randint(*st), rng.randrange(100) < 70
        )

    def _start(self, months_back: tuple[int, int]) -> datetime:
        rng = self.rng
        month = add_months(self.day0.replace(day=1), -rng.randint(*months_back))
        day = rng.choice((29, 30, 31)) if rng.randrange(5) == 0 else rng.randint(1, 28)
        hour = 0 if rng.randrange(3) else rng.randint(1, 23)
        return (
            add_months(month.replace(day=day, hour=hour), 0)
            if day <= 28
            else add_months(datetime(month.year, 1, day, hour, tzinfo=UTC), month.month - 1)
        )

    def _paid_plan(self) -> Plan:
        family = "business_monthly" if self.size == "large" else "pro_monthly"
        return self.catalog.plan(family, self.currency)

    def _seats(self) -> int:
        return 1 if self.index == 0 or self.rng.randrange(100) < 80 else self.rng.randint(2, 5)

    def _sub(self, plan: Plan, start: datetime, quantity: int = 1) -> Subscription:
        return Subscription(make_id(self.rng, "sub"), plan, quantity, start)

    def _addons(self, sub: Subscription, chance: int) -> None:
        rng, last = self.rng, sub.index_at(self.as_of)
        for family in ("addon_extra_rules", "addon_priority_support"):
            if rng.randrange(100) < chance:
                since = sub.boundary(rng.randint(0, max(0, last - 1)))
                sub.addons.append(
                    (make_id(rng, "si"), self.catalog.plan(family, self.currency), since)
                )
            chance //= 3

    # -- scenarios: each returns the account's subscriptions, oldest first

    def subscriptions(self) -> list[Subscription]:
        return getattr(self, f"_scenario_{self.scenario}")()  # type: ignore[no-any-return]

    def _scenario_rich(self) -> list[Subscription]:
        start = add_months(self.day0 - timedelta(days=3), -14)
        sub = self._sub(self.catalog.plan("pro_monthly", "USD"), start)
        sub.addons.append(
            (
                make_id(self.rng, "si"),
                self.catalog.plan("addon_extra_rules", "USD"),
                sub.boundary(2),
            )
        )
        return [sub]

    def _scenario_active(self) -> list[Subscription]:
        sub = self._sub(self._paid_plan(), self._start((13, 30)), self._seats())
        self._addons(sub, 35)
        if self.rng.randrange(100) < 12:
            period_start = sub.boundary(sub.index_at(self.as_of))
            sub.cancel_at_period_end = True
            sub.canceled_at = max(
                period_start, self.as_of - timedelta(hours=self.rng.randint(1, 24 * 20))
            )
        return [sub]

    def _scenario_active_draft(self) -> list[Subscription]:
        return self._scenario_active()

    def _scenario_upgraded(self) -> list[Subscription]:
        rng = self.rng
        sub = self._sub(
            self.catalog.plan("pro_monthly", self.currency), self._start((13, 30)), self._seats()
        )
        j = rng.randint(2, sub.index_at(self.as_of) - 2)
        at = sub.boundary(j) + timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 23))
        sub.changes.append((at, self.catalog.plan("business_monthly", self.currency)))
        self._addons(sub, 25)
        return [sub]

    def _scenario_yearly(self) -> list[Subscription]:
        return [self._sub(self.catalog.plan("pro_yearly", self.currency), self._start((13, 30)))]

    def _scenario_free(self) -> list[Subscription]:
        return [self._sub(self.catalog.plan("free_monthly", self.currency), self._start((13, 30)))]

    def _scenario_past_due(self) -> list[Subscription]:
        sub = self._sub(self._paid_plan(), self._start((13, 30)), self._seats())
        sub.status = "PAST_DUE"
        self._addons(sub, 20)
        return [sub]

    def _scenario_paused(self) -> list[Subscription]:
        sub = self._sub(self._paid_plan(), self._start((13, 30)), self._seats())
        sub.status = "PAUSED"
        sub.canceled_at = None
        self.pause_at = sub.index_at(self.as_of) - self.rng.randint(1, 2)
        return [sub]

    def _scenario_canceled(self) -> list[Subscription]:
        rng = self.rng
        old = self._sub(self._paid_plan(), self._start((16, 30)), self._seats())
        self._addons(old, 20)
        end = old.index_at(self.as_of) - rng.randint(2, 5)
        old.status, old.canceled_at = "CANCELED", old.boundary(end)
        old.period = (old.boundary(end - 1), old.boundary(end))
        new = self._sub(self.catalog.plan("free_monthly", self.currency), old.boundary(end))
        return [old, new]

    def _scenario_canceled_unpaid(self) -> list[Subscription]:
        return self._scenario_canceled()

    def _scenario_trialing(self) -> list[Subscription]:
        rng = self.rng
        free = self._sub(self.catalog.plan("free_monthly", self.currency), self._start((13, 30)))
        trial_start = self.day0 - timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 23))
        free.status, free.canceled_at = "CANCELED", trial_start
        k = free.index_at(trial_start)
        free.period = (free.boundary(k), free.boundary(k + 1))
        trial = self._sub(self._paid_plan(), trial_start)
        trial.status, trial.trial_end = "TRIALING", trial_start + timedelta(days=14)
        trial.anchor, trial.period = trial.trial_end, (trial_start, trial.trial_end)
        return [free, trial]

    # -- billing

    def bill(self, sub: Subscription, usage: UsageSource) -> None:
        """Create the subscription's invoices up to as_of (statuses are set later)."""
        if sub.status == "TRIALING":
            assert sub.trial_end is not None
            line = single_line(
                "SUBSCRIPTION",
                f"Trial period for {sub.plan.name}",
                round_money(Decimal(0), self.currency),
                sub.start,
                sub.trial_end,
            )
            sub.invoices.append(self._invoice(sub.id, sub.start, sub.start, sub.trial_end, [line]))
            return
        stop = self._service_stop(sub)
        k = 0
        while sub.boundary(k) <= self.as_of and (stop is None or k <= stop):
            at, nxt = sub.boundary(k), sub.boundary(k + 1)
            if sub.canceled_at is not None and sub.status == "CANCELED" and at > sub.canceled_at:
                break
            self._bill_changes(sub, sub.boundary(k - 1) if k else at, at)
            lines: list[Line] = []
            serving = stop is None or k < stop
            if serving and not (sub.status == "CANCELED" and at == sub.canceled_at):
                addons = [p for _, p, since in sub.addons if since <= at]
                lines += service_lines(sub.plan_at(at), sub.quantity, at, nxt, addons)
            if k:
                prev = sub.boundary(k - 1)
                lines += usage_lines(sub.plan_at(at), usage.period(prev, at), prev, at)
            if lines:
                start, end = (
                    (at, nxt)
                    if lines[0].kind == "SUBSCRIPTION" and serving
                    else (sub.boundary(k - 1), at)
                )
                self._maybe_adjust(lines, at)
                sub.invoices.append(self._invoice(sub.id, at, start, end, lines))
            k += 1

    def _service_stop(self, sub: Subscription) -> int | None:
        if sub.status == "PAUSED":
            return self.pause_at
        if sub.status == "CANCELED" and sub.period is not None:
            return sub.index_at(sub.period[1])
        return None

    def _bill_changes(self, sub: Subscription, lo: datetime, hi: datetime) -> None:
        for at, new in sub.changes:
            if not lo < at <= hi:
                continue
            old = sub.plan_at(at - timedelta(microseconds=1))
            k = sub.index_at(at)
            start, end = sub.boundary(k), sub.boundary(k + 1)
            credit, charge = plan_change_lines(
                old.amount, new.amount, sub.quantity, start, end, at, self.currency
            )
            lines = [
                single_line(
                    "PRORATION",
                    f"Unused time on {old.name} × {sub.quantity} after {_day(at)}",
                    credit,
                    at,
                    end,
                ),
                single_line(
                    "PRORATION",
                    f"Remaining time on {new.name} × {sub.quantity} after {_day(at)}",
                    charge,
                    at,
                    end,
                ),
            ]
            sub.invoices.append(self._invoice(sub.id, at, at, end, lines))

    def _maybe_adjust(self, lines: list[Line], at: datetime) -> None:
        base = lines[0].amount if lines and lines[0].kind == "SUBSCRIPTION" else Decimal(0)
        if base > 0 and self.rng.randrange(100) < 4:
            pct = self.rng.choice((5, 10, 25))
            credit = round_money(exact_product(base, Decimal(-pct).scaleb(-2)), self.currency)
            when = at - timedelta(days=self.rng.randint(3, 20))
            lines.append(
                single_line(
                    "ADJUSTMENT", f"Service credit ({pct} %): incident of {_day(when)}", credit
                )
            )

    def _invoice(
        self,
        sub_id: str | None,
        created: datetime,
        start: datetime,
        end: datetime,
        lines: list[Line],
    ) -> Invoice:
        inv = Invoice(make_id(self.rng, "inv"), sub_id, created, start, end, lines)
        inv.total = invoice_totals([ln.amount for ln in lines], self.tax_rate, self.currency).total
        return inv

    def one_off_invoices(self, subs: Sequence[Subscription]) -> list[Invoice]:
        rng, out = self.rng, []
        if self.scenario == "active_draft" or (
            self.index >= len(FIXED_SCENARIOS) and rng.randrange(100) < 6
        ):
            at = self.day0 - timedelta(days=2, hours=-10)
            hours = rng.randint(2, 8)
            unit = Decimal("150.00")
            line = Line(
                "ADJUSTMENT",
                "Professional services: WAF rule migration (hours)",
                Decimal(hours),
                unit,
                round_money(exact_product(unit, Decimal(hours)), self.currency),
            )
            out.append(self._invoice(None, at, at, at, [line]))
        if rng.randrange(100) < 15:
            at = subs[0].start + timedelta(days=rng.randint(1, 5))
            fee = Decimal(rng.choice((99, 250, 500)))
            out.append(
                self._invoice(
                    None,
                    at,
                    at,
                    at,
                    [
                        single_line(
                            "ADJUSTMENT", "Onboarding and setup", round_money(fee, self.currency)
                        )
                    ],
                )
            )
        return out

    # -- statuses

    def settle(self, subs: Sequence[Subscription], one_off: Sequence[Invoice]) -> None:
        """Lifecycle: DRAFT until finalized 1 h after creation, then OPEN (net 14) and
        PAID within 3 days; scenario rules override."""
        rng = self.rng
        terms = self.partner_id is not None and rng.randrange(100) < 40
        for sub in subs:
            for pos, inv in enumerate(sub.invoices):
                latest = pos == len(sub.invoices) - 1
                self._lifecycle(inv, hold_open=latest and (terms or self.index == 0))
            self._scenario_statuses(sub)
        for inv in one_off:
            if self.scenario != "active_draft" or inv is not one_off[0]:
                self._lifecycle(inv, hold_open=False)
        self._voids(subs)

    def _lifecycle(self, inv: Invoice, *, hold_open: bool) -> None:
        issued = inv.created_at + FINALIZE_AFTER
        if issued > self.as_of:
            return
        inv.issue(issued)
        paid = issued + timedelta(hours=self.rng.randint(1, 72))
        if inv.total <= 0:
            inv.pay(issued)
        elif not hold_open and paid <= self.as_of:
            inv.pay(paid)

    def _scenario_statuses(self, sub: Subscription) -> None:
        rng, billable = self.rng, [i for i in sub.invoices if i.total > 0 and i.issued_at]
        if sub.status == "PAST_DUE":
            for inv in billable[-2:]:
                inv.unpay("OPEN")
            billable[-2].unpay("OPEN", self._part(billable[-2], rng.randint(20, 60)))
        elif sub.status == "CANCELED" and self.scenario == "canceled_unpaid" and billable:
            for inv in billable[-2:]:
                inv.unpay("UNCOLLECTIBLE")
            billable[-1].unpay("UNCOLLECTIBLE", self._part(billable[-1], 25))
        elif billable and billable[-1].status == "OPEN" and rng.randrange(100) < 30:
            billable[-1].amount_paid = self._part(billable[-1], rng.randint(10, 90))

    def _part(self, inv: Invoice, pct: int) -> Decimal:
        return round_money(exact_product(inv.total, Decimal(pct).scaleb(-2)), self.currency)

    def _voids(self, subs: Sequence[Subscription]) -> None:
        """A few old paid invoices were voided and re-issued a day later with a credit."""
        for sub in subs:
            for inv in list(sub.invoices):
                old = inv.created_at < self.as_of - timedelta(days=60)
                if not (
                    old and inv.status == "PAID" and inv.total > 0 and self.rng.randrange(100) < 3
                ):
                    continue
                inv.unpay("VOID")
                credit = round_money(
                    exact_product(inv.lines[0].amount, Decimal("-0.1")), self.currency
                )
                lines = [
                    *inv.lines,
                    single_line("ADJUSTMENT", "Correction: 10 % goodwill credit", credit),
                ]
                again = self._invoice(
                    sub.id,
                    inv.created_at + timedelta(days=1),
                    inv.period_start,
                    inv.period_end,
                    lines,
                )
                self._lifecycle(again, hold_open=False)
                sub.invoices.insert(sub.invoices.index(inv) + 1, again)

    # -- grants

    def grants(self) -> list[Row]:
        rng, feats = self.rng, self.catalog.features
        if self.index == 0:
            return [
                (
                    make_id(rng, "grt"),
                    self.id,
                    feats["waf.custom_rules"][0],
                    True,
                    Decimal(100),
                    self.day0 + timedelta(days=47),
                    self.day0 - timedelta(days=20),
                ),
                (
                    make_id(rng, "grt"),
                    self.id,
                    feats["sso"][0],
                    True,
                    None,
                    self.day0 - timedelta(days=10),
                    self.day0 - timedelta(days=40),
                ),
            ]
        if rng.randrange(100) >= 25:
            return []
        key = rng.choice(sorted(feats))
        kind = feats[key][1].kind
        limit = None if kind == "BOOLEAN" else Decimal(rng.choice((50, 200, 5_000_000_000)))
        created = self.day0 - timedelta(days=rng.randint(5, 200))
        expires = rng.choice(
            (
                None,
                self.day0 + timedelta(days=rng.randint(5, 90)),
                created + timedelta(days=rng.randint(1, 4)),
            )
        )
        return [(make_id(rng, "grt"), self.id, feats[key][0], True, limit, expires, created)]

    # -- all of it

    def build(self, name: str) -> AccountData:
        subs = self.subscriptions()
        usage = UsageSource(
            self,
            generate_usage(
                random.Random(f"{self.key}:events"), self.profile, self.catalog.meters, self.as_of
            ),
        )
        for sub in subs:
            self.bill(sub, usage)
        one_off = self.one_off_invoices(subs)
        self.settle(subs, one_off)
        created = min(s.start for s in subs) - timedelta(days=self.rng.randint(0, 20))
        return AccountData(
            self.index,
            self.id,
            name,
            self.currency,
            self.tax_rate,
            self.partner_id,
            created,
            subs,
            one_off,
            self.grants(),
            usage.series,
        )


class UsageSource:
    """A period's usage per meter: exact event aggregates inside the window, else synthetic."""

    def __init__(self, builder: AccountBuilder, series: list[MeterSeries]) -> None:
        self.builder, self.series = builder, series
        self.window_start = builder.as_of - timedelta(days=USAGE_DAYS)

    def period(self, start: datetime, end: datetime) -> dict[str, Decimal]:
        b = self.builder
        if start >= self.window_start:
            return {s.meter.key: s.aggregate(start, end) for s in self.series}
        return {
            m.key: synthetic_usage(b.key, b.profile, m, start, end, b.as_of)
            for m in b.catalog.meters.values()
        }


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
    rows = catalog_rows(
        catalog, as_of.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=4 * 365)
    )
    prng = _rng(seed, "partners")
    partners = [make_id(prng, "ptr") for _ in PARTNER_NAMES]
    for n, (pid, name) in enumerate(zip(partners, PARTNER_NAMES, strict=True)):
        rows["partners"].append((pid, name, as_of - timedelta(days=1500 - 90 * n)))
    built, names = [], set()
    for index in range(accounts):
        builder = AccountBuilder(seed, index, catalog, as_of, partners)
        name = _account_name(builder.rng, index, builder.currency, names)
        built.append(builder.build(name))
    _number_invoices(built)
    for acct in built:
        _account_rows(rows, acct)
    return SeedData(rows, [a.id for a in built], partners)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    return at.astimezone(UTC)


def _account_name(rng: random.Random, index: int, currency: str, used: set[str]) -> str:
    if index == 0:
        name = "Acme Analytics"
    else:
        suffix = rng.choice(("", " Inc.", " Ltd") if currency == "USD" else ("", " GmbH", " SAS"))
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}{suffix}"
    if name in used:
        name = f"{name} #{index}"
    used.add(name)
    return name


def _number_invoices(accounts: Sequence[AccountData]) -> None:
    """INV-<year>-<global counter>, in creation order across all accounts."""
    ordered = sorted(
        (
            (inv.created_at, acct.index, pos, inv)
            for acct in accounts
            for pos, inv in enumerate(acct.invoices)
        ),
        key=lambda t: (t[0], t[1], t[2]),
    )
    for n, (created, _, _, inv) in enumerate(ordered, start=1):
        inv.number = f"INV-{created.year:04d}-{n:06d}"


def _account_rows(rows: dict[str, list[Row]], a: AccountData) -> None:
    rows["accounts"].append((a.id, a.name, a.currency, a.tax_rate, a.partner_id, a.created_at))
    for sub in a.subscriptions:
        rows["subscriptions"].append(_subscription_row(a, sub))
        rows["subscription_items"].extend(
            (si, sub.id, a.id, a.currency, plan.id, 1, since) for si, plan, since in sub.addons
        )
    for inv in a.invoices:
        rows["invoices"].append(_invoice_row(a, inv))
        rows["invoice_lines"].extend(
            (
                f"il_{inv.id[4:]}{pos:02d}",
                inv.id,
                a.id,
                a.currency,
                pos,
                ln.kind,
                ln.description,
                ln.quantity,
                ln.unit_amount,
                ln.amount,
                ln.period_start,
                ln.period_end,
                ln.meter_id,
            )
            for pos, ln in enumerate(inv.lines, start=1)
        )
    rows["entitlement_grants"].extend(a.grants)
    for s in a.usage:
        for n, (at, qty) in enumerate(zip(s.times, s.quantities, strict=True)):
            key = f"seed:{s.meter.key}:{n:05d}"
            rows["usage_event_keys"].append((a.id, key, s.meter.id, qty, at))
            rows["usage_events"].append(
                (a.id, s.meter.id, qty, at, key, at + timedelta(seconds=1 + n % 59))
            )


def _subscription_row(a: AccountData, sub: Subscription) -> Row:
    as_of = max((t for s in a.usage for t in s.times[-1:]), default=sub.start)
    start, end = sub.period or _period_containing(sub, as_of)
    plan = sub.plan_at(end)
    return (
        sub.id,
        a.id,
        a.currency,
        plan.id,
        sub.status,
        sub.quantity,
        sub.billing_anchor,
        start,
        end,
        sub.cancel_at_period_end,
        sub.canceled_at,
        sub.trial_end,
        sub.start,
    )


def _period_containing(sub: Subscription, at: datetime) -> tuple[datetime, datetime]:
    k = sub.index_at(at)
    return sub.boundary(k), sub.boundary(k + 1)


def _invoice_row(a: AccountData, inv: Invoice) -> Row:
    t = invoice_totals([ln.amount for ln in inv.lines], a.tax_rate, a.currency, inv.amount_paid)
    return (
        inv.id,
        a.id,
        inv.subscription_id,
        inv.number,
        inv.status,
        a.currency,
        a.tax_rate,
        inv.period_start,
        inv.period_end,
        inv.issued_at,
        inv.due_at,
        inv.paid_at,
        t.subtotal,
        t.tax,
        t.total,
        t.amount_paid,
        inv.created_at,
    )


# ---------------------------------------------------------------------------- database


@dataclass
class SeedSummary:
    account_ids: list[str]
    partner_ids: list[str]
    counts: dict[str, int]  # rows per table


async def is_empty(conn: asyncpg.Connection[asyncpg.Record]) -> bool:
    """True when the database holds no accounts (the demo data may be seeded)."""
    return bool(await conn.fetchval("SELECT NOT EXISTS (SELECT 1 FROM accounts)"))


async def seed(
    conn: asyncpg.Connection[asyncpg.Record],
    *,
    accounts: int = 50,
    seed: int = 1,
    as_of: datetime | None = None,
) -> SeedSummary:
    """Fill an empty, migrated database with the demo data, in one transaction.

    `as_of` (default: today 00:00 UTC) is "now" for the data: live periods contain it and
    the 90 days of usage end at it.
    """
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    when = (
        _utc(as_of)
        if as_of is not None
        else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    data = build_seed_data(accounts=accounts, seed=seed, as_of=when)
    async with conn.transaction():
        if not await is_empty(conn):
            raise RuntimeError("the database already holds accounts; seed only an empty one")
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
