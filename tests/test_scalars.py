"""The contract's Decimal and DateTime scalars: what they accept and refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.errors import BadUserInput
from schema.scalars import parse_datetime, parse_decimal_value, serialize_datetime


@pytest.mark.parametrize(
    "bad", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "1E+100000", "12.5.1", "", "1,5",
            "0.0000000000001", "1" * 19, 1.5, True, None],
)  # fmt: skip
def test_decimal_refuses_what_no_column_holds(bad: object) -> None:
    with pytest.raises(BadUserInput):
        parse_decimal_value(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1234.50", "1234.50"), ("0.0000003", "3E-7"), ("-3", "-3"), ("1E+3", "1000"), (7, "7")],
)
def test_decimal_accepts_exact_values(text: object, value: str) -> None:
    assert parse_decimal_value(text) == Decimal(value)


@given(st.decimals(min_value=-(10**17), max_value=10**17, places=6, allow_nan=False))
def test_decimal_round_trips_exactly(value: Decimal) -> None:
    from resolvers.money import format_decimal

    assert parse_decimal_value(format_decimal(value)) == value


def test_datetime_is_utc_with_z() -> None:
    assert parse_datetime("2026-11-01T01:00:00+01:00") == datetime(2026, 11, 1, tzinfo=UTC)
    assert serialize_datetime(datetime(2026, 11, 1, tzinfo=UTC)) == "2026-11-01T00:00:00Z"


@pytest.mark.parametrize("bad", ["2026-11-01T00:00:00", "yesterday", "", 1700000000])
def test_datetime_needs_an_offset(bad: object) -> None:
    with pytest.raises(BadUserInput):
        parse_datetime(bad)
