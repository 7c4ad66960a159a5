"""The floor's answer to the CORE document: two SQL statements, plain dicts.

It returns what the gateway returns under `data` for bench/documents.py's CORE, with
the gateway's own value functions (money at the currency's scale, quantities, instants,
a subscription's state at `now`, cursors) but no GraphQL engine, no dataloaders and no
per-field machinery: that difference is what the bench measures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol

from loaders.base import Row
from loaders.catalog import Catalog
from resolvers import cursors
from resolvers.connections import ListOf
from resolvers.lifecycle import State, state_at
from resolvers.money import format_decimal, round_money
from resolvers.periods import iso
from resolvers.values import quantity, unit_money

INVOICES_SHOWN: Final = 20
SUBSCRIPTIONS_SHOWN: Final = 10
LINES_SHOWN: Final = 100

# 1. The account with all of it the dashboard shows but invoices.
ACCOUNT: Final = """
SELECT a.id, a.name, a.currency, a.tax_rate, p.name AS partner_name,
       (SELECT count(*) FROM invoices i WHERE i.account_id = a.id) AS invoice_count,
       array(SELECT s FROM subscriptions s WHERE s.account_id = a.id
              ORDER BY s.created_at DESC, s.id DESC) AS subscriptions,
       array(SELECT i FROM subscription_items i WHERE i.account_id = a.id
              ORDER BY i.created_at, i.id) AS items,
       array(SELECT g FROM entitlement_grants g WHERE g.account_id = a.id
              ORDER BY g.created_at, g.id) AS grants
  FROM accounts a LEFT JOIN partners p ON p.id = a.partner_id
 WHERE a.id = $1 AND (a.id = ANY($2::text[]) OR $2::text[] IS NULL)"""

# 2. The newest invoices (one more than shown: is there a next page?) with their lines;
# the account was found in reach by statement 1.
INVOICES: Final = f"""
SELECT i.id, i.number, i.status, i.currency, i.issued_at, i.total, i.amount_paid, i.created_at,
       array(SELECT l FROM invoice_lines l WHERE l.invoice_id = i.id
              ORDER BY l.position, l.id LIMIT {LINES_SHOWN}) AS lines
  FROM invoices i WHERE i.account_id = $1
 ORDER BY i.created_at DESC, i.id DESC LIMIT {INVOICES_SHOWN + 1}"""


class Conn(Protocol):
    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...
    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...


@dataclass(frozen=True)
class Ask:
    """What one request knows besides its variables."""

    catalog: Catalog
    reach: list[str] | None  # None: every account
    now: datetime
    cursor_secret: bytes


async def account_rows(conn: Conn, ask: Ask, account_id: str) -> tuple[Row, list[Row]] | None:
    account = await conn.fetchrow(ACCOUNT, account_id, ask.reach)
    if account is None:
        return None
    return account, await conn.fetch(INVOICES, account["id"])


async def core(conn: Conn, ask: Ask, variables: dict[str, Any]) -> dict[str, Any]:
    found = await account_rows(conn, ask, variables["id"])
    return {"account": None if found is None else core_fields(ask, *found)}


def core_fields(ask: Ask, account: Row, invoices: Sequence[Row]) -> dict[str, Any]:
    subs = account["subscriptions"]
    partner = account["partner_name"]
    items = items_by_subscription(account)
    return {
        "id": account["id"],
        "name": account["name"],
        "currency": account["currency"].strip(),
        "partner": None if partner is None else {"name": partner},
        "subscriptions": {
            "totalCount": len(subs),
            "nodes": [subscription(ask, s, items[s["id"]]) for s in subs[:SUBSCRIPTIONS_SHOWN]],
        },
        "invoices": invoice_page(ask, account["id"], account["invoice_count"], invoices),
    }


def items_by_subscription(account: Row) -> dict[str, list[Row]]:
    """Add-ons by subscription, oldest first."""
    items: dict[str, list[Row]] = defaultdict(list)
    for item in account["items"]:
        items[item["subscription_id"]].append(item)
    return items


def subscription(ask: Ask, row: Row, items: Sequence[Row]) -> dict[str, Any]:
    state = state_of(ask, row)
    plans = ask.catalog.by_id("plans")
    plan = plans[row["plan_id"]]
    return {
        "id": row["id"],
        "status": state.status,
        "quantity": row["quantity"],
        "currentPeriodEnd": iso(state.period_end),
        "cancelAtPeriodEnd": state.cancel_at_period_end,
        "plan": {"code": plan["code"], "name": plan["name"], "price": price(plan)},
        "items": [item(i, plans[i["plan_id"]]) for i in items],
    }


def item(row: Row, plan: Row) -> dict[str, Any]:
    amount = money(plan["amount"], plan["currency"])
    return {
        "quantity": row["quantity"],
        "plan": {"code": plan["code"], "price": {"amount": amount}},
    }


def price(plan: Row) -> dict[str, str]:
    return {"amount": money(plan["amount"], plan["currency"]), "currency": plan["currency"]}


def invoice_page(ask: Ask, account_id: str, count: int, rows: Sequence[Row]) -> dict[str, Any]:
    shown = rows[:INVOICES_SHOWN]
    end = None
    if shown:
        last = shown[-1]
        bound = ListOf("Account.invoices", account_id, (None, None, None)).binding()
        end = cursors.encode(ask.cursor_secret, bound, (last["created_at"], last["id"]))
    meters = ask.catalog.by_id("meters")
    return {
        "totalCount": count,
        "pageInfo": {"hasNextPage": len(rows) > INVOICES_SHOWN, "endCursor": end},
        "nodes": [invoice(row, meters) for row in shown],
    }


def invoice(row: Row, meters: dict[str, Row]) -> dict[str, Any]:
    c = row["currency"]
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "issuedAt": optional_iso(row["issued_at"]),
        "total": {"amount": money(row["total"], c), "currency": c},
        "amountDue": {"amount": money(row["total"] - row["amount_paid"], c)},
        "lines": {"nodes": [line(ln, meters) for ln in row["lines"]]},
    }


def line(row: Row, meters: dict[str, Row]) -> dict[str, Any]:
    c, meter = row["currency"], row["meter_id"]
    return {
        "kind": row["kind"],
        "description": row["description"],
        "quantity": format_decimal(quantity(row["quantity"])),
        "unitAmount": {"amount": format_decimal(unit_money(row["unit_amount"], c).amount)},
        "amount": {"amount": money(row["amount"], c)},
        "meter": None if meter is None else {"key": meters[meter]["key"]},
    }


def state_of(ask: Ask, row: Row) -> State:
    """The subscription at the request's instant (the plan's interval sets its periods)."""
    interval = ask.catalog.by_id("plans")[row["plan_id"]]["interval"]
    return state_at({**row, "interval": interval}, ask.now)


def money(value: Decimal, currency: str) -> str:
    return format_decimal(round_money(value, currency))


def optional_decimal(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


def optional_iso(value: datetime | None) -> str | None:
    return None if value is None else iso(value)
