"""Acceptance 3 and 4: a token sees exactly its reach, and an object outside it is
indistinguishable from one that does not exist, on every path that can name it.

A and B are two seeded accounts managed by different partners. A customer token of
A asks for B's objects every way the graph allows; each answer is compared, byte for
byte, with the answer for an id of the same prefix that exists nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import SEED_ACCOUNTS, SEED_AS_OF, make_token

from auth.scopes import ALL_SCOPES
from loaders import Loaders
from loaders.base import PageArgs
from loaders.db import Db
from loaders.reach import Reach
from resolvers.errors import NOT_FOUND_MESSAGE

REQUEST_ID = "isolation-test"

# --- documents -----------------------------------------------------------------------

ACCOUNT = "query($id: ID!) { account(id: $id) { id name currency } }"

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Account { name }
    ... on Partner { name }
    ... on Subscription { status }
    ... on SubscriptionItem { quantity }
    ... on Invoice { number }
    ... on InvoiceLine { description }
  }
}"""

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"

ALIASES = """
query($other: ID!, $mine: ID!) {
  a: account(id: $other) { id name }
  b: account(id: $mine) { id name }
}"""

UPCOMING = """
query($mine: ID!, $sub: ID!) {
  account(id: $mine) { id upcomingInvoice(subscriptionId: $sub) { total { amount currency } } }
}"""

PREVIEW = """
query($sub: ID!, $plan: ID!) {
  node(id: $sub) {
    id
    ... on Subscription { previewPlanChange(planId: $plan) { quoteId total { amount } } }
  }
}"""

PARTNER_OF_ACCOUNT = """
query($mine: ID!) {
  account(id: $mine) { partner { id accounts { totalCount nodes { id } } } }
}"""

PARTNER_NODE = """
query($id: ID!) {
  node(id: $id) { id ... on Partner { accounts(first: 100) { totalCount nodes { id } } } }
}"""

ACCOUNTS = "{ accounts(first: 100) { totalCount nodes { id } } }"

VIEWER = "{ viewer { subject role scopes accountCount partner { id } } }"

# --- the two tenants -----------------------------------------------------------------

PICK_A = """
SELECT a.id, a.partner_id FROM accounts a
 WHERE a.partner_id IN (SELECT partner_id FROM accounts WHERE partner_id IS NOT NULL
                         GROUP BY partner_id HAVING count(*) >= 2)
   AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = a.id
                AND s.status IN ('TRIALING', 'ACTIVE', 'PAST_DUE'))
 ORDER BY a.id LIMIT 1"""

# B: another partner's account with a live subscription that has add-on items, an
# invoice of that subscription with lines, and usage.
PICK_B = """
SELECT a.id AS account, a.partner_id AS partner, s.id AS subscription, s.plan_id,
       s.currency, (SELECT interval FROM plans WHERE id = s.plan_id) AS interval,
       (SELECT min(i.id) FROM subscription_items i WHERE i.subscription_id = s.id) AS item,
       (SELECT min(v.id) FROM invoices v WHERE v.account_id = a.id
           AND EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = v.id)) AS invoice
  FROM accounts a JOIN subscriptions s ON s.account_id = a.id
 WHERE a.partner_id IS NOT NULL AND a.partner_id <> $1
   AND s.status IN ('TRIALING', 'ACTIVE', 'PAST_DUE') AND NOT s.cancel_at_period_end
   AND EXISTS (SELECT 1 FROM subscription_items i WHERE i.subscription_id = s.id)
   AND EXISTS (SELECT 1 FROM usage_hourly h WHERE h.account_id = a.id)
 ORDER BY a.id, s.id LIMIT 1"""

PICK_LINE = "SELECT min(id) FROM invoice_lines WHERE invoice_id = $1"
PICK_USAGE = """
SELECT meter_id, min(hour) AS first, max(hour) + interval '1 hour' AS stop,
       sum(quantity_sum) AS total
  FROM usage_hourly WHERE account_id = $1 GROUP BY meter_id ORDER BY meter_id LIMIT 1"""
PICK_TARGET_PLAN = """
SELECT id FROM plans WHERE kind = 'BASE' AND active AND currency = $1 AND interval = $2
   AND id <> $3 ORDER BY id LIMIT 1"""
A_LIVE_SUBSCRIPTION = """
SELECT id FROM subscriptions WHERE account_id = $1
   AND status IN ('TRIALING', 'ACTIVE', 'PAST_DUE') AND NOT cancel_at_period_end
 ORDER BY created_at, id LIMIT 1"""
