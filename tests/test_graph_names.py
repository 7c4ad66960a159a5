"""Every name of the published graph's query side exists and answers with seeded data."""

from __future__ import annotations

import pytest
from conftest import Gql, make_token

from schema import schema

CONTRACT_FIELDS = {
    "Query": "viewer account accounts node nodes plans meters features",
    "Viewer": "subject role scopes partner accountCount",
    "Partner": "id name accounts",
    "Account": "id name currency createdAt partner subscriptions invoices upcomingInvoice usage"
    " entitlements entitlement",
    "Plan": "id code name interval price usagePrices entitlements",
    "Subscription": "id account plan status quantity currentPeriodStart currentPeriodEnd"
    " cancelAtPeriodEnd canceledAt trialEnd createdAt items invoices previewPlanChange",
    "PlanChangePreview": "quoteId expiresAt lines total",
    "Invoice": "id number account subscription status currency periodStart periodEnd issuedAt"
    " dueAt paidAt subtotal tax total amountPaid amountDue lines",
    "InvoiceLine": "id kind description quantity unitAmount amount periodStart periodEnd meter",
    "Meter": "id key name unit aggregation",
    "UsageSeries": "meter from to granularity total points",
    "UsagePoint": "start quantity",
    "Feature": "id key name kind meter",
    "Entitlement": "feature enabled limit used remaining resetsAt source expiresAt",
    "Money": "amount currency",
}
CONTRACT_ENUMS = {
    "SubscriptionStatus": "TRIALING ACTIVE PAST_DUE PAUSED CANCELED",
    "InvoiceStatus": "DRAFT OPEN PAID VOID UNCOLLECTIBLE",
    "InvoiceLineKind": "SUBSCRIPTION USAGE PRORATION ADJUSTMENT",
    "BillingInterval": "MONTH YEAR",
    "UsageGranularity": "HOUR DAY MONTH",
    "MeterAggregation": "SUM MAX",
    "FeatureKind": "BOOLEAN LIMIT QUOTA",
    "EntitlementSource": "PLAN GRANT",
    "Role": "CUSTOMER PARTNER ADMIN",
}
NODE_TYPES = "Account Partner Plan Subscription SubscriptionItem Invoice InvoiceLine Meter Feature"


@pytest.mark.parametrize("type_name", sorted(CONTRACT_FIELDS))
def test_contract_fields_exist(type_name: str) -> None:
    graphql_type = schema._schema.get_type(type_name)
    assert graphql_type is not None, type_name
    missing = set(CONTRACT_FIELDS[type_name].split()) - set(graphql_type.fields)  # type: ignore[attr-defined]
    assert missing == set()


@pytest.mark.parametrize("enum_name", sorted(CONTRACT_ENUMS))
def test_contract_enums_have_exactly_their_values(enum_name: str) -> None:
    graphql_type = schema._schema.get_type(enum_name)
    assert set(graphql_type.values) == set(CONTRACT_ENUMS[enum_name].split())  # type: ignore[union-attr]


def test_every_object_type_with_an_id_is_a_node() -> None:
    node = schema._schema.get_type("Node")
    implementations = schema._schema.get_possible_types(node)  # type: ignore[arg-type]
    assert {t.name for t in implementations} == set(NODE_TYPES.split())


def test_scalars_are_the_contracts() -> None:
    sdl = schema.as_str()
    assert "scalar Decimal" in sdl
    assert "scalar DateTime" in sdl
    assert "Float" not in sdl


EVERYTHING = """
query {
  viewer { subject role scopes accountCount }
  plans { id code name interval price { amount currency }
          usagePrices { included meter { key } tiers { upTo unitAmount { amount } } }
          entitlements { enabled limit feature { key } } }
  meters { id key name unit aggregation }
  features { id key name kind meter { key } }
  accounts(first: 100) {
    totalCount
    nodes {
      id name currency createdAt partner { id name }
      subscriptions(first: 100) { nodes { id status quantity plan { code } items { id plan { code } }
        currentPeriodStart currentPeriodEnd cancelAtPeriodEnd canceledAt trialEnd createdAt } }
      invoices(first: 100) { totalCount nodes { id status lines(first: 100) { nodes { kind } } } }
      entitlements { source feature { kind } }
    }
  }
}"""


