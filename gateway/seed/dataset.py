"""The whole demo data set, built in memory: catalog, partners, then each account in
index order (everything it owns), invoices numbered across accounts, rows collected."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.seed.accounts import (
    Account,
    AccountData,
    account_created_at,
    account_name,
    grants,
    partner_ids,
)
from gateway.seed.billing import bill, one_off_invoices
from gateway.seed.catalog import Catalog, build_catalog
from gateway.seed.clock import as_utc, midnight
from gateway.seed.rows import add_account_rows, add_partner_rows, catalog_rows
from gateway.seed.scenarios import subscriptions
from gateway.seed.settlement import settle
from gateway.seed.tables import Row
from gateway.seed.usage import USAGE_DAYS, generate_usage


@dataclass
class SeedData:
    rows: dict[str, list[Row]]
    account_ids: list[str]
    partner_ids: list[str]


def build_seed_data(
    *, accounts: int, seed: int, as_of: datetime, usage_days: int = USAGE_DAYS
) -> SeedData:
    """Every row of the demo data set, without touching a database. `usage_days`: how
    many days of raw usage events end at as_of (fewer make a big data set quick)."""
    as_of = as_utc(as_of)
    catalog = build_catalog(seed)
    rows = catalog_rows(catalog, midnight(as_of) - timedelta(days=4 * 365))
    partners = partner_ids(seed)
    add_partner_rows(rows, partners, as_of)
    built = _build_accounts(accounts, seed, catalog, as_of, partners, usage_days)
    counters = _number_invoices(built)
    for account in built:
        add_account_rows(rows, account, as_of)
    rows["invoice_number_counters"] = sorted(counters.items())
    return SeedData(rows, [a.id for a in built], partners)


def _build_accounts(
    count: int,
    seed: int,
    catalog: Catalog,
    as_of: datetime,
    partners: Sequence[str],
    usage_days: int,
) -> list[AccountData]:
    built: list[AccountData] = []
    names: set[str] = set()
    for index in range(count):
        account = Account(seed, index, catalog, as_of, partners, usage_days)
        name = account_name(account.rng, index, account.currency, names)
        built.append(build_account(account, name))
    return built


def build_account(a: Account, name: str) -> AccountData:
    """One account and everything it owns, in the order its RNG is drawn from."""
    subs = subscriptions(a)
    events_rng = random.Random(f"{a.key}:events")
    events = generate_usage(events_rng, a.profile, a.catalog.meters, a.as_of, a.usage_days)
    for sub in subs:
        bill(a, sub, events)
    one_off = one_off_invoices(a, subs[0].start)
    settle(a, subs, one_off)
    for sub in subs:
        sub.fill_current_period(a.as_of)
    created = account_created_at(a, subs)
    return AccountData(
        *(a.index, a.id, name, a.currency, a.tax_rate, a.partner_id, created),
        *(subs, one_off, grants(a), events),
    )


def _number_invoices(accounts: Sequence[AccountData]) -> dict[int, int]:
    """INV-<year>-<n>: gapless per year across all accounts, in creation order, as the
    engine numbers them; returns the last number of each year."""
    keyed = [
        ((inv.created_at, a.index, pos), inv)
        for a in accounts
        for pos, inv in enumerate(a.invoices)
    ]
    keyed.sort(key=lambda pair: pair[0])
    last: dict[int, int] = {}
    for _, inv in keyed:
        year = inv.created_at.year
        last[year] = last.get(year, 0) + 1
        inv.number = f"INV-{year:04d}-{last[year]:06d}"
    return last
