"""Invoices and their lines, scoped to the request's reach."""

from __future__ import annotations

from typing import Final

from loaders.base import CountLoader, Keyset, PageLoader, RowByIdLoader
from loaders.reach import in_reach

INVOICE_COLUMNS: Final = """i.id, i.account_id, i.subscription_id, i.number, i.status, i.currency,
       i.tax_rate, i.period_start, i.period_end, i.issued_at, i.due_at, i.paid_at,
       i.subtotal, i.tax, i.total, i.amount_paid, i.created_at"""
LINE_COLUMNS: Final = """l.id, l.invoice_id, l.account_id, l.currency, l.position, l.kind,
       l.description, l.quantity, l.unit_amount, l.amount, l.period_start, l.period_end,
       l.meter_id"""

# Filters shared by page and count statements of invoices: statuses, issued after
# (inclusive), issued before (exclusive); NULL = no filter.
INVOICE_FILTERS: Final = """
     AND (${s}::text[] IS NULL OR i.status = ANY(${s}::text[]))
     AND (${a}::timestamptz IS NULL OR i.issued_at >= ${a}::timestamptz)
     AND (${b}::timestamptz IS NULL OR i.issued_at < ${b}::timestamptz)"""

INVOICES_BY_ID: Final = f"""
SELECT {INVOICE_COLUMNS} FROM invoices i
 WHERE i.id = ANY($1::text[]) AND {in_reach("i.account_id", 2)}"""


# An account's invoices: the parent is the account; a subscription's: each row's account.
_REACH: Final = {"account_id": "p.parent", "subscription_id": "i.account_id"}


def _invoice_pages(parent_column: str) -> Keyset:
    """Newest first, filtered by INVOICE_FILTERS."""
    return Keyset(
        source="invoices i",
        columns=INVOICE_COLUMNS,
        parent=f"i.{parent_column} = p.parent",
        reach=in_reach(_REACH[parent_column], 2),
        key="i.created_at",
        key_type="timestamptz",
        descending=True,
        filters=lambda n: INVOICE_FILTERS.format(s=n, a=n + 1, b=n + 2),
    )


LINE_PAGES: Final = Keyset(
    source="invoice_lines l",
    columns=LINE_COLUMNS,
    parent="l.invoice_id = p.parent",
    reach=in_reach("l.account_id", 2),
    key="l.position",
    key_type="integer",
    descending=False,
)

LINES_BY_ID: Final = f"""
SELECT {LINE_COLUMNS} FROM invoice_lines l
 WHERE l.id = ANY($1::text[]) AND {in_reach("l.account_id", 2)}"""


class InvoiceByIdLoader(RowByIdLoader):
    sql = INVOICES_BY_ID


class InvoicePageByAccountLoader(PageLoader):
    keyset = _invoice_pages("account_id")


class InvoiceCountByAccountLoader(CountLoader):
    sql = _invoice_pages("account_id").count_sql()


class InvoicePageBySubscriptionLoader(PageLoader):
    keyset = _invoice_pages("subscription_id")


class InvoiceCountBySubscriptionLoader(CountLoader):
    sql = _invoice_pages("subscription_id").count_sql()


class LinePageByInvoiceLoader(PageLoader):
    keyset = LINE_PAGES


class LineCountByInvoiceLoader(CountLoader):
    sql = LINE_PAGES.count_sql()


class LineByIdLoader(RowByIdLoader):
    sql = LINES_BY_ID