PARTNER_ACCOUNTS = "SELECT id FROM accounts WHERE partner_id = $1 ORDER BY created_at, id"


@dataclass(frozen=True)
class Tenants:
    a: str
    a_partner: str
    a_subscription: str
    b: str
    b_partner: str
    b_subscription: str
    b_item: str
    b_invoice: str
    b_line: str
    b_meter: str
    b_usage_from: datetime
    b_usage_to: datetime
    b_usage_total: Decimal
    target_plan: str

    def b_objects(self) -> dict[str, str]:
        return {
            "acct_": self.b,
            "ptr_": self.b_partner,
            "sub_": self.b_subscription,
            "si_": self.b_item,
            "inv_": self.b_invoice,
            "il_": self.b_line,
        }


def missing(prefix: str) -> str:
    """An id of that type that exists nowhere."""
    return f"{prefix}doesnotexist0000"


@pytest.fixture(scope="module")
async def t(seeded_pool: asyncpg.Pool) -> Tenants:
    a = await seeded_pool.fetchrow(PICK_A)
    assert a is not None, "the seed has no account whose partner manages others"
    b = await seeded_pool.fetchrow(PICK_B, a["partner_id"])
    assert b is not None, "the seed has no other partner's account with items and usage"
    usage = await seeded_pool.fetchrow(PICK_USAGE, b["account"])
    assert usage is not None
    plan = await seeded_pool.fetchval(PICK_TARGET_PLAN, b["currency"], b["interval"], b["plan_id"])
    return Tenants(
        a=a["id"],
        a_partner=a["partner_id"],
        a_subscription=await seeded_pool.fetchval(A_LIVE_SUBSCRIPTION, a["id"]),
        b=b["account"],
        b_partner=b["partner"],
        b_subscription=b["subscription"],
        b_item=b["item"],
        b_invoice=b["invoice"],
        b_line=await seeded_pool.fetchval(PICK_LINE, b["invoice"]),
        b_meter=usage["meter_id"],
        b_usage_from=usage["first"],
        b_usage_to=usage["stop"],
        b_usage_total=usage["total"],
        target_plan=plan,
    )


@pytest.fixture(scope="module")
def a_token(t: Tenants) -> str:
    return make_token("customer", accounts=[t.a])


async def ask(
    client: httpx.AsyncClient, query: str, token: str, **variables: Any
) -> httpx.Response:
    """Posts with a fixed request id, so two answers can be compared byte for byte."""
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": REQUEST_ID}
    body = {"query": query, "variables": variables}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


def assert_not_found_at(response: httpx.Response, *paths: list[str | int]) -> None:
    """One NOT_FOUND error per path, with the one message, and nothing else."""
    errors = response.json()["errors"]
    assert sorted(tuple(e["path"]) for e in errors) == sorted(tuple(p) for p in paths), errors
    for error in errors:
        assert error["message"] == NOT_FOUND_MESSAGE
        assert error["extensions"] == {"code": "NOT_FOUND", "requestId": REQUEST_ID}


async def assert_same_as_missing(
    client: httpx.AsyncClient,
    query: str,
    token: str,
    out_of_reach: dict[str, Any],
    nonexistent: dict[str, Any],
) -> httpx.Response:
    """The answer for out-of-reach ids is byte-identical to the one for absent ids."""
    seen = await ask(client, query, token, **out_of_reach)
    absent = await ask(client, query, token, **nonexistent)
    assert seen.content == absent.content
    return seen


# --- acceptance 3: another tenant's objects, every path -------------------------------


async def test_account_of_another_tenant_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, t: Tenants, a_token: str
) -> None:
    # given A's customer token, when it asks for account B and for an absent account
    response = await assert_same_as_missing(
        client, ACCOUNT, a_token, {"id": t.b}, {"id": missing("acct_")}
    )

    # then both are null with the same NOT_FOUND
    assert response.json()["data"] == {"account": None}
    assert_not_found_at(response, ["account"])


