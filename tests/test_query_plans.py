"""An index for every list order and lookup the API offers: on a database seeded with
1,000 accounts, EXPLAIN every loader's statement — each page both ways, each count,
each lookup — for an admin, a customer and a partner, as a custom plan (with the
request's values) and as the generic plan a prepared statement settles on.

Sequential scans are priced out (`enable_seqscan = off`): at this size PostgreSQL rightly
scans a 1,000-row table rather than probe it, so the plans show which index serves a
statement, as they would at production size. A Seq Scan of a tenant table left in a
plan means no index can serve it: the test fails. A page must moreover start on its
index at the cursor — its scans constrain their index's leading column — with the
planner's own costs as well."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from functools import cached_property
from itertools import count
from typing import Any, Final

import asyncpg
import pytest
from conftest import SEED_AS_OF

from gateway import migrate
from gateway.seed import seed
from loaders import Loaders
from loaders.base import CountLoader, Loader, PageLoader
from loaders.db import Db
from loaders.reach import Reach

ACCOUNTS: Final = 1_000
TENANT_TABLES: Final = (
    "accounts", "partners", "subscriptions", "subscription_items", "invoices",
    "invoice_lines", "entitlement_grants", "usage_hourly", "usage_events",
)  # fmt: skip
NAMES = count()


@pytest.fixture(scope="module")
async def big(create_database: Callable[[], Any]) -> AsyncIterator[asyncpg.Connection]:
    """1,000 seeded accounts (one day of raw usage keeps the seed quick), analysed."""
    dsn = str(await create_database())
    await migrate.migrate(dsn)
    conn = await asyncpg.connect(dsn, statement_cache_size=0)
    await seed(conn, accounts=ACCOUNTS, seed=1, as_of=SEED_AS_OF, usage_days=1)
    await conn.execute("VACUUM ANALYZE")
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
async def sample(big: asyncpg.Connection) -> dict[str, Any]:
    """Parents with data, and the reach of a customer and of a partner."""
    row = await big.fetchrow(
        "SELECT a.id AS account, a.partner_id AS partner, s.id AS sub, i.id AS item,"
        "       inv.id AS invoice, l.id AS line, h.meter_id AS meter"
        "  FROM accounts a JOIN subscriptions s ON s.account_id = a.id"
        "  JOIN subscription_items i ON i.subscription_id = s.id"
        "  JOIN invoices inv ON inv.subscription_id = s.id"
        "  JOIN invoice_lines l ON l.invoice_id = inv.id"
        "  JOIN usage_hourly h ON h.account_id = a.id"
        " WHERE a.partner_id IS NOT NULL ORDER BY a.created_at LIMIT 1"
    )
    assert row is not None
    partner_reach = await big.fetch("SELECT id FROM accounts WHERE partner_id = $1", row["partner"])
    assert await big.fetchval("SELECT count(*) FROM accounts") >= ACCOUNTS
    return {
        **dict(row),
        "reaches": {
            "admin": Reach.all(),
            "customer": Reach.only([row["account"]]),
            "partner": Reach.only([r["id"] for r in partner_reach]),
        },
    }


def keys(s: dict[str, Any]) -> dict[str, list[Any]]:
    """Each loader's parameters besides the reach ($2): its keys ($1), then the rest."""
    page = [21, None, None, None, None]  # limit, after key, before key
    invoice_filters = [None, None, None]
    usage = [[s["meter"]], [SEED_AS_OF - timedelta(days=30)], [SEED_AS_OF]]
    return {
        "AccountByIdLoader": [[s["account"]]],
        "PartnerByIdLoader": [[s["partner"]]],
        "AccountPageLoader": [[""], *page],
        "AccountCountLoader": [[""]],
        "AccountPageByPartnerLoader": [[s["partner"]], *page],
        "AccountCountByPartnerLoader": [[s["partner"]]],
        "SubscriptionByIdLoader": [[s["sub"]]],
        "SubscriptionPageByAccountLoader": [[s["account"]], *page, None, SEED_AS_OF],
        "SubscriptionCountByAccountLoader": [[s["account"]], None, SEED_AS_OF],
        "LiveSubscriptionsByAccountLoader": [[s["account"]]],
        "ItemsBySubscriptionLoader": [[s["sub"]]],
        "ItemByIdLoader": [[s["item"]]],
        "InvoiceByIdLoader": [[s["invoice"]]],
        "InvoicePageByAccountLoader": [[s["account"]], *page, *invoice_filters],
        "InvoiceCountByAccountLoader": [[s["account"]], *invoice_filters],
        "InvoicePageBySubscriptionLoader": [[s["sub"]], *page, *invoice_filters],
        "InvoiceCountBySubscriptionLoader": [[s["sub"]], *invoice_filters],
        "LinePageByInvoiceLoader": [[s["invoice"]], *page],
        "LineCountByInvoiceLoader": [[s["invoice"]]],
        "LineByIdLoader": [[s["line"]]],
        "UsageBucketLoader": [[s["account"]], *usage, ["day"]],
        "UsageTotalLoader": [[s["account"]], *usage],
        "EntitlementSourcesByAccountLoader": [[s["account"]]],
    }


