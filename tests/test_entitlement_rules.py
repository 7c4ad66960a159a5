"""Pure entitlement rules: combining plan values, grants, remaining quota (docs/billing.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.entitlements import Grant, PlanValue, combine, effective, remaining

PRO = PlanValue(enabled=True, limit=Decimal(20))
EXTRA_RULES = PlanValue(enabled=True, limit=Decimal(10))
NEW_YEAR = datetime(2027, 1, 1, tzinfo=UTC)
GRANT_100 = Grant(enabled=True, limit=Decimal(100), expires_at=NEW_YEAR)


def test_domain_limit_sum_of_plan_and_add_on() -> None:
    assert combine("LIMIT", [PRO, EXTRA_RULES]) == PlanValue(enabled=True, limit=Decimal(30))


def test_domain_grant_replaces_plan_value_until_it_expires() -> None:
    before = NEW_YEAR - timedelta(seconds=1)
    assert effective("LIMIT", [PRO, EXTRA_RULES], [GRANT_100], before) == (
        PlanValue(enabled=True, limit=Decimal(100)),
        "GRANT",
    )
    # Expiry is exclusive: at 2027-01-01T00:00Z the plans apply again.
    for now in (NEW_YEAR, NEW_YEAR + timedelta(days=1)):
        assert effective("LIMIT", [PRO, EXTRA_RULES], [GRANT_100], now) == (
            PlanValue(enabled=True, limit=Decimal(30)),
            "PLAN",
        )


def test_boolean_is_any_true() -> None:
    on, off = PlanValue(True, None), PlanValue(False, None)
    assert combine("BOOLEAN", [off, on]) == PlanValue(True, None)
    assert combine("BOOLEAN", [off, off]) == PlanValue(False, None)


@pytest.mark.parametrize("kind", ["LIMIT", "QUOTA"])
def test_unlimited_wins_over_any_number(kind: str) -> None:
    assert combine(kind, [PRO, PlanValue(True, None), EXTRA_RULES]) == PlanValue(True, None)


def test_disabled_values_add_nothing() -> None:
    assert combine("QUOTA", [PRO, PlanValue(False, None)]) == PRO
    assert combine("QUOTA", [PlanValue(False, Decimal(5))]) == PlanValue(False, Decimal(0))


def test_no_values_means_no_entitlement() -> None:
    assert combine("LIMIT", []) is None
    assert effective("LIMIT", [], [], NEW_YEAR) is None


def test_grant_without_plan_and_never_expiring_grant() -> None:
    forever = Grant(enabled=True, limit=None, expires_at=None)
    assert effective("QUOTA", [], [forever], NEW_YEAR + timedelta(days=9999)) == (
        PlanValue(True, None),
        "GRANT",
    )


def test_latest_unexpired_grant_wins() -> None:
    expired = Grant(True, Decimal(500), NEW_YEAR - timedelta(days=1))
    older = Grant(True, Decimal(50), None)
    newer = Grant(False, None, NEW_YEAR + timedelta(days=1))
    assert effective("BOOLEAN", [PRO], [older, newer, expired], NEW_YEAR) == (
        PlanValue(False, None),
        "GRANT",
    )
    assert effective("LIMIT", [PRO], [older, expired], NEW_YEAR) == (
        PlanValue(True, Decimal(50)),
        "GRANT",
    )


def test_unknown_kind_and_naive_now() -> None:
    with pytest.raises(ValueError, match="kind"):
        combine("METERED", [PRO])
    with pytest.raises(ValueError, match="kind"):
        effective("METERED", [PRO], [GRANT_100], NEW_YEAR)
    with pytest.raises(ValueError, match="timezone-aware"):
        effective("LIMIT", [PRO], [], datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose


@pytest.mark.parametrize(
    ("limit", "used", "expected"),
    [
        (Decimal(30), Decimal(12), Decimal(18)),
        (Decimal(30), Decimal(30), Decimal(0)),
        (Decimal(30), Decimal(45), Decimal(0)),
        (Decimal("1.5"), Decimal("0.25"), Decimal("1.25")),
        (None, Decimal(10**9), None),
    ],
)
def test_remaining(limit: Decimal | None, used: Decimal, expected: Decimal | None) -> None:
    assert remaining(limit, used) == expected


# --- properties --------------------------------------------------------------------------

LIMITS = st.integers(0, 10**15).map(Decimal)
PLAN_VALUES = st.builds(PlanValue, st.booleans(), st.none() | LIMITS)


@given(st.lists(PLAN_VALUES, min_size=1, max_size=8), st.sampled_from(["LIMIT", "QUOTA"]))
def test_limit_combination(values: list[PlanValue], kind: str) -> None:
    combined = combine(kind, values)
    assert combined is not None
    assert combine(kind, values[::-1]) == combined  # order does not matter
    enabled = [v for v in values if v.enabled]
    assert combined.enabled == bool(enabled)
    if any(v.limit is None for v in enabled):
        assert combined.limit is None
    else:
        assert combined.limit == sum((v.limit or Decimal(0) for v in enabled), Decimal(0))


@given(st.lists(PLAN_VALUES, min_size=1, max_size=8))
def test_boolean_combination(values: list[PlanValue]) -> None:
    combined = combine("BOOLEAN", values)
    assert combined is not None
    assert combined.enabled == any(v.enabled for v in values)


@given(st.none() | LIMITS, LIMITS)
def test_remaining_properties(limit: Decimal | None, used: Decimal) -> None:
    left = remaining(limit, used)
    if limit is None:
        assert left is None
    else:
        assert left is not None
        assert left >= 0
        assert left == (limit - used if used <= limit else 0)