@pytest.mark.parametrize("prefix", ["acct_", "ptr_", "sub_", "si_", "inv_", "il_"])
async def test_node_of_another_tenant_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, t: Tenants, a_token: str, prefix: str
) -> None:
    # given one of B's objects, which an admin can see
    b_id = t.b_objects()[prefix]
    admin_view = await ask(client, NODE, make_token("admin"), id=b_id)
    assert admin_view.json()["data"]["node"]["id"] == b_id

    # when A's token asks node(id:) for it, and for an absent id of the same type
    response = await assert_same_as_missing(
        client, NODE, a_token, {"id": b_id}, {"id": missing(prefix)}
    )

    # then the answers are the same null NOT_FOUND
    assert response.json()["data"] == {"node": None}
    assert_not_found_at(response, ["node"])


async def test_nodes_mixing_own_and_other_tenant_ids(
    client: httpx.AsyncClient, t: Tenants, a_token: str
) -> None:
    # given A's own account followed by every object of B (or absent ids of each type)
    prefixes = list(t.b_objects())
    others = [t.b_objects()[p] for p in prefixes]
    absent = [missing(p) for p in prefixes]

    # when A's token asks nodes(ids:) for each list
    response = await assert_same_as_missing(
        client, NODES, a_token, {"ids": [t.a, *others]}, {"ids": [t.a, *absent]}
    )

    # then A's account is there, every other slot null with NOT_FOUND at its index
    nodes = response.json()["data"]["nodes"]
    assert nodes == [{"__typename": "Account", "id": t.a}] + [None] * len(others)
    slots: list[list[str | int]] = [["nodes", i] for i in range(1, len(nodes))]
    assert_not_found_at(response, *slots)


async def test_aliases_do_not_let_one_field_leak_another(
    client: httpx.AsyncClient, t: Tenants, a_token: str
) -> None:
    # given one request naming B and A under two aliases
    response = await assert_same_as_missing(
        client,
        ALIASES,
        a_token,
        {"other": t.b, "mine": t.a},
        {"other": missing("acct_"), "mine": t.a},
    )

    # then B's alias is null with NOT_FOUND, A's is answered in full
    data = response.json()["data"]
    assert data["a"] is None
    assert data["b"]["id"] == t.a
    assert_not_found_at(response, ["a"])


async def test_nested_upcoming_invoice_of_another_tenants_subscription(
    client: httpx.AsyncClient, t: Tenants, a_token: str, instant: datetime
) -> None:
    # given A's own live subscription answers (the control)
    own = await ask(client, UPCOMING, a_token, mine=t.a, sub=t.a_subscription)
    assert own.json()["data"]["account"]["upcomingInvoice"] is not None

    # when A's account is asked for the upcoming invoice of B's subscription
    response = await assert_same_as_missing(
        client,
        UPCOMING,
        a_token,
        {"mine": t.a, "sub": t.b_subscription},
        {"mine": t.a, "sub": missing("sub_")},
    )

    # then only that field is null, NOT_FOUND, exactly as for an absent subscription
    assert response.json()["data"] == {"account": {"id": t.a, "upcomingInvoice": None}}
    assert_not_found_at(response, ["account", "upcomingInvoice"])


async def test_preview_plan_change_of_another_tenants_subscription(
    client: httpx.AsyncClient, t: Tenants, a_token: str, instant: datetime
) -> None:
    # given the preview of B's subscription does quote for an admin (the control)
    admin_view = await ask(
        client, PREVIEW, make_token("admin"), sub=t.b_subscription, plan=t.target_plan
    )
    assert admin_view.json()["data"]["node"]["previewPlanChange"]["quoteId"]

    # when A's token asks for it
    response = await assert_same_as_missing(
        client,
        PREVIEW,
        a_token,
        {"sub": t.b_subscription, "plan": t.target_plan},
        {"sub": missing("sub_"), "plan": t.target_plan},
    )

    # then no quote: the subscription itself is not found
    assert response.json()["data"] == {"node": None}
    assert_not_found_at(response, ["node"])


async def test_partner_accounts_show_only_the_tokens_side(
    client: httpx.AsyncClient, seeded_pool: asyncpg.Pool, t: Tenants, a_token: str
) -> None:
    # given A's partner manages more accounts than A in the database
    managed = [r["id"] for r in await seeded_pool.fetch(PARTNER_ACCOUNTS, t.a_partner)]
    assert t.a in managed
    assert len(managed) >= 2

    # when A's token follows A -> partner -> accounts, or asks the partner as a node
    via_account = (await ask(client, PARTNER_OF_ACCOUNT, a_token, mine=t.a)).json()
    via_node = (await ask(client, PARTNER_NODE, a_token, id=t.a_partner)).json()

    # then the partner's list holds A alone
    only_a = {"totalCount": 1, "nodes": [{"id": t.a}]}
    assert "errors" not in via_account
    assert "errors" not in via_node
    assert via_account["data"]["account"]["partner"] == {"id": t.a_partner, "accounts": only_a}
    assert via_node["data"]["node"] == {"id": t.a_partner, "accounts": only_a}


