"""Time helpers: every time in the data set is derived from an aware UTC `as_of`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

HOUR: Final = timedelta(hours=1)


def midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def as_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    return at.astimezone(UTC)
