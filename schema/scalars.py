"""Decimal and DateTime as the contract defines them (§3).

strawberry's own Decimal accepts NaN, Infinity and 1E+100000 (PITFALLS.md), so
money and quantities go through resolvers.money's strict parser instead."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime
from typing import Final

import strawberry
from strawberry.types.scalar import ScalarDefinition

from resolvers.errors import BadUserInput
from resolvers.money import InvalidDecimal, format_decimal, parse_decimal
from resolvers.periods import iso


def parse_decimal_value(value: object) -> decimal.Decimal:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadUserInput('Decimal values are strings such as "12.50".')
    try:
        return parse_decimal(str(value))
    except InvalidDecimal as exc:
        raise BadUserInput(str(exc)) from None


def serialize_datetime(value: datetime) -> str:
    return iso(value)


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise BadUserInput("DateTime values are RFC 3339 strings.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadUserInput(f"{value!r} is not an RFC 3339 date-time.") from None
    if parsed.tzinfo is None:
        raise BadUserInput("DateTime values need a time zone offset, e.g. 2026-11-01T00:00:00Z.")
    return parsed.astimezone(UTC)


DECIMAL: Final = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number as a string ("1234.50"); never a float.',
    serialize=format_decimal,
    parse_value=parse_decimal_value,
)
DATETIME: Final = strawberry.scalar(
    name="DateTime",
    description="An RFC 3339 date-time in UTC (2026-11-01T00:00:00Z).",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
SCALARS: Final[dict[object, ScalarDefinition]] = {decimal.Decimal: DECIMAL, datetime: DATETIME}
