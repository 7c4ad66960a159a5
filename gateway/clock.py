"""The one clock billing time is read from.

Billing depends on the time: which period is current, what the upcoming invoice
holds, when a trial ends. Every part of the gateway that needs "now" for billing (the
app, the billing engine, the seed, the CLI) is handed a `Clock` and reads it here, so a
test or a demo can pin time and run the whole system at any instant. Reading the
system clock anywhere else is refused by ruff (TID251, see pyproject.toml).

Token lifetimes are not billing time: pyjwt checks `exp` against the system clock,
so `auth` keeps wall-clock time for tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a clock's instant must be timezone-aware")
    return at.astimezone(UTC)


class SystemClock:
    """Real time: production."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """Time stands still until moved: tests pin it and step it by hand."""

    def __init__(self, at: datetime) -> None:
        self._at = _utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _utc(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class ShiftedClock:
    """Starts at a pinned instant and runs on in real time (`BILLING_NOW`): a demo or
    a test process can live at any date while periods still end and trials still run
    out as it goes."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._start = _utc(start)
        self._monotonic = monotonic
        self._origin = monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._origin)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant with an offset (`2027-01-01T00:00:00Z`), as UTC."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time") from None
    if at.tzinfo is None:
        raise ValueError(f"{text!r} needs a UTC offset, e.g. 2027-01-01T00:00:00Z")
    return at.astimezone(UTC)
