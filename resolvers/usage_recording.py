"""recordUsage: up to 1,000 events per call, all or nothing, each counted once forever.

An event's own idempotency key makes it count once per account forever: a key already
recorded with the same meter, quantity and instant is a duplicate (reported, not counted
again); with anything different it is a reused key, refused. A batch with any bad event
writes nothing and names each bad one. The hourly rollup is updated by the insert's
trigger in the same transaction, so the next read sees the write.

An event may not be earlier than the account's open billing period (that period may be
invoiced already) nor later than a few minutes from now. The account's live
subscriptions are share-locked while the batch is written, so the billing engine cannot
close a period under it (it skips them and comes back)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import asyncpg

from loaders import changes
from loaders.billing import Conn
from loaders.catalog import Catalog
from resolvers import writes
from resolvers.base import Ctx
from resolvers.buckets import floor_bucket
from resolvers.errors import NotFound
from resolvers.lifecycle import state_at
from resolvers.periods import iso
from resolvers.writes import Outcome, Refused, UserErrorValue

MAX_EVENTS: Final = 1000
FUTURE_SKEW: Final = timedelta(minutes=5)
# numeric(24,6): 18 integer digits, 6 decimal places.
MAX_INTEGER_DIGITS: Final = 18
MAX_PLACES: Final = 6


@dataclass(frozen=True)
class EventInput:
    meter: str
    quantity: Decimal
    occurred_at: datetime
    idempotency_key: str

    def plain(self) -> dict[str, Any]:
        return {
            "meter": self.meter,
            "quantity": self.quantity,
            "occurredAt": self.occurred_at,
            "idempotencyKey": self.idempotency_key,
        }


async def record(
    ctx: Ctx, account_id: str, events: Sequence[EventInput], key: str | None
) -> Outcome:
    request = {"accountId": account_id, "events": [e.plain() for e in events]}
    if not 1 <= len(events) <= MAX_EVENTS:
        message = f"A call records 1 to {MAX_EVENTS} events."
        return Outcome(user_errors=(UserErrorValue(("events",), message),))

    async def work(conn: Conn, catalog: Catalog) -> Mapping[str, Any]:
        if await changes.account(conn, writes.object_id(account_id), ctx.reach.param) is None:
            raise NotFound()
        opens = open_period_start(await changes.live_of_account(conn, account_id), ctx.now)
        _check(events, catalog, opens, ctx.now)
        return await _write(conn, ctx, catalog, account_id, events)

    return await writes.run(ctx, "recordUsage", key, request, work)


def open_period_start(live: Sequence[asyncpg.Record], now: datetime) -> datetime:
    """The earliest start of a live subscription's current period, else this UTC month."""
    starts = [s.period_start for s in (state_at(row, now) for row in live) if s.live]
    return min(starts, default=floor_bucket(now, "MONTH"))


def _check(events: Sequence[EventInput], catalog: Catalog, opens: datetime, now: datetime) -> None:
    errors = [e for n, event in enumerate(events) for e in _problems(n, event, catalog, opens, now)]
    seen: set[str] = set()
    for n, event in enumerate(events):
        if event.idempotency_key in seen:
            errors.append(_error(n, "idempotencyKey", "This key appears twice in the batch."))
        seen.add(event.idempotency_key)
    if errors:
        raise Refused(*errors)


def _problems(
    n: int, event: EventInput, catalog: Catalog, opens: datetime, now: datetime
) -> list[UserErrorValue]:
    checks = [
        ("meter", None if event.meter in catalog.by_key("meters") else "Unknown meter."),
        ("quantity", quantity_problem(event.quantity)),
        ("occurredAt", _time_problem(event.occurred_at, opens, now)),
        ("idempotencyKey", writes.key_problem(event.idempotency_key)),
    ]
    return [_error(n, name, problem) for name, problem in checks if problem]


def _error(n: int, name: str, message: str) -> UserErrorValue:
    return UserErrorValue(("events", str(n), name), message)


def quantity_problem(value: Decimal) -> str | None:
    """A quantity the numeric(24,6) columns hold exactly: finite, 0 or more."""
    if not value.is_finite():
        return "A quantity is a finite number."
    if value < 0:
        return "A quantity is not negative."
    if -int(value.normalize().as_tuple().exponent) > MAX_PLACES:
        return f"A quantity has at most {MAX_PLACES} decimal places."
    if value >= Decimal(10) ** MAX_INTEGER_DIGITS:
        return f"A quantity has at most {MAX_INTEGER_DIGITS} digits before the point."
    return None


def _time_problem(at: datetime, opens: datetime, now: datetime) -> str | None:
    if at > now + FUTURE_SKEW:
        return "This instant is in the future."
    if at < opens:
        return f"This instant is before the open billing period, which starts {iso(opens)}."
    return None


async def _write(
    conn: Conn, ctx: Ctx, catalog: Catalog, account_id: str, events: Sequence[EventInput]
) -> Mapping[str, Any]:
    meters = catalog.by_key("meters")
    known = await changes.known_keys(conn, account_id, [e.idempotency_key for e in events])
    reused = [
        n
        for n, e in enumerate(events)
        if e.idempotency_key in known and not _same(e, known[e.idempotency_key], meters)
    ]
    if reused:
        raise Refused(
            *(
                _error(n, "idempotencyKey", "This key was already used for another event.")
                for n in reused
            )
        )
    fresh = [
        (e.idempotency_key, meters[e.meter]["id"], e.quantity, e.occurred_at)
        for e in events
        if e.idempotency_key not in known
    ]
    inserted = await changes.insert_events(conn, account_id, fresh, ctx.now) if fresh else set()
    duplicates = sorted(e.idempotency_key for e in events if e.idempotency_key not in inserted)
    payload = {"recorded": len(inserted), "duplicates": len(duplicates)}
    await writes.event(conn, ctx, account_id, "usage.recorded", account_id, payload)
    return {"account": account_id, "recorded": len(inserted), "duplicates": duplicates}


def _same(event: EventInput, stored: asyncpg.Record, meters: Mapping[str, Any]) -> bool:
    return bool(
        stored["meter_id"] == meters[event.meter]["id"]
        and stored["quantity"] == event.quantity
        and stored["occurred_at"] == event.occurred_at
    )
