"""Every field of the schema declares its rule, and the rule is the one the domains give
it (schema/domains.py: a field entering a domain needs its read scope and is nullable);
a schema that breaks that does not build; and a token without a field's scope gets
that field null with FORBIDDEN, the rest unaffected (all fields at once:
tests/test_scope_property.py)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
import strawberry
from conftest import Gql, make_token
from graphql import GraphQLInterfaceType, GraphQLNonNull, GraphQLObjectType

from auth.scopes import (
    ALL_SCOPES,
    ENTITLEMENTS_READ,
    INVOICES_READ,
    SUBSCRIPTIONS_READ,
    USAGE_READ,
)
from schema import build, domains, permissions, schema
from schema.permissions import PUBLIC, field, rule_of

# --- acceptance 5: the schema walk ---------------------------------------------------


def fields_without_rule(built: strawberry.Schema) -> list[str]:
    """Every `Type.field` of an object or interface type that declares no rule."""
    missing = []
    for type_name, graphql_type in built._schema.type_map.items():
        if type_name.startswith("__"):
            continue  # introspection
        if not isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            continue  # scalars, enums, inputs, unions carry no resolvers
        for field_name, graphql_field in graphql_type.fields.items():
            definition = graphql_field.extensions.get("strawberry-definition")
            if definition is None or rule_of(definition.extensions) is None:
                missing.append(f"{type_name}.{field_name}")
    return sorted(missing)


def rules_by_field(built: strawberry.Schema) -> dict[str, type[permissions.Rule] | None]:
    out = {}
    for type_name, graphql_type in built._schema.type_map.items():
        if type_name.startswith("__") or not isinstance(
            graphql_type, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for field_name, graphql_field in graphql_type.fields.items():
            definition = graphql_field.extensions["strawberry-definition"]
            out[f"{type_name}.{field_name}"] = rule_of(definition.extensions)
    return out


def test_every_field_of_the_schema_declares_a_rule() -> None:
    assert fields_without_rule(schema) == []


def test_the_walk_covers_the_whole_graph() -> None:
    # The walk is not vacuous: it reaches every domain type, roots and interfaces.
    walked = {name.split(".")[0] for name in rules_by_field(schema)}
    expected = {
        "Query",
        "Node",
        "Viewer",
        "Partner",
        "Account",
        "Subscription",
        "SubscriptionItem",
        "PlanChangePreview",
        "Invoice",
        "InvoiceLine",
        "InvoicePreview",
        "Plan",
        "Meter",
        "Feature",
        "Entitlement",
        "UsageSeries",
        "UsagePoint",
        "Money",
        "PageInfo",
    }
    assert expected <= walked, expected - walked
    if schema._schema.mutation_type is not None:
        assert "Mutation" in walked


@pytest.mark.parametrize(
    ("field_name", "rule"),
    [
        ("Viewer.partner", permissions.ACCOUNTS_READ),
        ("Account.name", permissions.PUBLIC),
        ("Account.taxRate", permissions.ACCOUNTS_READ),
        ("Account.partner", permissions.ACCOUNTS_READ),
        ("Account.subscriptions", permissions.SUBSCRIPTIONS_READ),
        ("Account.invoices", permissions.INVOICES_READ),
        ("Account.upcomingInvoice", permissions.INVOICES_READ),
        ("Account.usage", permissions.USAGE_READ),
        ("Account.entitlements", permissions.ENTITLEMENTS_READ),
        ("Account.entitlement", permissions.ENTITLEMENTS_READ),
        ("Partner.accounts", permissions.PUBLIC),
        ("Subscription.account", permissions.PUBLIC),
        ("Subscription.plan", permissions.PUBLIC),
        ("Subscription.status", permissions.PUBLIC),
        ("Subscription.invoices", permissions.INVOICES_READ),
        ("Subscription.previewPlanChange", permissions.INVOICES_READ),
        ("Invoice.account", permissions.PUBLIC),
        ("Invoice.subscription", permissions.SUBSCRIPTIONS_READ),
        ("Invoice.total", permissions.PUBLIC),
        ("Invoice.lines", permissions.PUBLIC),
        ("InvoicePreview.subscription", permissions.SUBSCRIPTIONS_READ),
        ("Query.plans", permissions.CATALOG),
        ("Query.meters", permissions.CATALOG),
        ("Query.features", permissions.CATALOG),
    ],
)
def test_fields_declare_the_rule_of_the_domain_they_lead_into(
    field_name: str, rule: type[permissions.Rule]
) -> None:
    assert rules_by_field(schema)[field_name] is rule


def test_the_built_schema_keeps_the_scope_rule() -> None:
    domains.check(schema._schema)  # raises on any field that breaks it


@pytest.mark.parametrize("name", ["Account.taxRate", "InvoicePreview.subscription"])
def test_guarded_fields_are_nullable(name: str) -> None:
    type_name, field_name = name.split(".")
    field_type = schema._schema.get_type(type_name).fields[field_name].type  # type: ignore[union-attr]
    assert not isinstance(field_type, GraphQLNonNull)


# A throwaway schema with fields made the wrong ways, to show the walk catches them.


@strawberry.type
class Gadget:
    ruled: str = field(PUBLIC)
    bare: str = strawberry.field(default="plain strawberry.field")
    annotated_only: int = 0


@strawberry.interface
class Thing:
    id: strawberry.ID = field(PUBLIC)
    undeclared: str = strawberry.field(default="x")


@strawberry.type
class Widget(Thing):
    pass


@strawberry.type(name="Query")
class ThrowawayQuery:
    ruled: str = field(PUBLIC, default="ok")

    @strawberry.field
    def gadget(self) -> Gadget:
        return Gadget()

    @strawberry.field
    def widget(self) -> Widget:
        return Widget(id=strawberry.ID("w"))


def test_the_walk_catches_fields_without_a_rule() -> None:
    # given a schema whose fields were partly made without `field(rule)`
    throwaway = strawberry.Schema(query=ThrowawayQuery, types=[Widget])

    # when it is walked, then exactly the undeclared ones are listed
    assert fields_without_rule(throwaway) == [
        "Gadget.annotatedOnly",
        "Gadget.bare",
        "Query.gadget",
        "Query.widget",
        "Thing.undeclared",
        "Widget.undeclared",
    ]


# A throwaway schema whose fields break the scope rule in each way the build refuses.


@strawberry.type(name="Invoice")
class RuleInvoice:
    number: str = field(PUBLIC, default="INV-2026-000001")


@strawberry.type(name="Subscription")
class RuleSubscription:
    status: str = field(permissions.SUBSCRIPTIONS_READ, default="ACTIVE")  # within its domain
    invoice: RuleInvoice = field(permissions.INVOICES_READ, default_factory=RuleInvoice)


@strawberry.type(name="Account")
class RuleAccount:
    name: str = field(PUBLIC, default="Acme")
    tax_rate: str | None = field(PUBLIC, default=None)  # the account's management data
    subscription: RuleSubscription | None = field(PUBLIC, default=None)  # into a scoped domain


@strawberry.type(name="Orphan")
class RuleOrphan:
    x: str = field(PUBLIC, default="x")


@strawberry.type(name="Query")
class RuleQuery:
    account: RuleAccount | None = field(PUBLIC, default=None)
    orphan: RuleOrphan | None = field(PUBLIC, default=None)


@strawberry.type(name="Mutation")
class RuleMutation:
    cancel: str = field(PUBLIC, default="done")  # a write without a write scope


def test_a_schema_breaking_the_scope_rule_does_not_build() -> None:
    # when a schema breaking the rule each way is built, then the build fails naming each
    with pytest.raises(domains.DomainRuleError) as refused:
        build(query=RuleQuery, mutation=RuleMutation)

    problems = str(refused.value).splitlines()[1:]
    assert {p.strip() for p in problems} == {
        "Account.subscription must name SubscriptionsRead, not Public",
        "Account.taxRate must name AccountsRead, not Public",
        "Subscription.status must name Public, not SubscriptionsRead",
        "Subscription.invoice is guarded by invoices:read, so it must be nullable",
        "Orphan has no domain in schema/domains.py TYPES",
        "Mutation.cancel is a write and must name the write scope of what it changes",
    }


# --- acceptance 6: a missing scope nulls that field only -----------------------------

PICK_ACCOUNT = """
SELECT a.id, (SELECT m.key FROM usage_hourly h JOIN meters m ON m.id = h.meter_id
               WHERE h.account_id = a.id ORDER BY m.key LIMIT 1) AS meter
  FROM accounts a
 WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = a.id
                AND s.status IN ('TRIALING', 'ACTIVE', 'PAST_DUE'))
   AND EXISTS (SELECT 1 FROM invoices i WHERE i.account_id = a.id)
   AND EXISTS (SELECT 1 FROM usage_hourly h WHERE h.account_id = a.id)
 ORDER BY a.id LIMIT 1"""

NAME_SUBSCRIPTIONS_INVOICES = """
query($id: ID!) {
  account(id: $id) { name subscriptions { nodes { id status } } invoices { nodes { id } } }
}"""

EVERY_SCOPED_FIELD = """
query($id: ID!, $meter: String!) {
  account(id: $id) {
    name
    subscriptions { nodes { id status } }
    invoices(first: 3) { nodes { id } }
    usage(meter: $meter, from: "2026-11-01T00:00:00Z", to: "2026-11-08T00:00:00Z") { total }
    entitlements { feature { key } enabled }
  }
}"""

# The scope a token lacks -> the Account field it guards.
GUARDED = {
    INVOICES_READ: "invoices",
    USAGE_READ: "usage",
    ENTITLEMENTS_READ: "entitlements",
    SUBSCRIPTIONS_READ: "subscriptions",
}


@pytest.fixture(scope="module")
async def account(seeded_pool: asyncpg.Pool) -> dict[str, str]:
    row = await seeded_pool.fetchrow(PICK_ACCOUNT)
    assert row is not None
    return {"id": row["id"], "meter": row["meter"]}


def token_without(account_id: str, scope: str | None) -> str:
    return make_token("customer", accounts=[account_id], scopes=sorted(ALL_SCOPES - {scope}))


def assert_one_forbidden_at(body: dict[str, Any], path: list[str]) -> None:
    [error] = body["errors"]
    assert error["path"] == path
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_without_invoices_read_invoices_is_null_and_the_rest_answers(
    gql: Gql, account: dict[str, str]
) -> None:
    # given a customer token with every scope but invoices:read
    token = token_without(account["id"], INVOICES_READ)

    # when it asks for the account's name, subscriptions and invoices
    response = await gql(NAME_SUBSCRIPTIONS_INVOICES, token, {"id": account["id"]})

    # then name and subscriptions answer, invoices is null with one FORBIDDEN error
    assert response.status_code == 200
    body = response.json()
    data = body["data"]["account"]
    assert data["name"]
    assert data["subscriptions"]["nodes"]
    assert all(node["id"].startswith("sub_") for node in data["subscriptions"]["nodes"])
    assert data["invoices"] is None
    assert_one_forbidden_at(body, ["account", "invoices"])


@pytest.mark.parametrize("scope", list(GUARDED))
async def test_a_missing_scope_nulls_exactly_its_field(
    gql: Gql, account: dict[str, str], scope: str
) -> None:
    # given the answer to a token with every scope (nothing null, no error)
    variables = {"id": account["id"], "meter": account["meter"]}
    full = (await gql(EVERY_SCOPED_FIELD, token_without(account["id"], None), variables)).json()
    assert "errors" not in full, full["errors"]
    assert all(value is not None for value in full["data"]["account"].values())

    # when a token lacking one scope asks the same
    body = (await gql(EVERY_SCOPED_FIELD, token_without(account["id"], scope), variables)).json()

    # then only the field that scope guards is null, with one FORBIDDEN pointing at it
    expected = {**full["data"]["account"], GUARDED[scope]: None}
    assert body["data"] == {"account": expected}
    assert_one_forbidden_at(body, ["account", GUARDED[scope]])