# --- acceptance 4: each role's reach --------------------------------------------------


async def test_customer_accounts_list_exactly_its_own(
    client: httpx.AsyncClient, t: Tenants, a_token: str
) -> None:
    body = (await ask(client, ACCOUNTS, a_token)).json()
    assert body["data"]["accounts"] == {"totalCount": 1, "nodes": [{"id": t.a}]}


async def test_partner_sees_exactly_the_accounts_linked_to_it(
    client: httpx.AsyncClient, seeded_pool: asyncpg.Pool, t: Tenants
) -> None:
    # given a partner token for A's partner, and its accounts in the database
    token = make_token("partner", partner=t.a_partner)
    linked = [r["id"] for r in await seeded_pool.fetch(PARTNER_ACCOUNTS, t.a_partner)]

    # when it lists accounts and asks who it is
    accounts = (await ask(client, ACCOUNTS, token)).json()["data"]["accounts"]
    viewer = (await ask(client, VIEWER, token)).json()["data"]["viewer"]

    # then it sees exactly those, in the root list's order, and counts them
    assert accounts == {"totalCount": len(linked), "nodes": [{"id": i} for i in linked]}
    assert viewer["accountCount"] == len(linked)
    # and another partner's account is as absent as a missing one
    response = await assert_same_as_missing(
        client, ACCOUNT, token, {"id": t.b}, {"id": missing("acct_")}
    )
    assert_not_found_at(response, ["account"])


async def test_admin_sees_every_account(
    client: httpx.AsyncClient, seeded_pool: asyncpg.Pool
) -> None:
    token = make_token("admin")
    every = [r["id"] for r in await seeded_pool.fetch("SELECT id FROM accounts")]

    accounts = (await ask(client, ACCOUNTS, token)).json()["data"]["accounts"]
    viewer = (await ask(client, VIEWER, token)).json()["data"]["viewer"]

    assert accounts["totalCount"] == SEED_ACCOUNTS == len(every)
    assert sorted(n["id"] for n in accounts["nodes"]) == sorted(every)
    assert viewer["accountCount"] == SEED_ACCOUNTS


async def test_viewer_reports_each_roles_token(client: httpx.AsyncClient, t: Tenants) -> None:
    cases = {
        "customer": (make_token("customer", accounts=[t.a], scopes=["invoices:read"]), None),
        "partner": (make_token("partner", partner=t.a_partner), {"id": t.a_partner}),
        "admin": (make_token("admin", scopes=["usage:read", "accounts:read"]), None),
    }
    expected_scopes = {
        "customer": ["invoices:read"],
        "partner": sorted(ALL_SCOPES),
        "admin": ["accounts:read", "usage:read"],
    }
    for role, (token, partner) in cases.items():
        viewer = (await ask(client, VIEWER, token)).json()["data"]["viewer"]
        assert viewer["role"] == role.upper()
        assert viewer["subject"] == f"dev:{role}"
        assert viewer["scopes"] == expected_scopes[role]
        assert viewer["partner"] == partner


# --- the loaders' SQL is scoped by itself ---------------------------------------------


