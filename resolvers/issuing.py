"""Writing an invoice: the engine's boundary invoices and the mutations' proration and
final invoices go through the same door, with the same statuses and terms."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from loaders import billing as sql
from loaders.billing import Conn
from resolvers.billing import Line, Period
from resolvers.ids import new_id
from resolvers.money import Totals

NET_TERMS: Final = timedelta(days=14)


async def issue_invoice(
    conn: Conn,
    *,
    account_id: str,
    subscription_id: str,
    currency: str,
    tax_rate: Decimal,
    lines: Sequence[Line],
    totals: Totals,
    issued_at: datetime,
    period: Period,
    boundary_at: datetime | None = None,
) -> tuple[str, str]:
    """Issue it now: OPEN and due in 14 days, or PAID at once when it collects nothing
    (a zero or negative total). Returns (id, number)."""
    paid_at = issued_at if totals.total <= 0 else None
    invoice = sql.NewInvoice(
        id=new_id("inv"),
        account_id=account_id,
        subscription_id=subscription_id,
        status="PAID" if paid_at else "OPEN",
        currency=currency,
        tax_rate=tax_rate,
        period=period,
        subtotal=totals.subtotal,
        tax=totals.tax,
        issued_at=issued_at,
        due_at=issued_at + NET_TERMS,
        paid_at=paid_at,
        boundary_at=boundary_at,
    )
    rows = [
        (
            *(new_id("il"), ln.kind, ln.description, ln.quantity, ln.unit_amount, ln.amount),
            *(ln.period_start, ln.period_end, ln.meter_id),
        )
        for ln in lines
    ]
    return invoice.id, await sql.insert_invoice(conn, invoice, rows)
