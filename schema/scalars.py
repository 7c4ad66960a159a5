"""Decimal and DateTime, as docs/money.md and docs/ids.md describe them.

strawberry's own Decimal accepts NaN, Infinity and 1E+100000, so money and quantities
go through resolvers.money's strict parser instead. DateTime takes RFC 3339's
date-time production only (no ISO 8601 week dates, basic format or missing offsets),
within years 1970–9999 once converted to UTC."""

from __future__ import annotations

import decimal
import re
from datetime import UTC, datetime
from typing import Final

import strawberry
from strawberry.types.scalar import ScalarDefinition

from resolvers.errors import BadUserInput
from resolvers.money import InvalidDecimal, format_decimal, parse_decimal
from resolvers.periods import iso

# RFC 3339 §5.6 date-time, seconds' fraction to the microsecond that PostgreSQL keeps.
RFC_3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
DATETIME_SHAPE: Final = (
    "DateTime values are RFC 3339 date-times with an offset, e.g. 2026-11-01T00:00:00Z"
)


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
    if not isinstance(value, str) or not RFC_3339.fullmatch(value):
        raise BadUserInput(f"{DATETIME_SHAPE}.")
    try:
        local = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise BadUserInput(f"{value!r} is not a valid date-time.") from None
    out_of_range = BadUserInput(f"{value!r} is outside years 1970–9999 in UTC.")
    try:
        parsed = local.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise out_of_range from None
    if not EARLIEST <= parsed <= LATEST:
        raise out_of_range
    return parsed


DECIMAL: Final = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number as a string ("1234.50"), never a float: at most 18'
    " integer and 12 fraction digits; NaN and Infinity are refused.",
    specified_by_url="https://speleotrove.com/decimal/daconvs.html",
    serialize=format_decimal,
    parse_value=parse_decimal_value,
)
DATETIME: Final = strawberry.scalar(
    name="DateTime",
    description="An instant as an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z. Inputs need"
    " an offset and fall within years 1970–9999 in UTC; outputs are always UTC with a Z.",
    specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339#section-5.6",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)
SCALARS: Final[dict[object, ScalarDefinition]] = {decimal.Decimal: DECIMAL, datetime: DATETIME}
