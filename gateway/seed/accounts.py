"""Partners and accounts: an account's identity, scenario and size drawn from its own
RNG (so account N does not depend on how many accounts follow it), its name and grants."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from gateway.seed.catalog import Catalog
from gateway.seed.clock import midnight
from gateway.seed.ids import make_id, scope_key, scoped_rng
from gateway.seed.invoices import Invoice
from gateway.seed.subscriptions import Subscription
from gateway.seed.tables import Row
from gateway.seed.usage import USAGE_DAYS, MeterSeries, UsageProfile

PARTNER_NAMES: Final = (
    "Northwind Cloud Partners",
    "Globex Managed Services",
    "Initech Resellers",
    "Umbrella Digital",
)
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


def partner_ids(seed: int) -> list[str]:
    rng = scoped_rng(seed, "partners")
    return [make_id(rng, "ptr") for _ in PARTNER_NAMES]


class Account:
    """One account being built: its identity, drawn in a fixed order from its own RNG,
    which everything the account owns keeps drawing from."""

    def __init__(
        self,
        seed: int,
        index: int,
        catalog: Catalog,
        as_of: datetime,
        partners: Sequence[str],
        usage_days: int = USAGE_DAYS,
    ) -> None:
        self.key = scope_key(seed, "account", index)
        self.usage_days = usage_days  # raw events cover [as_of - usage_days, as_of)
        self.rng = rng = random.Random(self.key)
        self.index, self.catalog, self.as_of, self.day0 = index, catalog, as_of, midnight(as_of)
        self.id = make_id(rng, "acct")
        self.currency = "USD" if index == 0 or rng.randrange(100) < 78 else "EUR"
        rate = "0.0825" if index == 0 else rng.choice(TAX_RATES[self.currency])
        self.tax_rate = Decimal(rate)
        self.partner_id = self._partner(partners)
        self.scenario = (
            FIXED_SCENARIOS[index] if index < len(FIXED_SCENARIOS) else rng.choice(RANDOM_SCENARIOS)
        )
        self.size = "large" if index == 0 else rng.choice(("small", "medium", "medium", "large"))
        self.profile = self._profile()

    def _partner(self, partners: Sequence[str]) -> str | None:
        """The first accounts belong to one partner each; 30 % of the others to a random one."""
        if self.index < len(partners):
            return partners[self.index]
        return self.rng.choice(partners) if self.rng.randrange(100) < 30 else None

    def _profile(self) -> UsageProfile:
        if self.index == 0:
            return UsageProfile(100_000, 4_000_000, 40_000_000, True)
        rate, bandwidth, storage = SIZES[self.size]
        r = self.rng
        return UsageProfile(
            r.randint(*rate), r.randint(*bandwidth), r.randint(*storage), r.randrange(100) < 70
        )


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


def account_name(rng: random.Random, index: int, currency: str, used: set[str]) -> str:
    name = "Acme Analytics"
    if index:
        suffix = rng.choice(("", " Inc.", " Ltd") if currency == "USD" else ("", " GmbH", " SAS"))
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}{suffix}"
    if name in used:
        name = f"{name} #{index}"
    used.add(name)
    return name


def account_created_at(a: Account, subs: Sequence[Subscription]) -> datetime:
    # The demo token names the oldest account (gateway.app.DEMO_ACCOUNT): account 0.
    if a.index == 0:
        return a.day0 - timedelta(days=3 * 365)
    return subs[0].start - timedelta(days=a.rng.randint(0, 20))


def grants(a: Account) -> list[Row]:
    """Entitlement grants: docs/billing.md's example on account 0, one in four others get one."""
    if a.index == 0:
        return _demo_grants(a)
    rng, feats, day0 = a.rng, a.catalog.features, a.day0
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
    return [(make_id(rng, "grt"), a.id, feats[key][0], True, limit, expires, created)]


def _demo_grants(a: Account) -> list[Row]:
    """docs/billing.md's example: 100 custom rules until a date, then 30; and an expired SSO
    grant."""
    feats = a.catalog.features
    rules, sso = feats["waf.custom_rules"][0], feats["sso"][0]

    def ago(days: int) -> datetime:
        return a.day0 - timedelta(days=days)

    return [
        (make_id(a.rng, "grt"), a.id, rules, True, Decimal(100), ago(-47), ago(20)),
        (make_id(a.rng, "grt"), a.id, sso, True, None, ago(10), ago(40)),
    ]
