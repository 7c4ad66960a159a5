"""One list of currencies for SQL and Python (resolvers/currencies.py, migration 0005):
every currency the database accepts bills, in SQL and in Python alike, and a currency
the system cannot bill is refused on write."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from builders import account as new_account
from builders import new_id
from conftest import Gql, make_token, serving
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import migrate
from gateway.clock import FixedClock
from gateway.settings import ConfigError
from resolvers.currencies import MINOR_UNITS, sql_rows
from resolvers.money import exact_product, invoice_totals, round_money

CODES = sorted(MINOR_UNITS)

INVOICE = """query($id: ID!) { node(id: $id) { ... on Invoice { currency
  subtotal { amount currency } tax { amount } total { amount } amountDue { amount }
  lines { nodes { quantity unitAmount { amount } amount { amount currency } } } } } }"""

SEEDED_CURRENCIES = "SELECT currency FROM accounts UNION SELECT currency FROM plans"


async def test_the_database_holds_exactly_the_currencies_python_bills_in(
    seeded_pool: asyncpg.Pool,
) -> None:
    rows = await seeded_pool.fetch("SELECT code, minor_units FROM currencies")
    assert {r["code"]: r["minor_units"] for r in rows} == dict(MINOR_UNITS)


def test_the_migration_rows_are_the_python_table(repo_root: Path) -> None:
    migration = (repo_root / "gateway" / "migrations" / "0005_graph_contract.sql").read_text()
    assert sql_rows() in migration


def test_the_table_is_iso_4217_with_its_odd_minor_units() -> None:
    assert len(MINOR_UNITS) > 150
    odd = {"JPY": 0, "KRW": 0, "PYG": 0, "XPF": 0, "BHD": 3, "KWD": 3, "CLF": 4, "UYW": 4}
    assert {code: MINOR_UNITS[code] for code in odd} == odd
    assert not {"XXX", "XAU", "XDR", "XTS"} & set(MINOR_UNITS)  # no minor unit: not money


async def test_every_seeded_currency_bills(gql: Gql, seeded_pool: asyncpg.Pool) -> None:
    currencies = {r["currency"] for r in await seeded_pool.fetch(SEEDED_CURRENCIES)}
    for currency in currencies:
        invoice = await seeded_pool.fetchval(
            "SELECT id FROM invoices WHERE currency = $1 ORDER BY id LIMIT 1", currency
        )

        body = (await gql(INVOICE, make_token(), {"id": invoice})).json()

        assert "errors" not in body, body["errors"]
        total = body["data"]["node"]["total"]["amount"]
        assert Decimal(total).as_tuple().exponent == -MINOR_UNITS[currency]


@settings(max_examples=40, deadline=None)
@given(
    currency=st.sampled_from(CODES),
    quantity=st.decimals(min_value=-1000, max_value=10**6, places=3),
    unit=st.decimals(min_value=0, max_value=10**4, places=6),
    tax=st.decimals(min_value=0, max_value=Decimal("0.5"), places=4),
)
async def test_every_currency_bills_alike_in_sql_and_python(
    scratch_gql: Gql, scratch_pool: asyncpg.Pool, currency: str, quantity: Decimal,
    unit: Decimal, tax: Decimal,
) -> None:  # fmt: skip
    # given an invoice line priced and rounded by Python in any currency of the table
    amount = round_money(exact_product(quantity, unit), currency)
    totals = invoice_totals([amount], tax, currency)

    # when it is written (the database's CHECKs round the same figures themselves)
    async with scratch_pool.acquire() as conn:
        account = await new_account(conn, currency=currency, tax_rate=str(tax))
        invoice = await write_invoice(conn, account, currency, tax, quantity, unit, amount, totals)

    # then the graph shows it at the currency's minor unit, as Python computed it
    body = (await scratch_gql(INVOICE, make_token("customer", [account]), {"id": invoice})).json()
    assert "errors" not in body, body["errors"]
    shown = body["data"]["node"]
    assert shown["total"]["amount"] == str(totals.total)
    assert shown["lines"]["nodes"][0]["amount"] == {"amount": str(amount), "currency": currency}


async def write_invoice(
    conn: asyncpg.Connection, account: str, currency: str, tax: Decimal, quantity: Decimal,
    unit: Decimal, amount: Decimal, totals: Any,
) -> str:  # fmt: skip
    invoice = new_id("inv")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    number = f"INV-2099-{secrets.randbelow(10**9):09d}"
    await conn.execute(
        "INSERT INTO invoices (id, account_id, number, status, currency, tax_rate, period_start,"
        " period_end, issued_at, subtotal, tax, total, amount_paid, created_at)"
        " VALUES ($1, $2, $3, 'OPEN', $4, $5, $6, $6, $6, $7, $8, $9, 0, $6)",
        invoice, account, number, currency, tax, at, totals.subtotal, totals.tax, totals.total,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO invoice_lines (id, invoice_id, account_id, currency, position, kind,"
        " description, quantity, unit_amount, amount) VALUES ($1, $2, $3, $4, 1, 'ADJUSTMENT',"
        " 'Adjustment', $5, $6, $7)",
        new_id("il"), invoice, account, currency, quantity, unit, amount,
    )  # fmt: skip
    return invoice


INSERT_ACCOUNT = "INSERT INTO accounts (id, name, currency) VALUES ($1, 'Unbillable', $2)"
INSERT_PLAN = (
    "INSERT INTO plans (id, code, name, kind, interval, currency, amount)"
    " VALUES ($1, $2, 'Unbillable', 'BASE', 'MONTH', $3, 10)"
)


@pytest.mark.parametrize("currency", ["XXX", "ABC", "XAU", "BGN"])
@pytest.mark.parametrize(
    ("constraint", "write"),
    [
        ("accounts_currency_billable", lambda c: (INSERT_ACCOUNT, new_id("acct"), c)),
        ("plans_currency_billable", lambda c: (INSERT_PLAN, new_id("plan"), f"p{new_id('x')}", c)),
    ],
    ids=["account", "plan"],
)
async def test_a_currency_the_system_cannot_bill_is_refused_on_write(
    scratch_pool: asyncpg.Pool,
    currency: str,
    constraint: str,
    write: Callable[[str], tuple[Any, ...]],
) -> None:
    sql, *args = write(currency)
    with pytest.raises(asyncpg.ForeignKeyViolationError) as refused:
        await scratch_pool.execute(sql, *args)

    assert refused.value.constraint_name == constraint
    assert f'Key (currency)=({currency}) is not present in table "currencies"' in str(
        refused.value.detail
    )


async def test_the_gateway_refuses_to_start_when_the_database_bills_other_currencies(
    fresh_database: str,
) -> None:
    # given a database whose currency table lost a currency Python bills in
    await migrate.migrate(fresh_database)
    conn = await asyncpg.connect(fresh_database)
    try:
        await conn.execute("DELETE FROM currencies WHERE code = 'XAD'")
    finally:
        await conn.close()

    # when the gateway starts on it, then it refuses, saying why
    with pytest.raises(ConfigError, match="currencies differ"):
        async with serving(fresh_database, FixedClock(datetime(2026, 11, 15, tzinfo=UTC))):
            pass