async def test_the_seeded_graph_has_every_kind_of_thing(gql: Gql) -> None:
    body = (await gql(EVERYTHING, make_token("admin"))).json()
    assert "errors" not in body
    data = body["data"]
    accounts = data["accounts"]["nodes"]
    subscriptions = [s for a in accounts for s in a["subscriptions"]["nodes"]]
    invoices = [i for a in accounts for i in a["invoices"]["nodes"]]
    lines = [ln for i in invoices for ln in i["lines"]["nodes"]]
    entitlements = [e for a in accounts for e in a["entitlements"]]

    assert data["accounts"]["totalCount"] == 50
    assert {p["interval"] for p in data["plans"]} == {"MONTH", "YEAR"}
    assert any(p["usagePrices"] for p in data["plans"])
    assert {m["aggregation"] for m in data["meters"]} == {"SUM", "MAX"}
    assert {f["kind"] for f in data["features"]} == {"BOOLEAN", "LIMIT", "QUOTA"}
    assert any(a["partner"] for a in accounts)
    assert any(not a["partner"] for a in accounts)
    assert {s["status"] for s in subscriptions} == set(CONTRACT_ENUMS["SubscriptionStatus"].split())
    assert any(s["items"] for s in subscriptions)
    assert {i["status"] for i in invoices} == set(CONTRACT_ENUMS["InvoiceStatus"].split())
    assert {ln["kind"] for ln in lines} == set(CONTRACT_ENUMS["InvoiceLineKind"].split())
    assert {e["source"] for e in entitlements} == {"PLAN", "GRANT"}
    assert {e["feature"]["kind"] for e in entitlements} == {"BOOLEAN", "LIMIT", "QUOTA"}


async def test_node_resolves_every_prefix(gql: Gql) -> None:
    body = (await gql(EVERYTHING, make_token("admin"))).json()["data"]
    account = next(a for a in body["accounts"]["nodes"] if a["partner"] and a["invoices"]["nodes"])
    sub = account["subscriptions"]["nodes"][0]
    invoice = account["invoices"]["nodes"][0]
    line_query = f'{{ node(id: "{invoice["id"]}") {{ ... on Invoice {{ lines(first: 1) {{ nodes {{ id }} }} }} }} }}'
    line_id = (await gql(line_query, make_token())).json()["data"]["node"]["lines"]["nodes"][0][
        "id"
    ]
    item = next(
        i
        for a in body["accounts"]["nodes"]
        for s in a["subscriptions"]["nodes"]
        for i in s["items"]
    )
    ids = {
        "Account": account["id"], "Partner": account["partner"]["id"],
        "Plan": body["plans"][0]["id"], "Subscription": sub["id"], "SubscriptionItem": item["id"],
        "Invoice": invoice["id"], "InvoiceLine": line_id, "Meter": body["meters"][0]["id"],
        "Feature": body["features"][0]["id"],
    }  # fmt: skip
    query = (
        "{ "
        + " ".join(
            f'{name}: node(id: "{node_id}") {{ __typename id }}' for name, node_id in ids.items()
        )
        + " }"
    )

    data = (await gql(query, make_token())).json()["data"]

    assert {name: data[name] for name in ids} == {
        name: {"__typename": name, "id": node_id} for name, node_id in ids.items()
    }


async def test_node_with_a_foreign_prefix_is_not_found(gql: Gql, seeded_pool) -> None:  # type: ignore[no-untyped-def]
    account_id = await seeded_pool.fetchval("SELECT id FROM accounts ORDER BY id LIMIT 1")
    confused = "inv_" + account_id.removeprefix("acct_")

    body = (await gql(f'{{ node(id: "{confused}") {{ id }} }}', make_token())).json()

    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
