"""Invoices and their lines, scoped to the request's reach."""

from __future__ import annotations

from typing import Final

from loaders.base import CountLoader, PageLoader, RowByIdLoader
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


def _invoice_pages(parent_column: str) -> str:
    """Newest first; $6..$8 are INVOICE_FILTERS."""
    return f"""
SELECT p.parent, x.* FROM unnest($1::text[]) AS p(parent)
CROSS JOIN LATERAL (
  SELECT {INVOICE_COLUMNS} FROM invoices i
   WHERE i.{parent_column} = p.parent AND {in_reach("i.account_id", 2)}
     AND ($4::timestamptz IS NULL OR (i.created_at, i.id) < ($4::timestamptz, $5::text))
     {INVOICE_FILTERS.format(s=6, a=7, b=8)}
   ORDER BY i.created_at DESC, i.id DESC LIMIT $3) x"""


def _invoice_counts(parent_column: str) -> str:
    return f"""
SELECT i.{parent_column} AS parent, count(*) AS n FROM invoices i
 WHERE i.{parent_column} = ANY($1::text[]) AND {in_reach("i.account_id", 2)}
 {INVOICE_FILTERS.format(s=3, a=4, b=5)}
 GROUP BY i.{parent_column}"""


LINE_PAGES: Final = f"""
SELECT p.parent, x.* FROM unnest($1::text[]) AS p(parent)
CROSS JOIN LATERAL (
  SELECT {LINE_COLUMNS} FROM invoice_lines l
   WHERE l.invoice_id = p.parent AND {in_reach("l.account_id", 2)}
     AND ($4::integer IS NULL OR (l.position, l.id) > ($4::integer, $5::text))
   ORDER BY l.position, l.id LIMIT $3) x"""

LINE_COUNTS: Final = f"""
SELECT l.invoice_id AS parent, count(*) AS n FROM invoice_lines l
 WHERE l.invoice_id = ANY($1::text[]) AND {in_reach("l.account_id", 2)}
 GROUP BY l.invoice_id"""

LINES_BY_ID: Final = f"""
SELECT {LINE_COLUMNS} FROM invoice_lines l
 WHERE l.id = ANY($1::text[]) AND {in_reach("l.account_id", 2)}"""


class InvoiceByIdLoader(RowByIdLoader):
    sql = INVOICES_BY_ID


class InvoicePageByAccountLoader(PageLoader):
    sql = _invoice_pages("account_id")
    parent = "parent"


class InvoiceCountByAccountLoader(CountLoader):
    sql = _invoice_counts("account_id")


class InvoicePageBySubscriptionLoader(PageLoader):
    sql = _invoice_pages("subscription_id")
    parent = "parent"


class InvoiceCountBySubscriptionLoader(CountLoader):
    sql = _invoice_counts("subscription_id")


class LinePageByInvoiceLoader(PageLoader):
    sql = LINE_PAGES
    parent = "parent"


class LineCountByInvoiceLoader(CountLoader):
    sql = LINE_COUNTS


class LineByIdLoader(RowByIdLoader):
    sql = LINES_BY_ID