async def test_loaders_read_nothing_outside_their_reach(
    seeded_pool: asyncpg.Pool, t: Tenants
) -> None:
    """A resolver that forgot a check would still read nothing: the SQL carries reach."""
    usage_key = (t.b, t.b_meter, t.b_usage_from, t.b_usage_to)
    sub_page = (t.b, PageArgs(size=10, filters=(None, SEED_AS_OF)))
    invoice_page = (t.b, PageArgs(size=10, filters=(None, None, None)))
    by_subscription = (t.b_subscription, PageArgs(size=10, filters=(None, None, None)))
    backward = PageArgs(size=10, backward=True)

    async def read(reach: Reach) -> dict[str, Any]:
        db = Db(seeded_pool)
        try:
            loaders = Loaders(db, reach)
            return {
                "account": await loaders.account.load(t.b),
                "partner": await loaders.partner.load(t.b_partner),
                "subscription": await loaders.subscription.load(t.b_subscription),
                "item": await loaders.item.load(t.b_item),
                "items": await loaders.items.load(t.b_subscription),
                "live_subscriptions": await loaders.live_subscriptions.load(t.b),
                "invoice": await loaders.invoice.load(t.b_invoice),
                "line": await loaders.line.load(t.b_line),
                "subscription_page": (await loaders.subscription_page.load(sub_page)).rows,
                "invoice_page": (await loaders.invoice_page.load(invoice_page)).rows,
                "subscription_invoices": (
                    await loaders.invoice_page_by_subscription.load(by_subscription)
                ).rows,
                "line_page": (await loaders.line_page.load((t.b_invoice, backward))).rows,
                "partner_accounts": [
                    r["id"]
                    for r in (
                        await loaders.account_page_by_partner.load((t.b_partner, backward))
                    ).rows
                    if r["id"] == t.b
                ],
                "usage_buckets": await loaders.usage_buckets.load((*usage_key, "day")),
                "usage_total": await loaders.usage_total.load(usage_key),
                "entitlement_sources": await loaders.entitlement_sources.load(t.b),
                "account_count": await loaders.account_count(),
            }
        finally:
            await db.close()

    # given the same loaders bound to B's reach read B's data (the control)
    own = await read(Reach.only([t.b]))
    assert all(own[k] for k in own), {k: v for k, v in own.items() if not v}
    assert own["usage_total"][0] == t.b_usage_total

    # when they are bound to A's reach
    other = await read(Reach.only([t.a]))

    # then every by-id load is None, every list empty, usage zero, one account counted
    assert other == {
        "account": None,
        "partner": None,
        "subscription": None,
        "item": None,
        "items": [],
        "live_subscriptions": [],
        "invoice": None,
        "line": None,
        "subscription_page": [],
        "invoice_page": [],
        "subscription_invoices": [],
        "line_page": [],
        "partner_accounts": [],
        "usage_buckets": [],
        "usage_total": (Decimal(0), Decimal(0)),
        "entitlement_sources": [],
        "account_count": 1,
    }


# --- mutation inputs: another tenant's ids are as absent as missing ones ----------------

MUTATIONS = {
    "cancelSubscription": (
        "mutation($id: ID!) { cancelSubscription(input: {id: $id}) {"
        " userErrors { field message code } subscription { id } } }",
        "sub_",
    ),
    "resumeSubscription": (
        "mutation($id: ID!) { resumeSubscription(input: {id: $id}) {"
        " userErrors { field message code } subscription { id } } }",
        "sub_",
    ),
    "changeSubscriptionPlan": (
        "mutation($id: ID!, $plan: ID!) { changeSubscriptionPlan(input: {id: $id, planId: $plan})"
        " { userErrors { field message code } subscription { id } invoice { id } } }",
        "sub_",
    ),
    "recordUsage": (
        'mutation($id: ID!) { recordUsage(input: {accountId: $id, events: [{meter: "requests",'
        ' quantity: "1", occurredAt: "2026-11-14T00:00:00Z", idempotencyKey: "iso"}]})'
        " { recorded userErrors { field message code } account { id } } }",
        "acct_",
    ),
    "grantEntitlement": (
        'mutation($id: ID!) { grantEntitlement(input: {accountId: $id, feature: "sso"})'
        " { userErrors { field message code } entitlement { enabled } } }",
        "acct_",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_mutation_inputs_naming_another_tenant_are_not_found_like_missing_ones(
    client: httpx.AsyncClient, seeded_pool: asyncpg.Pool, t: Tenants, a_token: str, name: str
) -> None:
    document, prefix = MUTATIONS[name]
    b_id = t.b_subscription if prefix == "sub_" else t.b
    written = (
        "SELECT (SELECT count(*) FROM outbox_events), (SELECT max(version) FROM subscriptions)"
    )
    before = tuple(await seeded_pool.fetchrow(written))

    # when A's token names B's object, and an absent one of the same type
    response = await assert_same_as_missing(
        client,
        document,
        a_token,
        {"id": b_id, "plan": t.target_plan},
        {"id": missing(prefix), "plan": t.target_plan},
    )

    # then the payload's object is null with NOT_FOUND, and nothing was written
    body = response.json()
    assert body["data"][name]["userErrors"] == [
        {"field": [], "message": NOT_FOUND_MESSAGE, "code": "NOT_FOUND"}
    ]
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    assert tuple(await seeded_pool.fetchrow(written)) == before
