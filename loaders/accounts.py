"""Accounts and partners, scoped to the request's reach."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from loaders.base import CountLoader, Keyset, PageLoader, RowByIdLoader
from loaders.reach import in_reach

ACCOUNT_COLUMNS: Final = "a.id, a.name, a.currency, a.tax_rate, a.partner_id, a.created_at"

ROOT: Final = ""  # the parent key of the root list, every account in reach

ACCOUNTS_BY_ID: Final = f"""
SELECT {ACCOUNT_COLUMNS} FROM accounts a
 WHERE a.id = ANY($1::text[]) AND {in_reach("a.id", 2)}"""

# A partner is visible to a request that reaches at least one account it manages.
PARTNERS_BY_ID: Final = f"""
SELECT p.id, p.name, p.created_at FROM partners p
 WHERE p.id = ANY($1::text[])
   AND ($2::text[] IS NULL OR EXISTS (
        SELECT 1 FROM accounts a WHERE a.partner_id = p.id AND {in_reach("a.id", 2)}))"""

# Root `accounts` and `Partner.accounts` share one order, oldest first, each on its
# index: (created_at, id) and (partner_id, created_at, id).
ACCOUNT_PAGES: Final = Keyset(
    source="accounts a",
    columns=ACCOUNT_COLUMNS,
    parent="true",
    reach=in_reach("a.id", 2),
    key="a.created_at",
    key_type="timestamptz",
    descending=False,
    counted=False,  # every account in reach: counted apart, and only when asked
)
PARTNER_ACCOUNT_PAGES: Final = replace(ACCOUNT_PAGES, parent="a.partner_id = p.parent")

# Every account there is: the count the triggers of migration 0005 keep, not a scan.
EVERY_ACCOUNT_COUNT: Final = """
SELECT p.parent, (SELECT t.n FROM account_totals t) AS n
  FROM unnest($1::text[]) AS p(parent) WHERE $2::text[] IS NULL"""


class AccountByIdLoader(RowByIdLoader):
    sql = ACCOUNTS_BY_ID


class PartnerByIdLoader(RowByIdLoader):
    sql = PARTNERS_BY_ID


class AccountPageLoader(PageLoader):
    """The root list: every account in reach (its one parent is ROOT, '')."""

    keyset = ACCOUNT_PAGES


class AccountCountLoader(CountLoader):
    sql = ACCOUNT_PAGES.count_sql()

    def statement(self) -> str:
        return EVERY_ACCOUNT_COUNT if self.reach.everything else self.sql


class AccountPageByPartnerLoader(PageLoader):
    keyset = PARTNER_ACCOUNT_PAGES


class AccountCountByPartnerLoader(CountLoader):
    sql = PARTNER_ACCOUNT_PAGES.count_sql()
