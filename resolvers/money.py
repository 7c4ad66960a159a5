"""Money arithmetic: exact decimals, one half-even rounding per line (docs/money.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from typing import Final

from resolvers.currencies import MINOR_UNITS

# Additions and multiplications of finite decimals are exact at MAX_PREC; trapping
# Inexact turns any accidental rounding (or a division slipping in) into an error
# instead of a silently wrong cent.
_EXACT: Final = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)
# Quantize must be allowed to round (it signals Inexact), but never to lose
# integer digits to a too-small precision, so it gets the same range without the trap.
_ROUNDING: Final = Context(
    prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Overflow]
)


def minor_unit(currency: str) -> int:
    """Digits after the point for `currency` (resolvers.currencies); unknown codes are an
    error, not a guess (the database refuses them on write)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"unknown currency code {currency!r}") from None


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Sum without the default 28-digit context rounding the running total."""
    total = Decimal(0)
    for value in values:
        total = _EXACT.add(total, value)
    return total


def exact_difference(a: Decimal, b: Decimal) -> Decimal:
    """a - b exactly (30-digit quantities would be rounded by the default context)."""
    return _EXACT.subtract(a, b)


def exact_product(a: Decimal, b: Decimal) -> Decimal:
    """a * b with every digit kept (a unit price can carry 12 fraction digits)."""
    return _EXACT.multiply(a, b)


def _positive_zero(value: Decimal) -> Decimal:
    # A credit of nothing should read "0.00", not "-0.00".
    return value.copy_abs() if value.is_zero() else value


# Each currency's minor unit as a quantum (USD: 0.01): made once, not per amount.
_QUANTA: Final = {code: Decimal(1).scaleb(-digits) for code, digits in MINOR_UNITS.items()}


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Quantize to the currency's minor unit, half-even, exactly once."""
    if not amount.is_finite():
        raise ValueError("amount must be a finite number")
    # An unknown code finds no quantum, and minor_unit raises its error.
    quantum = _QUANTA.get(currency) or Decimal(1).scaleb(-minor_unit(currency))
    return _positive_zero(amount.quantize(quantum, ROUND_HALF_EVEN, context=_ROUNDING))


def round_rational(value: Fraction, currency: str) -> Decimal:
    """Round an exact rational half-even to the minor unit using integer arithmetic only."""
    digits = minor_unit(currency)
    scaled = value * 10**digits
    # Floor division keeps the remainder in [0, den), so the tie test is symmetric
    # for negatives: -2.5 floors to -3 (odd), the tie moves it to -2.
    quotient, remainder = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * remainder
    if twice > scaled.denominator or (twice == scaled.denominator and quotient % 2 == 1):
        quotient += 1
    return _positive_zero(Decimal(quotient).scaleb(-digits, context=_EXACT))


def is_rounded(amount: Decimal, currency: str) -> bool:
    """True when `amount` already sits on the minor unit (no digits would be lost)."""
    return amount.is_finite() and round_money(amount, currency) == amount


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal


def invoice_totals(
    line_amounts: Iterable[Decimal],
    tax_rate: Decimal,
    currency: str,
    amount_paid: Decimal = Decimal(0),
) -> Totals:
    """Subtotal of rounded lines, tax rounded once, total and amount due (may be < 0)."""
    lines = list(line_amounts)
    if not all(is_rounded(line, currency) for line in lines):
        raise ValueError("invoice lines must already be rounded to the minor unit")
    if not tax_rate.is_finite() or tax_rate < 0:
        raise ValueError("tax rate must be a finite, non-negative number")
    if not is_rounded(amount_paid, currency):
        raise ValueError("amount paid must be rounded to the minor unit")
    # Quantizing an already-rounded sum is exact; it only fixes the scale ("0" → "0.00").
    subtotal = round_money(exact_sum(lines), currency)
    tax = round_money(exact_product(subtotal, tax_rate), currency)
    total = round_money(_EXACT.add(subtotal, tax), currency)
    paid = round_money(amount_paid, currency)
    due = round_money(exact_difference(total, paid), currency)
    return Totals(subtotal=subtotal, tax=tax, total=total, amount_paid=paid, amount_due=due)


class InvalidDecimal(ValueError):
    """A user-supplied decimal the gateway refuses; the message is safe to show."""


# ASCII digits only: Decimal() would also take "1_000", " 1 " and non-Latin digits.
_DECIMAL_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
_NON_FINITE_RE: Final = re.compile(r"[+-]?(?:s?nan[0-9]*|inf|infinity)", re.IGNORECASE)
_MAX_TEXT_LENGTH: Final = 100


def _check_shape(text: str) -> None:
    if _NON_FINITE_RE.fullmatch(text.strip()):
        raise InvalidDecimal(
            "Decimal value must be a finite number (NaN and Infinity are not allowed)"
        )
    if len(text) > _MAX_TEXT_LENGTH or not _DECIMAL_RE.fullmatch(text):
        raise InvalidDecimal(f'{text[:40]!r} is not a valid decimal number (expected e.g. "12.34")')


def _integer_digits(value: Decimal) -> int:
    # adjusted() is the exponent of the leading digit; 0.x has no integer digits.
    return 0 if value.is_zero() or value.adjusted() < 0 else value.adjusted() + 1


def parse_decimal(
    text: str,
    *,
    max_integer_digits: int = 18,
    max_fraction_digits: int = 12,
    allow_negative: bool = True,
) -> Decimal:
    """Parse a GraphQL Decimal scalar, refusing anything the numeric column cannot hold."""
    _check_shape(text)
    exponent = text.lower().partition("e")[2]
    # Reject absurd exponents before Decimal builds a huge value from them.
    if (
        exponent
        and abs(int(exponent)) > max_integer_digits + max_fraction_digits + _MAX_TEXT_LENGTH
    ):
        raise InvalidDecimal("Decimal value is out of range")
    value = Decimal(text)
    exp = int(value.as_tuple().exponent)
    if exp > 0:
        value = value.quantize(Decimal(1), context=_EXACT)  # "1E+3" → "1000"
    value = _positive_zero(value)  # "-0" is zero, not a negative quantity
    if _integer_digits(value) > max_integer_digits:
        raise InvalidDecimal(f"Decimal value has more than {max_integer_digits} integer digits")
    if -exp > max_fraction_digits:
        raise InvalidDecimal(f"Decimal value has more than {max_fraction_digits} decimal places")
    if value < 0 and not allow_negative:
        raise InvalidDecimal("Decimal value must not be negative")
    return value


def format_decimal(d: Decimal) -> str:
    """Plain notation keeping the value's own scale: 3E-7 → "0.0000003", 12.00 → "12.00"."""
    if not d.is_finite():
        raise ValueError("cannot format a non-finite decimal")
    return format(_positive_zero(d), "f")
