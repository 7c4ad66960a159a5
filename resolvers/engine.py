"""The billing engine: moves subscriptions through time, each step exactly once.

At each period boundary of a live subscription, in one transaction that holds the
subscription's row lock: issue the invoice `resolvers.billing` composes (the same one
the upcoming invoice showed), advance the stored period (a trial becomes ACTIVE, a
scheduled cancel becomes CANCELED), and append the events. A unique index on
(subscription, boundary) makes a second invoice for one boundary impossible, and a
worker killed mid-way leaves nothing: its transaction rolls back.

Lock order, the same for every writer: the subscription row, then the year's invoice
number counter (taken when the invoice is inserted), then the account's event
counter (taken when events are appended).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

import asyncpg

from loaders import billing as sql
from loaders.billing import Conn
from loaders.catalog import Catalog
from resolvers.billing import Boundary, boundary_lines, meters_billed, next_boundary
from resolvers.issuing import issue_invoice
from resolvers.lifecycle import Fields, State, anchor_of, boundaries_due
from resolvers.money import Totals, invoice_totals
from resolvers.periods import add_months, iso
from resolvers.values import quantity

ACTOR: Final = "billing-engine"
PARTITION_MONTHS_AHEAD: Final = 3
GRANT_BATCH: Final = 100
RETRIES: Final = 3


@dataclass(frozen=True)
class Action:
    """One thing the engine did, for its log and metrics."""

    kind: str  # renewed, trial_ended, canceled, grant_expired, partitions_created
    account_id: str
    object_id: str
    detail: str


def stored_state(row: Fields) -> State:
    """The state the row holds (the engine works boundary by boundary from it)."""
    return State(
        row["status"],
        row["current_period_start"],
        row["current_period_end"],
        row["cancel_at_period_end"],
    )


def usage_by_meter(
    catalog: Catalog, plan_id: str, inputs: sql.BoundaryInputs
) -> dict[str, Decimal]:
    """The period's use of each meter the plan bills: SUM meters add, MAX meters peak."""
    used = {}
    for meter_id, aggregation in meters_billed(catalog, plan_id):
        source = inputs.sums if aggregation == "SUM" else inputs.maxes
        used[meter_id] = quantity(source.get(meter_id, Decimal(0)))
    return used


async def process_boundary(conn: Conn, catalog: Catalog, row: asyncpg.Record) -> Action:
    """Issue the invoice of `row`'s next boundary and advance it; the caller holds the
    row lock and the transaction."""
    boundary = next_boundary(row, stored_state(row))
    inputs = await sql.inputs(conn, row, boundary.at, boundary.usage_period)
    usage = usage_by_meter(catalog, row["plan_id"], inputs)
    lines = boundary_lines(catalog, row, boundary, inputs.items, usage)
    currency = row["currency"].strip()
    totals = invoice_totals([ln.amount for ln in lines], inputs.tax_rate, currency)
    after = boundary.after
    await sql.advance(
        conn, row["id"], after.status, anchor_of(row), (after.period_start, after.period_end)
    )
    invoice_id, number = await issue_invoice(
        conn,
        account_id=row["account_id"],
        subscription_id=row["id"],
        currency=currency,
        tax_rate=inputs.tax_rate,
        lines=lines,
        totals=totals,
        issued_at=boundary.at,
        period=boundary.invoice_period,
        boundary_at=boundary.at,
    )
    kind = _transition(row, boundary)
    await _events(conn, row, boundary, kind, invoice_id, number, totals)
    detail = f"{number} {totals.total} {currency} for boundary {iso(boundary.at)}"
    return Action(kind, row["account_id"], row["id"], detail)


def _transition(row: Fields, boundary: Boundary) -> str:
    if not boundary.renews:
        return "canceled"
    return "trial_ended" if row["status"] == "TRIALING" else "renewed"


async def _events(
    conn: Conn,
    row: Fields,
    boundary: Boundary,
    kind: str,
    invoice_id: str,
    number: str,
    totals: Totals,
) -> None:
    after = boundary.after
    sub_event = {
        "subscriptionId": row["id"],
        "status": after.status,
        "periodStart": iso(after.period_start),
        "periodEnd": iso(after.period_end),
    }
    invoice_event = {
        "invoiceId": invoice_id,
        "number": number,
        "subscriptionId": row["id"],
        "total": str(totals.total),
        "currency": row["currency"].strip(),
        "boundary": iso(boundary.at),
    }
    account, at = row["account_id"], boundary.at
    await sql.append_event(
        conn, account, f"subscription.{kind}", ACTOR, row["id"], json.dumps(sub_event), at
    )
    await sql.append_event(
        conn, account, "invoice.issued", ACTOR, invoice_id, json.dumps(invoice_event), at
    )


async def catch_up(
    conn: Conn,
    catalog: Catalog,
    subscription_id: str,
    now: datetime,
    reach: list[str] | None = None,
) -> tuple[asyncpg.Record | None, list[Action]]:
    """Lock one subscription (if in `reach`) and process every boundary due by `now`;
    returns its current row, or None when it does not exist or is out of reach.
    Mutations call this in their own transaction before they change a subscription."""
    actions: list[Action] = []
    row = await sql.lock_one(conn, subscription_id, reach)
    while row is not None and boundaries_due(row, now):
        actions.append(await process_boundary(conn, catalog, row))
        row = await sql.lock_one(conn, subscription_id, reach)
    return row, actions


async def process_next_due(conn: Conn, catalog: Catalog, now: datetime) -> Action | None:
    """Claim the earliest due boundary no other worker holds and process it, in one
    transaction on `conn`; None when nothing is due. A transaction PostgreSQL rolled
    back to break a deadlock or a serialization conflict is tried again."""
    attempt = 1
    while True:
        try:
            async with conn.transaction():
                row = await sql.claim_due(conn, now)
                return None if row is None else await process_boundary(conn, catalog, row)
        except asyncpg.TransactionRollbackError:
            if attempt == RETRIES:
                raise
            attempt += 1


async def expire_grants(conn: Conn, now: datetime) -> list[Action]:
    """Record a batch of the grants that have expired by `now`, once, with their events."""
    async with conn.transaction():
        grants = await sql.claim_expired_grants(conn, now, GRANT_BATCH)
        if not grants:
            return []
        await sql.record_expiries(conn, [g["id"] for g in grants], now)
        for g in grants:
            payload = {
                "grantId": g["id"],
                "featureId": g["feature_id"],
                "expiresAt": iso(g["expires_at"]),
            }
            await sql.append_event(
                conn,
                g["account_id"],
                "entitlement.expired",
                ACTOR,
                g["id"],
                json.dumps(payload),
                g["expires_at"],
            )
    return [Action("grant_expired", g["account_id"], g["id"], iso(g["expires_at"])) for g in grants]


async def ensure_partitions(conn: Conn, now: datetime, since: datetime | None = None) -> int:
    """Monthly usage partitions from last month (or `since`, for a backfill) to three
    months ahead of `now`, and for any month whose events wait in the default
    partition; returns how many were created. The only place partitions are made."""
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = add_months(month, -1) if since is None else min(since, add_months(month, -1))
    return await sql.ensure_partitions(conn, start, add_months(month, PARTITION_MONTHS_AHEAD + 1))
