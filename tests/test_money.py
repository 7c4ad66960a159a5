"""Money rounding, invoice totals and the Decimal scalar's parsing rules (docs/money.md)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.money import (
    InvalidDecimal,
    Totals,
    exact_product,
    exact_sum,
    format_decimal,
    invoice_totals,
    minor_unit,
    parse_decimal,
    round_money,
    round_rational,
)

CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "BHD", "GBP", "KWD", "KRW"])
# Exact decimals with up to 12 fraction digits, as the scalar allows.
AMOUNTS = st.builds(
    lambda n, places: Decimal(n).scaleb(-places),
    st.integers(-(10**20), 10**20),
    st.integers(0, 12),
)
CENTS = st.integers(-(10**12), 10**12).map(lambda n: Decimal(n).scaleb(-2))


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("CHF", 2),
        ("SEK", 2),
        ("INR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
    ],
)
def test_minor_units(currency: str, digits: int) -> None:
    assert minor_unit(currency) == digits


@pytest.mark.parametrize("code", ["XXX", "usd", "", "US"])
def test_unknown_currency_is_an_error(code: str) -> None:
    with pytest.raises(ValueError, match="unknown currency"):
        minor_unit(code)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("4.6913578", "USD", "4.69"),  # docs/money.md tier 2 line
        ("12.0000000", "USD", "12.00"),  # docs/money.md tier 1 line
        ("2.675", "USD", "2.68"),  # tie → even (8)
        ("2.665", "USD", "2.66"),  # tie → even (6)
        ("0.125", "EUR", "0.12"),
        ("0.135", "EUR", "0.14"),
        ("-0.125", "EUR", "-0.12"),
        ("2.5", "JPY", "2"),
        ("3.5", "JPY", "4"),
        ("1.0005", "BHD", "1.000"),
        ("1.0015", "BHD", "1.002"),
        ("7", "USD", "7.00"),
    ],
)
def test_round_money_vectors(amount: str, currency: str, expected: str) -> None:
    result = round_money(Decimal(amount), currency)
    assert str(result) == expected


def test_round_money_never_shows_negative_zero() -> None:
    assert str(round_money(Decimal("-0.001"), "USD")) == "0.00"


def test_round_money_keeps_more_than_28_digits() -> None:
    # The default context would silently round a 30-digit value.
    assert round_money(Decimal("123456789012345678.123456789015"), "USD") == Decimal(
        "123456789012345678.12"
    )


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_round_money_rejects_non_finite(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="finite"):
        round_money(bad, "USD")


def test_exact_helpers_keep_every_digit() -> None:
    big = Decimal("999999999999999999.999999999999")
    assert exact_product(big, Decimal("0.000000000001")) == Decimal(
        "999999.999999999999999999999999"
    )
    assert exact_sum([big, Decimal("0.000000000001")]) == Decimal("1000000000000000000")


def test_domain_usage_subtotal() -> None:
    totals = invoice_totals([Decimal("12.00"), Decimal("4.69")], Decimal(0), "USD")
    assert totals == Totals(
        subtotal=Decimal("16.69"),
        tax=Decimal("0.00"),
        total=Decimal("16.69"),
        amount_paid=Decimal("0.00"),
        amount_due=Decimal("16.69"),
    )


def test_domain_plan_change_net_totals() -> None:
    # docs/money.md: credit -13.79 + charge 137.91 = 124.12 billed now.
    totals = invoice_totals([Decimal("-13.79"), Decimal("137.91")], Decimal(0), "USD")
    assert totals.total == Decimal("124.12")


def test_tax_is_rounded_once_on_the_subtotal() -> None:
    # Per line, 0.30 * 5% = 0.015 → 0.02 three times = 0.06; on the subtotal it is
    # 0.90 * 5% = 0.045 → 0.04 (half-even), rounded exactly once.
    thirty = Decimal("0.30")
    totals = invoice_totals([thirty, thirty, thirty], Decimal("0.05"), "USD")
    assert totals.tax == Decimal("0.04")
    totals = invoice_totals([Decimal("10.10")], Decimal("0.0825"), "USD", Decimal("5.00"))
    assert (totals.subtotal, totals.tax, totals.total) == (
        Decimal("10.10"),
        Decimal("0.83"),
        Decimal("10.93"),
    )
    assert totals.amount_due == Decimal("5.93")


def test_empty_invoice_has_zero_totals_at_minor_scale() -> None:
    totals = invoice_totals([], Decimal("0.2"), "JPY")
    assert [str(v) for v in (totals.subtotal, totals.tax, totals.total)] == ["0", "0", "0"]


def test_overpayment_gives_negative_amount_due() -> None:
    totals = invoice_totals([Decimal("10.00")], Decimal(0), "USD", Decimal("12.00"))
    assert totals.amount_due == Decimal("-2.00")


@pytest.mark.parametrize(
    ("lines", "rate", "paid"),
    [
        ([Decimal("1.005")], Decimal(0), Decimal(0)),
        ([Decimal("1.00")], Decimal("-0.1"), Decimal(0)),
        ([Decimal("1.00")], Decimal("NaN"), Decimal(0)),
        ([Decimal("1.00")], Decimal(0), Decimal("0.001")),
    ],
)
def test_invoice_totals_rejects_bad_inputs(
    lines: list[Decimal], rate: Decimal, paid: Decimal
) -> None:
    with pytest.raises(ValueError, match=r"rounded|tax rate"):
        invoice_totals(lines, rate, "USD", paid)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.50", "1234.50"),
        ("-3", "-3"),
        ("0.0000003", "0.0000003"),
        ("1E-7", "0.0000001"),
        ("1e-7", "0.0000001"),
        ("1E+3", "1000"),
        ("12.00", "12.00"),
        ("-0", "0"),
        ("-0.00", "0.00"),
        ("999999999999999999.999999999999", "999999999999999999.999999999999"),
        ("0001.5", "1.5"),
    ],
)
def test_parse_decimal_accepts(text: str, expected: str) -> None:
    assert format_decimal(parse_decimal(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "finite"),
        ("nan", "finite"),
        ("sNaN", "finite"),
        ("-sNaN123", "finite"),
        ("Infinity", "finite"),
        ("-Infinity", "finite"),
        ("inf", "finite"),
        ("", "not a valid decimal"),
        ("abc", "not a valid decimal"),
        ("1_000", "not a valid decimal"),
        (" 1", "not a valid decimal"),
        ("1 ", "not a valid decimal"),
        ("1.", "not a valid decimal"),
        (".5", "not a valid decimal"),
        ("1,5", "not a valid decimal"),
        ("0x10", "not a valid decimal"),
        ("١٢", "not a valid decimal"),  # Arabic-Indic digits Decimal() would accept
        ("1" * 200, "not a valid decimal"),
        ("1E999999999999999999", "out of range"),
        ("1E-999999999999999999", "out of range"),
        ("1234567890123456789", "18 integer digits"),
        ("1E+18", "18 integer digits"),
        ("0.0000000000001", "12 decimal places"),
        ("1E-13", "12 decimal places"),
    ],
)
def test_parse_decimal_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidDecimal, match=message) as caught:
        parse_decimal(text)
    # The message goes to API users: no Python internals.
    assert "decimal." not in str(caught.value)
    assert "Invalid" not in str(caught.value)


def test_parse_decimal_negative_switch_and_custom_limits() -> None:
    with pytest.raises(InvalidDecimal, match="must not be negative"):
        parse_decimal("-0.01", allow_negative=False)
    assert parse_decimal("-0", allow_negative=False) == 0
    assert parse_decimal("99.99", max_integer_digits=2, max_fraction_digits=2) == Decimal("99.99")
    with pytest.raises(InvalidDecimal, match="2 integer digits"):
        parse_decimal("100", max_integer_digits=2)
    with pytest.raises(InvalidDecimal, match="2 decimal places"):
        parse_decimal("1.001", max_fraction_digits=2)


def test_invalid_decimal_is_a_value_error() -> None:
    assert issubclass(InvalidDecimal, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("3E-7"), "0.0000003"),
        (Decimal("12.00"), "12.00"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-4.5"), "-4.5"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("0E-12"), "0.000000000000"),
    ],
)
def test_format_decimal_is_plain(value: Decimal, expected: str) -> None:
    assert format_decimal(value) == expected


def test_format_decimal_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        format_decimal(Decimal("NaN"))


# --- properties -------------------------------------------------------------------------


@given(AMOUNTS, CURRENCIES)
def test_rounding_is_idempotent_and_within_half_a_unit(amount: Decimal, currency: str) -> None:
    once = round_money(amount, currency)
    assert round_money(once, currency) == once
    assert once.as_tuple().exponent == -minor_unit(currency)
    half_unit = Fraction(1, 2 * 10 ** minor_unit(currency))
    assert abs(Fraction(once) - Fraction(amount)) <= half_unit


@given(st.integers(-(10**15), 10**15), CURRENCIES)
def test_ties_round_to_even(n: int, currency: str) -> None:
    digits = minor_unit(currency)
    tie = (Decimal(n) + Decimal("0.5")).scaleb(-digits)  # exactly halfway between n and n+1
    result = round_money(tie, currency).scaleb(digits)
    assert result in (n, n + 1)
    assert result % 2 == 0


@given(AMOUNTS, CURRENCIES)
def test_round_rational_agrees_with_round_money(amount: Decimal, currency: str) -> None:
    assert round_rational(Fraction(amount), currency) == round_money(amount, currency)


@given(st.lists(CENTS, max_size=20), st.decimals("0", "0.5", places=4), CENTS)
def test_totals_identities(lines: list[Decimal], rate: Decimal, paid: Decimal) -> None:
    totals = invoice_totals(lines, rate, "USD", paid)
    assert totals.subtotal == sum(lines, Decimal(0))
    assert totals.tax == round_money(totals.subtotal * rate, "USD")
    assert totals.total == totals.subtotal + totals.tax
    assert totals.amount_paid == paid
    assert totals.amount_due == totals.total - paid
    for value in (totals.subtotal, totals.tax, totals.total, totals.amount_due):
        assert round_money(value, "USD") == value


@given(st.lists(CENTS, max_size=10), st.decimals("0", "0.5", places=4))
def test_totals_ignore_line_order(lines: list[Decimal], rate: Decimal) -> None:
    assert invoice_totals(lines, rate, "USD") == invoice_totals(lines[::-1], rate, "USD")


@given(
    st.builds(
        lambda n, places: Decimal(n).scaleb(-places),
        st.integers(-(10**29) + 1, 10**29 - 1),
        st.integers(0, 12),
    ).filter(lambda d: d.adjusted() < 18)
)
def test_parse_format_round_trip(value: Decimal) -> None:
    text = format_decimal(value)
    assert "E" not in text
    parsed = parse_decimal(text)
    assert parsed == value
    assert format_decimal(parsed) == text


@given(st.text(max_size=30))
def test_parse_decimal_never_leaks_other_errors(text: str) -> None:
    try:
        value = parse_decimal(text)
    except InvalidDecimal:
        return
    assert value.is_finite()
    assert format_decimal(value).lstrip("-").replace(".", "").isdigit()
