"""What the bench asks: each workload is a list of (token, body) requests that wrk
sends in turn, built from the dataset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import asyncpg

from auth.tokens import mint
from bench import documents
from bench.dataset import AS_OF, BIG_ACCOUNT
from gateway.settings import DEV_SECRET
from resolvers.periods import iso

NAMES: Final = ("core", "full", "partner", "usage-day", "usage-hour")
TOKEN_TTL: Final = 86_400

# The dashboard's kind of account: an active subscription with add-ons and more than
# a page of invoices; the first ones by id, so every run asks for the same.
DASHBOARD_ACCOUNTS: Final = """
SELECT a.id FROM accounts a
 WHERE EXISTS (SELECT 1 FROM subscriptions s JOIN subscription_items i ON i.subscription_id = s.id
                WHERE s.account_id = a.id AND s.status = 'ACTIVE')
   AND (SELECT count(*) FROM invoices v WHERE v.account_id = a.id) > 20
 ORDER BY a.id LIMIT $1"""
BIGGEST_PARTNER: Final = """
SELECT partner_id, count(*) AS n FROM accounts WHERE partner_id IS NOT NULL
 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"""


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    requests: list[tuple[str, dict[str, Any]]]  # (bearer token, JSON body)
    floor: bool = False  # the floor answers it too


def token(role: str, accounts: list[str] | None = None, partner: str | None = None) -> str:
    """Every scope; the gateway's dev secret (the bench clears BILLING_JWT_SECRET)."""
    return mint(
        DEV_SECRET,
        role=role,
        accounts=accounts or [],
        partner=partner,
        ttl_seconds=TOKEN_TTL,
    )


def body(document: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {"query": document, "variables": variables}


def window(days: int) -> dict[str, str]:
    return {"from": iso(AS_OF - timedelta(days=days)), "to": iso(AS_OF)}


async def build(dsn: str, names: list[str], dashboards: int) -> list[Workload]:
    conn = await asyncpg.connect(dsn)
    try:
        accounts = [r["id"] for r in await conn.fetch(DASHBOARD_ACCOUNTS, dashboards)]
        partner = await conn.fetchrow(BIGGEST_PARTNER)
    finally:
        await conn.close()
    if not accounts or partner is None:
        raise RuntimeError("the dataset has no dashboard account or no partner")
    made = {w.name: w for w in _workloads(accounts, partner["partner_id"], int(partner["n"]))}
    return [made[name] for name in names]


def _workloads(accounts: list[str], partner: str, managed: int) -> list[Workload]:
    mine = [(token("customer", [a]), a) for a in accounts]
    big = token("customer", [BIG_ACCOUNT])
    n = len(accounts)
    return [
        Workload(
            "core",
            f"dashboard core: account, subscriptions, 20 invoices with lines ({n} accounts"
            " in turn)",
            [(t, body(documents.CORE, {"id": a})) for t, a in mine],
            floor=True,
        ),
        Workload(
            "full",
            "full dashboard: core + entitlements, upcoming invoice, 30-day DAY series",
            [(t, body(documents.FULL, {"id": a} | window(30))) for t, a in mine],
            floor=True,
        ),
        Workload(
            "partner",
            f"partner: accounts(first: 50) nested, partner token ({managed} accounts managed)",
            [(token("partner", partner=partner), body(documents.PARTNER, {"first": 50}))],
        ),
        Workload(
            "usage-day",
            "usage series over 10 M events: DAY over 30 days",
            [(big, body(documents.USAGE, {"id": BIG_ACCOUNT, "g": "DAY"} | window(30)))],
        ),
        Workload(
            "usage-hour",
            "usage series over 10 M events: HOUR over 7 days",
            [(big, body(documents.USAGE, {"id": BIG_ACCOUNT, "g": "HOUR"} | window(7)))],
        ),
    ]
