"""Graduated usage pricing and recurring amounts (docs/money.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from resolvers.money import round_money
from resolvers.pricing import Tier, TierLine, graduated_lines, recurring_amount

REQUESTS_TIERS = [
    Tier(up_to=Decimal(50_000_000), unit_amount=Decimal("0.0000003")),
    Tier(up_to=None, unit_amount=Decimal("0.0000002")),
]


def test_domain_example_requests_meter() -> None:
    lines = graduated_lines(Decimal(73_456_789), Decimal(10_000_000), REQUESTS_TIERS, "USD")
    assert lines == [
        TierLine(0, Decimal(40_000_000), Decimal("0.0000003"), Decimal("12.00")),
        TierLine(1, Decimal(23_456_789), Decimal("0.0000002"), Decimal("4.69")),
    ]
    assert sum(line.amount for line in lines) == Decimal("16.69")
    assert [str(line.amount) for line in lines] == ["12.00", "4.69"]


@pytest.mark.parametrize("usage", [0, 1, 9_999_999, 10_000_000])
def test_included_quantity_produces_no_line(usage: int) -> None:
    assert graduated_lines(Decimal(usage), Decimal(10_000_000), REQUESTS_TIERS, "USD") == []


def test_usage_inside_first_tier_touches_one_tier() -> None:
    lines = graduated_lines(Decimal(10_000_001), Decimal(10_000_000), REQUESTS_TIERS, "USD")
    assert lines == [TierLine(0, Decimal(1), Decimal("0.0000003"), Decimal("0.00"))]


def test_usage_exactly_at_bound_stays_in_lower_tier() -> None:
    lines = graduated_lines(Decimal(50_000_000), Decimal(10_000_000), REQUESTS_TIERS, "USD")
    assert [(line.tier, line.quantity) for line in lines] == [(0, Decimal(40_000_000))]
    lines = graduated_lines(Decimal(50_000_001), Decimal(10_000_000), REQUESTS_TIERS, "USD")
    assert [(line.tier, line.quantity) for line in lines] == [
        (0, Decimal(40_000_000)),
        (1, Decimal(1)),
    ]


def test_tier_bounds_below_included_only_count_above_it() -> None:
    tiers = [
        Tier(Decimal(5), Decimal("1.00")),
        Tier(Decimal(20), Decimal("0.50")),
        Tier(None, Decimal("0.25")),
    ]
    lines = graduated_lines(Decimal(30), Decimal(10), tiers, "USD")
    assert lines == [
        TierLine(1, Decimal(10), Decimal("0.50"), Decimal("5.00")),
        TierLine(2, Decimal(10), Decimal("0.25"), Decimal("2.50")),
    ]


def test_no_included_quantity_and_fractional_usage() -> None:
    tiers = [Tier(Decimal("1.5"), Decimal("2")), Tier(None, Decimal("1"))]
    lines = graduated_lines(Decimal("2.25"), Decimal(0), tiers, "EUR")
    assert [(line.quantity, line.amount) for line in lines] == [
        (Decimal("1.5"), Decimal("3.00")),
        (Decimal("0.75"), Decimal("0.75")),
    ]


def test_each_line_rounded_half_even_once() -> None:
    tiers = [Tier(Decimal(1), Decimal("0.125")), Tier(None, Decimal("0.135"))]
    lines = graduated_lines(Decimal(2), Decimal(0), tiers, "USD")
    assert [line.amount for line in lines] == [Decimal("0.12"), Decimal("0.14")]


@pytest.mark.parametrize(
    "tiers",
    [
        [],
        [Tier(Decimal(10), Decimal(1))],  # last tier bounded
        [Tier(None, Decimal(1)), Tier(None, Decimal(1))],
        [Tier(Decimal(10), Decimal(1)), Tier(Decimal(10), Decimal(1)), Tier(None, Decimal(1))],
        [Tier(Decimal(20), Decimal(1)), Tier(Decimal(10), Decimal(1)), Tier(None, Decimal(1))],
        [Tier(Decimal(0), Decimal(1)), Tier(None, Decimal(1))],
        [Tier(None, Decimal(-1))],
        [Tier(None, Decimal("NaN"))],
    ],
)
def test_invalid_tiers_are_rejected(tiers: list[Tier]) -> None:
    with pytest.raises(ValueError, match="tier"):
        graduated_lines(Decimal(1), Decimal(0), tiers, "USD")


@pytest.mark.parametrize(("usage", "included"), [("-1", "0"), ("1", "-1"), ("NaN", "0")])
def test_invalid_quantities_are_rejected(usage: str, included: str) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        graduated_lines(Decimal(usage), Decimal(included), REQUESTS_TIERS, "USD")


@pytest.mark.parametrize(
    ("price", "quantity", "currency", "expected"),
    [
        ("20.00", 1, "USD", "20.00"),
        ("19.99", 3, "USD", "59.97"),
        ("0.125", 1, "USD", "0.12"),
        ("0.0000003", 10_000_000, "USD", "3.00"),
        ("1500", 2, "JPY", "3000"),
        ("9.99", 0, "USD", "0.00"),
    ],
)
def test_recurring_amount(price: str, quantity: int, currency: str, expected: str) -> None:
    assert str(recurring_amount(Decimal(price), quantity, currency)) == expected


def test_recurring_amount_rejects_negative_quantity() -> None:
    with pytest.raises(ValueError, match="negative"):
        recurring_amount(Decimal(1), -1, "USD")


# --- properties -------------------------------------------------------------------------

QUANTITIES = st.builds(
    lambda n, places: Decimal(n).scaleb(-places), st.integers(0, 10**12), st.integers(0, 3)
)
UNIT_AMOUNTS = st.builds(
    lambda n, places: Decimal(n).scaleb(-places), st.integers(0, 10**6), st.integers(0, 12)
)


@st.composite
def tier_lists(draw: st.DrawFn) -> list[Tier]:
    bounds = sorted(draw(st.sets(st.integers(1, 10**12), max_size=5)))
    prices = draw(st.lists(UNIT_AMOUNTS, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    uppers: list[Decimal | None] = [Decimal(b) for b in bounds]
    return [Tier(up_to, price) for up_to, price in zip([*uppers, None], prices, strict=True)]


@given(QUANTITIES, QUANTITIES, tier_lists())
def test_line_quantities_sum_to_billable_usage(
    usage: Decimal, included: Decimal, tiers: list[Tier]
) -> None:
    lines = graduated_lines(usage, included, tiers, "USD")
    assert sum((line.quantity for line in lines), Decimal(0)) == max(usage - included, Decimal(0))
    assert all(line.quantity > 0 for line in lines)
    assert [line.tier for line in lines] == sorted({line.tier for line in lines})


@given(QUANTITIES, QUANTITIES, tier_lists(), st.sampled_from(["USD", "JPY", "BHD"]))
def test_each_line_is_its_rounded_product(
    usage: Decimal, included: Decimal, tiers: list[Tier], currency: str
) -> None:
    for line in graduated_lines(usage, included, tiers, currency):
        tier = tiers[line.tier]
        assert line.unit_amount == tier.unit_amount
        assert line.amount == round_money(line.quantity * line.unit_amount, currency)
        # The line's units lie inside the tier's absolute range.
        lower = Decimal(0) if line.tier == 0 else tiers[line.tier - 1].up_to
        assert lower is not None
        assert tier.up_to is None or line.quantity <= tier.up_to - lower


@given(QUANTITIES, QUANTITIES, QUANTITIES, tier_lists())
def test_total_is_monotone_in_usage(
    a: Decimal, b: Decimal, included: Decimal, tiers: list[Tier]
) -> None:
    assume(a != b)
    low, high = sorted((a, b))

    def total(usage: Decimal) -> Decimal:
        return sum(
            (line.amount for line in graduated_lines(usage, included, tiers, "USD")), Decimal(0)
        )

    assert total(low) <= total(high)


@given(QUANTITIES, tier_lists())
def test_more_included_never_costs_more(usage: Decimal, tiers: list[Tier]) -> None:
    def total(included: Decimal) -> Decimal:
        return sum(
            (line.amount for line in graduated_lines(usage, included, tiers, "USD")), Decimal(0)
        )

    assert total(usage / 2) <= total(Decimal(0))
    assert total(usage) == 0


@given(UNIT_AMOUNTS, st.integers(0, 10**6))
def test_recurring_amount_is_rounded_product(price: Decimal, quantity: int) -> None:
    assert recurring_amount(price, quantity, "USD") == round_money(price * quantity, "USD")
