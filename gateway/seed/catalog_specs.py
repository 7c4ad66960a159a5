"""The catalog as declared: meters, features and plan families with prices by currency.

Ids are drawn when the catalog is built (`catalog.build_catalog`), not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final


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
_BUSINESS_ENTITLEMENTS: Final[Mapping[str, Ent]] = {
    "sso": (True, None),
    "audit_logs": (True, None),
    "support.priority": (True, None),
    "waf.custom_rules": (True, 100),
    "team.seats": (True, None),
    "requests.monthly": (True, None),
    "bandwidth.monthly": (True, None),
    "storage.peak": (True, 5_000),
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
        entitlements=_BUSINESS_ENTITLEMENTS,
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
    # Last, so that adding it drew no id any other plan had before.
    PlanSpec(
        "business_yearly",
        "Business (annual)",
        "BASE",
        "YEAR",
        _usd_eur("2000.00", "1900.00"),
        entitlements=_BUSINESS_ENTITLEMENTS,
    ),
)
