"""A subscription's state at any instant, derived from its stored row and the clock,
so reads are right whether or not the billing engine has run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from resolvers.billing import next_boundary
from resolvers.lifecycle import LIVE, State, state_at, status_at
from resolvers.periods import add_months

STATUSES = ["TRIALING", "ACTIVE", "PAST_DUE", "PAUSED", "CANCELED"]
HOURS = st.integers(min_value=0, max_value=24 * 365 * 30).map(
    lambda h: datetime(2000, 1, 1, tzinfo=UTC) + timedelta(hours=h)
)


def row(
    anchor: datetime,
    months: int,
    status: str = "ACTIVE",
    cancel: bool = False,
    interval: str = "MONTH",
) -> dict[str, Any]:
    """A row whose stored period is the `months`-th after its anchor (as the engine left it)."""
    step = 12 if interval == "YEAR" else 1
    start, end = add_months(anchor, months * step), add_months(anchor, (months + 1) * step)
    return {
        "status": status,
        "billing_anchor": anchor,
        "current_period_start": start,
        "current_period_end": end,
        "cancel_at_period_end": cancel,
        "trial_end": end if status == "TRIALING" else None,
        "interval": interval,
    }


def test_a_stale_active_row_reads_the_period_containing_now() -> None:
    # given Jan 31 anchoring, stored period Jan 31 → Feb 28, read in May (engine never ran)
    r = row(datetime(2026, 1, 31, tzinfo=UTC), 0)

    state = state_at(r, datetime(2026, 5, 10, 12, tzinfo=UTC))

    assert state == State(
        "ACTIVE", datetime(2026, 4, 30, tzinfo=UTC), datetime(2026, 5, 31, tzinfo=UTC), False
    )


def test_a_trial_past_its_end_is_active_on_periods_anchored_at_its_end() -> None:
    trial_end = datetime(2026, 11, 20, 9, tzinfo=UTC)
    r = {
        **row(trial_end, 0, "TRIALING"),
        "current_period_start": datetime(2026, 11, 6, 9, tzinfo=UTC),
        "current_period_end": trial_end,
        "billing_anchor": datetime(2026, 11, 6, 9, tzinfo=UTC),
        "trial_end": trial_end,
    }

    assert state_at(r, trial_end - timedelta(seconds=1)).status == "TRIALING"
    later = state_at(r, datetime(2027, 1, 1, tzinfo=UTC))
    assert later == State(
        "ACTIVE", datetime(2026, 12, 20, 9, tzinfo=UTC), datetime(2027, 1, 20, 9, tzinfo=UTC), False
    )


def test_a_due_scheduled_cancel_reads_canceled_at_the_end_of_its_period() -> None:
    r = row(datetime(2026, 1, 15, tzinfo=UTC), 3, cancel=True)

    before = state_at(r, datetime(2026, 5, 14, tzinfo=UTC))
    after = state_at(r, datetime(2027, 5, 14, tzinfo=UTC))

    assert (before.status, before.cancel_at_period_end) == ("ACTIVE", True)
    assert after == State("CANCELED", r["current_period_start"], r["current_period_end"], False)


@given(
    anchor=HOURS,
    months=st.integers(min_value=0, max_value=40),
    later=st.integers(min_value=0, max_value=24 * 365 * 3),
    interval=st.sampled_from(["MONTH", "YEAR"]),
    status=st.sampled_from(["ACTIVE", "PAST_DUE"]),
)
def test_a_live_state_always_contains_now_on_the_anchor_schedule(
    anchor: datetime, months: int, later: int, interval: str, status: str
) -> None:
    r = row(anchor, months, status, interval=interval)
    now = r["current_period_start"] + timedelta(hours=later)

    state = state_at(r, now)

    assert state.status == status
    assert state.period_start <= now < state.period_end
    step = 12 if interval == "YEAR" else 1
    k = next(k for k in range(2000) if add_months(anchor, k * step) == state.period_start)
    assert state.period_end == add_months(anchor, (k + 1) * step)


@given(anchor=HOURS, months=st.integers(min_value=0, max_value=30), hops=st.integers(1, 15))
def test_boundaries_chain_without_gap_or_overlap(anchor: datetime, months: int, hops: int) -> None:
    """Walking boundary by boundary (as the engine does) meets the state the clock derives."""
    r = row(anchor, months)
    state = state_at(r, r["current_period_start"])
    for _ in range(hops):
        boundary = next_boundary(r, state)
        assert boundary.after.period_start == state.period_end == boundary.at
        state = boundary.after

    assert state == state_at(r, state.period_start)


async def test_the_sql_status_function_agrees_with_python(seeded_pool: asyncpg.Pool) -> None:
    base = datetime(2026, 11, 15, tzinfo=UTC)
    cases = [
        (status, cancel, base, base + timedelta(hours=delta))
        for status in STATUSES
        for cancel in (False, True)
        for delta in (-1, 0, 1, 24 * 400)
    ]

    rows = await seeded_pool.fetch(
        "SELECT subscription_status_at(s, c, e, a) AS status"
        " FROM unnest($1::text[], $2::bool[], $3::timestamptz[], $4::timestamptz[])"
        " WITH ORDINALITY AS t(s, c, e, a, n) ORDER BY n",
        *[list(column) for column in zip(*cases, strict=True)],
    )

    assert [r["status"] for r in rows] == [status_at(*case) for case in cases]
    assert {status_at(*c) for c in cases} == set(STATUSES)  # every branch was taken


def test_live_statuses_are_the_contract_ones() -> None:
    assert frozenset({"TRIALING", "ACTIVE", "PAST_DUE"}) == LIVE
