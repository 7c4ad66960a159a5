"""Accounts and partners, scoped to the request's reach."""

from __future__ import annotations

from typing import Final

from loaders.base import CountLoader, PageLoader, RowByIdLoader
from loaders.db import Db
from loaders.reach import Reach, in_reach

ACCOUNT_COLUMNS: Final = "a.id, a.name, a.currency, a.tax_rate, a.partner_id, a.created_at"

ACCOUNT_COUNT: Final = f"SELECT count(*) AS n FROM accounts a WHERE {in_reach('a.id', 1)}"

ACCOUNTS_BY_ID: Final = f"""
SELECT {ACCOUNT_COLUMNS} FROM accounts a
 WHERE a.id = ANY($1::text[]) AND {in_reach("a.id", 2)}"""

# A partner is visible to a request that reaches at least one account it manages.
PARTNERS_BY_ID: Final = f"""
SELECT p.id, p.name, p.created_at FROM partners p
 WHERE p.id = ANY($1::text[])
   AND ($2::text[] IS NULL OR EXISTS (
        SELECT 1 FROM accounts a WHERE a.partner_id = p.id AND {in_reach("a.id", 2)}))"""

# Root `accounts` and `Partner.accounts` share one ordering, oldest first by id.
# Parent '' stands for the root list: every account in reach. One statement serves
# every parent: a LATERAL subquery per parent stops after LIMIT rows on the index.
ACCOUNT_PAGES: Final = f"""
SELECT p.parent, x.* FROM unnest($1::text[]) AS p(parent)
CROSS JOIN LATERAL (
  SELECT {ACCOUNT_COLUMNS} FROM accounts a
   WHERE (p.parent = '' OR a.partner_id = p.parent) AND {in_reach("a.id", 2)}
     AND ($4::timestamptz IS NULL OR (a.created_at, a.id) > ($4::timestamptz, $5::text))
   ORDER BY a.created_at, a.id LIMIT $3) x"""

ACCOUNT_COUNTS: Final = f"""
SELECT p.parent, (SELECT count(*) FROM accounts a
   WHERE (p.parent = '' OR a.partner_id = p.parent) AND {in_reach("a.id", 2)}) AS n
  FROM unnest($1::text[]) AS p(parent)"""


async def account_count(db: Db, reach: Reach) -> int:
    row = await db.fetchrow(ACCOUNT_COUNT, reach.param)
    return int(row["n"]) if row else 0


class AccountByIdLoader(RowByIdLoader):
    sql = ACCOUNTS_BY_ID


class PartnerByIdLoader(RowByIdLoader):
    sql = PARTNERS_BY_ID


class AccountPageByPartnerLoader(PageLoader):
    """Parent '' is the root list of every account in reach."""

    sql = ACCOUNT_PAGES
    parent = "parent"


class AccountCountByPartnerLoader(CountLoader):
    sql = ACCOUNT_COUNTS