def statements(loader: Loader) -> Iterator[tuple[str, str]]:
    """(label, SQL) of each statement the loader may run for its reach."""
    name = type(loader).__name__
    if isinstance(loader, PageLoader):
        yield f"{name} forward", loader.keyset.sql(backward=False)
        yield f"{name} backward", loader.keyset.sql(backward=True)
        if loader.keyset.counted:  # with totalCount asked
            yield f"{name} forward counted", loader.keyset.sql(backward=False, counted=True)
    elif isinstance(loader, CountLoader):
        yield name, loader.statement()
    else:
        yield name, loader.sql  # type: ignore[attr-defined]


def every_loader(reach: Reach) -> list[Loader]:
    loaders = Loaders(Db(None), reach)  # type: ignore[arg-type]  # never connects
    members = [n for n, v in vars(Loaders).items() if isinstance(v, cached_property)]
    return [getattr(loaders, n) for n in members if isinstance(getattr(loaders, n), Loader)]


async def plan(conn: asyncpg.Connection, sql: str, args: list[Any], generic: bool) -> Any:
    if not generic:
        return json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args))
    name = f"plan_{next(NAMES)}"
    await conn.execute(f"PREPARE {name} AS {sql}")
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    try:
        nulls = ", ".join("NULL" for _ in args)  # a generic plan ignores the values
        return json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE {name}({nulls})"))
    finally:
        await conn.execute("RESET plan_cache_mode")
        await conn.execute(f"DEALLOCATE {name}")


def scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every scan of a tenant table in a plan tree (partitions by their parent's name)."""
    relation = node.get("Relation Name", "")
    if relation.startswith(TENANT_TABLES):
        yield node
    for child in node.get("Plans", []):
        yield from scans(child)


def problems(tree: Any, leading: dict[str, str], page: bool) -> list[str]:
    found = []
    for scan in scans(tree[0]["Plan"]):
        if scan["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan on {scan['Relation Name']}")
        elif page and "Index Name" in scan:
            column = leading[scan["Index Name"]]
            if column not in scan.get("Index Cond", ""):
                found.append(f"{scan['Index Name']} not probed on {column}")
    return found


LEADING_COLUMNS: Final = """
SELECT i.relname AS index, a.attname AS col FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]"""


async def test_no_list_statement_scans_a_tenant_table_on_1000_accounts(
    big: asyncpg.Connection, sample: dict[str, Any]
) -> None:
    leading = {r["index"]: r["col"] for r in await big.fetch(LEADING_COLUMNS)}
    params = keys(sample)
    found, explained = {}, set()
    for who, reach in sample["reaches"].items():
        for loader in every_loader(reach):
            first, *rest = params[type(loader).__name__]
            args = [first, reach.param, *rest]
            for label, sql in statements(loader):
                explained.add(label)
                page = isinstance(loader, PageLoader)
                for generic in (False, True):
                    for seqscan in ("off", "on") if page else ("off",):
                        await big.execute(f"SET enable_seqscan = {seqscan}")
                        tree = await plan(big, reach.sql(sql), args, generic)
                        where = f"{label}, {who}, {'generic' if generic else 'custom'}, seqscan {seqscan}"
                        if issues := problems(tree, leading, page):
                            found[where] = issues
    await big.execute("RESET enable_seqscan")

    assert found == {}
    pages = [k for k in params if "Page" in k]
    counted = [k for k in pages if not k.startswith("AccountPage")]  # every account: apart
    assert len(explained) == len(params) + len(pages) + len(counted)


async def test_the_check_finds_a_list_order_without_its_index(
    big: asyncpg.Connection, sample: dict[str, Any]
) -> None:
    # given the root list's index is gone (in a transaction rolled back below)
    leading = {r["index"]: r["col"] for r in await big.fetch(LEADING_COLUMNS)}
    [loader] = [x for x in every_loader(Reach.all()) if type(x).__name__ == "AccountPageLoader"]
    first, *rest = keys(sample)["AccountPageLoader"]
    transaction = big.transaction()
    await transaction.start()
    try:
        await big.execute("DROP INDEX accounts_created_idx")
        await big.execute("SET LOCAL enable_seqscan = off")

        # when its page is explained, then the check reports the scan
        tree = await plan(big, loader.keyset.sql(backward=False), [first, None, *rest], False)
        assert "Seq Scan on accounts" in problems(tree, leading, page=True)
    finally:
        await transaction.rollback()


async def test_no_statement_a_request_runs_ors_its_reach() -> None:
    # `col = ANY($2) OR $2 IS NULL` keeps a generic plan off every index on col.
    for reach in (Reach.all(), Reach.only(["acct_a"])):
        for loader in every_loader(reach):
            for label, sql in statements(loader):
                assert "OR $2::text[] IS NULL" not in reach.sql(sql), label
