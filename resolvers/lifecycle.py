"""A subscription's state at an instant, whether or not the billing engine has run.

The stored row is what the engine (or a mutation) last wrote: status and the period
it opened. Between engine runs, periods end, trials run out and scheduled cancels
fall due, so every read derives the state at `now` from the row, its anchor and the
clock. The engine applies the same rule at each boundary it processes, and the SQL
function `subscription_status_at` (migration 0003) mirrors `status_at` for filters.

Periods are anchored on `billing_anchor` (a trial's anchor is its end): the n-th
boundary is the anchor plus n intervals, the anchor's day clamped to the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from resolvers.periods import period_containing, require_utc

LIVE: Final = frozenset({"TRIALING", "ACTIVE", "PAST_DUE"})


class Fields(Protocol):
    """A subscription row: a database record or a dict with its columns."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class State:
    status: str
    period_start: datetime
    period_end: datetime
    cancel_at_period_end: bool

    @property
    def live(self) -> bool:
        return self.status in LIVE


def status_at(status: str, cancel_at_period_end: bool, period_end: datetime, at: datetime) -> str:
    """The status once every boundary up to `at` is processed."""
    if status not in LIVE or at < period_end:
        return status
    if cancel_at_period_end:
        return "CANCELED"
    return "ACTIVE" if status == "TRIALING" else status


def anchor_of(row: Fields) -> datetime:
    """A trial's periods start where it ends; never later than the stored period's end."""
    anchor: datetime = row["trial_end"] if row["status"] == "TRIALING" else row["billing_anchor"]
    end: datetime = row["current_period_end"]
    return min(anchor, end)


def state_at(row: Fields, at: datetime) -> State:
    """The subscription's state at `at`; `row` carries the plan's `interval`."""
    at = require_utc(at, "at")
    start, end = row["current_period_start"], row["current_period_end"]
    if row["status"] not in LIVE or at < end:
        return State(row["status"], start, end, row["cancel_at_period_end"])
    if row["cancel_at_period_end"]:
        return State("CANCELED", start, end, False)
    scheduled_start, scheduled_end = period_containing(anchor_of(row), row["interval"], at)
    # A stored period that ended off the schedule is followed by a short one up to it.
    status = status_at(row["status"], False, end, at)
    return State(status, max(scheduled_start, end), scheduled_end, False)


def boundaries_due(row: Fields, at: datetime) -> bool:
    """True when the engine has a boundary of this subscription to process at `at`."""
    return row["status"] in LIVE and row["current_period_end"] <= at
