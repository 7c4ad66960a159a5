"""The planned executor answers exactly as strawberry's: data, errors, paths and
authorization outcomes — on the suite's documents, and on random valid documents over
the whole schema with random scope sets and callers."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from conftest import Gql, make_token
from differential import Caller, both
from graphql import GraphQLInterfaceType, GraphQLNonNull, is_leaf_type, parse, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from auth.principal import Role
from auth.scopes import ALL_SCOPES
from schema import schema

READ_SCOPES = sorted(s for s in ALL_SCOPES if s.endswith(":read"))

DOCUMENTS = {
    "dashboard": """query Dashboard($id: ID!, $from: DateTime!, $to: DateTime!) { account(id: $id) {
      id name currency partner { name }
      subscriptions(first: 10) { totalCount nodes { id status quantity currentPeriodEnd cancelAtPeriodEnd
        plan { code name price { amount currency } } items { quantity plan { code price { amount } } } } }
      invoices(first: 20) { totalCount pageInfo { hasNextPage endCursor }
        nodes { id number status issuedAt total { amount currency } amountDue { amount }
          lines(first: 100) { nodes { kind description quantity unitAmount { amount } amount { amount } meter { key } } } } }
      entitlements { feature { key kind } enabled limit used remaining resetsAt source }
      upcomingInvoice { periodEnd issuedAt lines { kind description amount { amount } } subtotal { amount } tax { amount } total { amount } }
      usage(meter: "requests", from: $from, to: $to, granularity: DAY) { total points { start quantity } } } }""",
    "fragments and aliases": """query($id: ID!) {
      a: account(id: $id) { ...Who invoices(first: 2) { edges { cursor node { __typename id } } } }
      b: account(id: $id) { ...Who }
      viewer { role scopes accountCount partner { name } }
      plans { code kind interval price { amount } usagePrices { included tiers { upTo unitAmount { amount } } } }
    }
    fragment Who on Account { __typename id name createdAt }""",
    "nodes of every kind": """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
      ... on Account { name } ... on Subscription { status plan { code } }
      ... on Invoice { number total { amount } } ... on InvoiceLine { kind amount { amount } }
      ... on Plan { code } ... on Meter { key } ... on Feature { key meter { key } } } }""",
    "skip and include": """query($id: ID!, $yes: Boolean!, $no: Boolean!) { account(id: $id) {
      name @skip(if: $yes) currency @include(if: $yes) createdAt @include(if: $no)
      invoices(first: 3) @include(if: $yes) { nodes { number @skip(if: $no) } } } }""",
    "bad input in one field": """query($id: ID!) { account(id: $id) { name
      usage(meter: "nope", from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z") { total }
      entitlement(feature: "nope") { enabled } invoices(first: 101) { totalCount } } }""",
}


@pytest.fixture(scope="module")
async def ids(seeded_pool: asyncpg.Pool) -> dict[str, Any]:
    row = await seeded_pool.fetchrow(
        "SELECT a.id AS account, a.partner_id AS partner, s.id AS sub, i.id AS invoice,"
        " (SELECT min(l.id) FROM invoice_lines l WHERE l.invoice_id = i.id) AS line"
        " FROM accounts a JOIN subscriptions s ON s.account_id = a.id"
        " JOIN invoices i ON i.account_id = a.id"
        " WHERE a.partner_id IS NOT NULL AND s.status = 'ACTIVE' ORDER BY a.id LIMIT 1"
    )
    catalog = await seeded_pool.fetchrow(
        "SELECT (SELECT min(id) FROM plans) AS plan, (SELECT min(id) FROM meters) AS meter,"
        " (SELECT min(id) FROM features) AS feature, (SELECT min(id) FROM accounts) AS other"
    )
    assert row is not None
    assert catalog is not None
    return {**dict(row), **dict(catalog)}


def variables_for(name: str, ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ids["account"],
        "from": "2026-10-16T00:00:00Z",
        "to": "2026-11-15T00:00:00Z",
        "yes": True,
        "no": False,
        "ids": [
            ids[k]
            for k in ("account", "sub", "invoice", "line", "plan", "meter", "feature", "other")
        ]
        + ["inv_doesnotexist0000", "nonsense"],
    }


CALLERS = {
    "admin": lambda ids, scopes: Caller(Role.ADMIN, scopes),
    "customer": lambda ids, scopes: Caller(Role.CUSTOMER, scopes, accounts=(ids["account"],)),
    "partner": lambda ids, scopes: Caller(Role.PARTNER, scopes, partner=ids["partner"]),
}


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
@pytest.mark.parametrize("who", sorted(CALLERS))
@pytest.mark.parametrize("missing", [None, *READ_SCOPES])
async def test_the_suites_documents_answer_alike(
    seeded_pool: asyncpg.Pool, ids: dict[str, Any], document: str, who: str, missing: str | None
) -> None:
    scopes = frozenset(ALL_SCOPES - {missing} if missing else ALL_SCOPES)
    caller = CALLERS[who](ids, scopes)

    reference, planned = await both(
        seeded_pool, DOCUMENTS[document], caller, variables_for(document, ids)
    )

    assert planned is not None, "a plain query must be planned"
    assert planned == reference


async def test_introspection_and_mutations_are_left_to_strawberry(
    seeded_pool: asyncpg.Pool,
) -> None:
    caller = Caller(Role.ADMIN, frozenset(ALL_SCOPES))
    _, introspection = await both(seeded_pool, "{ __schema { queryType { name } } }", caller)
    _, typename = await both(seeded_pool, "{ __typename viewer { role } }", caller)

    assert introspection is None
    assert typename == {"data": {"__typename": "Query", "viewer": {"role": "ADMIN"}}, "errors": []}


# --- random valid documents over the schema ------------------------------------------

# Literal arguments; `@name@` stands for a seeded id, filled in when the document is run.
LEAF_ARGS: dict[str, dict[str, str]] = {
    "Query.account": {"id": '"@account@"'},
    "Query.node": {"id": '"@sub@"'},
    "Query.nodes": {"ids": '["@account@", "@invoice@", "@plan@", "sub_doesnotexist0000"]'},
    "Account.usage": {
        "meter": '"requests"',
        "from": '"2026-11-01T00:00:00Z"',
        "to": '"2026-11-15T00:00:00Z"',
    },
    "Account.entitlement": {"feature": '"waf.custom_rules"'},
    "Account.upcomingInvoice": {},
    "Subscription.previewPlanChange": {"planId": '"@plan@"'},
}


def _named(type_: Any) -> Any:
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    return type_


@st.composite
def selection(draw: st.DrawFn, type_name: str, depth: int) -> str:
    graphql_type = schema._schema.get_type(type_name)
    fields = sorted(graphql_type.fields.items())  # type: ignore[union-attr]
    chosen = draw(
        st.lists(st.sampled_from(fields), min_size=1, max_size=4, unique_by=lambda f: f[0])
    )
    parts = []
    if draw(st.booleans()):
        parts.append("__typename")
    for n, (name, graphql_field) in enumerate(chosen):
        args = dict(LEAF_ARGS.get(f"{type_name}.{name}", {}))
        if "first" in graphql_field.args and draw(st.booleans()):
            args["first"] = str(draw(st.integers(0, 4)))
        required = [a for a, d in graphql_field.args.items() if isinstance(d.type, GraphQLNonNull)]
        if any(a not in args for a in required):
            continue
        alias = f"f{n}: " if draw(st.integers(0, 4)) == 0 else ""
        rendered = f"{alias}{name}" + (
            f"({', '.join(f'{k}: {v}' for k, v in args.items())})" if args else ""
        )
        if draw(st.integers(0, 6)) == 0:
            rendered += " @include(if: true)" if draw(st.booleans()) else " @skip(if: false)"
        target = _named(graphql_field.type)
        if not is_leaf_type(target):
            if depth == 0:
                continue
            rendered += f" {{ {draw(_inner(target, depth - 1))} }}"
        parts.append(rendered)
    return " ".join(parts) or "__typename"


@st.composite
def _inner(draw: st.DrawFn, target: Any, depth: int) -> str:
    if isinstance(target, GraphQLInterfaceType):
        possible = sorted(t.name for t in schema._schema.get_possible_types(target))
        name = draw(st.sampled_from(possible))
        return f"id ... on {name} {{ {draw(selection(name, depth))} }}"
    return draw(selection(target.name, depth))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=selection("Query", 4),
    who=st.sampled_from(sorted(CALLERS)),
    scopes=st.frozensets(st.sampled_from(sorted(ALL_SCOPES))),
)
async def test_random_documents_answer_alike(
    seeded_pool: asyncpg.Pool, ids: dict[str, Any], body: str, who: str, scopes: frozenset[str]
) -> None:
    query = "{ " + body + " }"
    for name in ("account", "sub", "invoice", "plan"):
        query = query.replace(f"@{name}@", ids[name])
    assert not validate(schema._schema, parse(query)), query  # the generator makes valid ones

    reference, planned = await both(seeded_pool, query, CALLERS[who](ids, scopes))

    assert planned == reference, query


async def test_the_gateway_answers_queries_by_plan_and_the_rest_by_graphql_core(
    gql: Gql,
) -> None:
    def count(executor: str) -> float:
        return (
            REGISTRY.get_sample_value("billing_graphql_executions_total", {"executor": executor})
            or 0.0
        )

    planned, reference = count("planned"), count("reference")
    query = (await gql("{ viewer { role } plans { code } }", make_token("admin"))).json()
    introspection = (await gql("{ __schema { queryType { name } } }", make_token("admin"))).json()

    assert "errors" not in query
    assert "errors" not in introspection
    assert count("planned") == planned + 1
    assert count("reference") == reference + 1
