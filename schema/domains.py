"""What a scope guards, in one sentence (docs/scopes.md):

    Every object type belongs to one domain; a field that leads from one domain into
    another is guarded by the target domain's read scope and is nullable; within a
    domain — and into the account (the root every token reaches within its reach) or
    the catalog — nothing more than a valid token is needed.

This module declares each type's domain and, when the schema is built, checks every
field of every type reachable from a root against that sentence: a field naming
another rule than the one the sentence gives it, or guarded and non-null (so that
a missing scope would null its parent), stops the build, and the app does not start.
Fields of the Mutation root are writes: each names the write scope of what it changes;
what they return is checked like the rest. `node(id:)` and `nodes(ids:)` enter the
domain of each id's type at run time (schema/nodes.py asks `entry_rule`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)

from schema.permissions import (
    ACCOUNTS_READ,
    ENTITLEMENTS_READ,
    INVOICES_READ,
    PUBLIC,
    SUBSCRIPTIONS_READ,
    USAGE_READ,
    WRITE_RULES,
    Rule,
    rule_of,
)


@dataclass(frozen=True)
class Domain:
    name: str
    rule: type[Rule]  # what a field leading into the domain needs


ROOT: Final = Domain("root", PUBLIC)
CATALOG: Final = Domain("catalog", PUBLIC)
ACCOUNTS: Final = Domain("accounts", ACCOUNTS_READ)
SUBSCRIPTIONS: Final = Domain("subscriptions", SUBSCRIPTIONS_READ)
INVOICES: Final = Domain("invoices", INVOICES_READ)
USAGE: Final = Domain("usage", USAGE_READ)
ENTITLEMENTS: Final = Domain("entitlements", ENTITLEMENTS_READ)
OPEN: Final = (ROOT, CATALOG)  # reached with a valid token from anywhere

# Every object and interface type's domain. A connection or edge type is in the
# domain of its nodes. Previews of what would be billed (an upcoming invoice, the
# lines of a plan change) are invoice data.
TYPES: Final[dict[str, Domain]] = {
    **dict.fromkeys(("Query", "Mutation", "Viewer", "Account", "Node", "Money", "PageInfo"), ROOT),
    **dict.fromkeys(
        ("Plan", "Meter", "Feature", "UsagePrice", "PriceTier", "PlanEntitlement"), CATALOG
    ),
    "Partner": ACCOUNTS,
    **dict.fromkeys(("Subscription", "SubscriptionItem"), SUBSCRIPTIONS),
    **dict.fromkeys(("Invoice", "InvoiceLine", "InvoicePreview", "PlanChangePreview"), INVOICES),
    **dict.fromkeys(("UsageSeries", "UsagePoint"), USAGE),
    "Entitlement": ENTITLEMENTS,
    # Mutation payloads are in the domain of what they change; their user errors are plumbing.
    "UserError": ROOT,
    "SubscriptionPayload": SUBSCRIPTIONS,
    "RecordUsagePayload": USAGE,
    "EntitlementPayload": ENTITLEMENTS,
}
# Leaf fields of a type that carry another domain's data: the account's management data.
FIELDS: Final[dict[str, Domain]] = {"Account.taxRate": ACCOUNTS}


class DomainRuleError(Exception):
    """The schema breaks the scope sentence; the message lists every field that does."""


def check(schema: GraphQLSchema) -> None:
    """Raise DomainRuleError unless every field names the rule the sentence gives it."""
    problems = list(_problems(schema))
    if problems:
        raise DomainRuleError("fields break the scope rule:\n  " + "\n  ".join(problems))


def expected_rule(parent: GraphQLNamedType, name: str, field: GraphQLField) -> type[Rule]:
    """The rule the sentence gives `parent.name`."""
    source, target = domain_of(parent), _target(parent, name, field)
    return PUBLIC if target is source or target in OPEN else target.rule


def entry_rule(type_name: str) -> type[Rule]:
    """What reading an object of this type by its id needs (`node`, `nodes`)."""
    return TYPES[type_name].rule


def domain_of(graphql_type: GraphQLNamedType) -> Domain:
    if graphql_type.name in TYPES:
        return TYPES[graphql_type.name]
    nodes = _node_type(graphql_type)
    if nodes is None:
        raise DomainRuleError(f"{graphql_type.name} has no domain in schema/domains.py TYPES")
    return domain_of(nodes)


def _node_type(graphql_type: GraphQLNamedType) -> GraphQLNamedType | None:
    """The node type of a connection (its `nodes`) or an edge (its `node`) type."""
    for suffix, name in (("Connection", "nodes"), ("Edge", "node")):
        if isinstance(graphql_type, GraphQLObjectType) and graphql_type.name.endswith(suffix):
            field = graphql_type.fields.get(name)
            return None if field is None else get_named_type(field.type)
    return None


def _target(parent: GraphQLNamedType, name: str, field: GraphQLField) -> Domain:
    named = get_named_type(field.type)
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return domain_of(named)
    return FIELDS.get(f"{parent.name}.{name}", domain_of(parent))


def _problems(schema: GraphQLSchema) -> Iterator[str]:
    for parent, name, field in _fields(schema):
        where = f"{parent.name}.{name}"
        declared = _declared(field)
        if parent is schema.mutation_type:
            if declared not in WRITE_RULES:
                yield f"{where} is a write and must name the write scope of what it changes"
            continue
        try:
            expected = expected_rule(parent, name, field)
        except DomainRuleError as exc:
            yield str(exc)
            continue
        if declared is not expected:
            yield f"{where} must name {expected.__name__}, not {_name(declared)}"
        if expected.scope is not None and isinstance(field.type, GraphQLNonNull):
            yield f"{where} is guarded by {expected.scope}, so it must be nullable"


def _fields(schema: GraphQLSchema) -> Iterator[tuple[GraphQLNamedType, str, GraphQLField]]:
    """Every field of every object and interface type, roots included."""
    for type_name, graphql_type in sorted(schema.type_map.items()):
        if type_name.startswith("__"):
            continue  # introspection
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in graphql_type.fields.items():
                yield graphql_type, name, field


def _name(rule: type[Rule] | None) -> str:
    return "no rule" if rule is None else rule.__name__


def guarded_table(schema: GraphQLSchema, prefixes: dict[str, str]) -> str:
    """The Markdown table of docs/scopes.md: each read scope, the fields it guards and
    the ids whose node it guards (`prefixes`: id prefix → type). A test keeps the doc
    equal to it, and prints it when they differ."""
    rows = [
        "| scope | guards these fields (nullable) | and `node`/`nodes` of ids |",
        "|---|---|---|",
    ]
    for domain in (ACCOUNTS, SUBSCRIPTIONS, INVOICES, USAGE, ENTITLEMENTS):
        fields = sorted(
            f"`{parent.name}.{name}`"
            for parent, name, field in _fields(schema)
            if parent is not schema.mutation_type and _declared(field) is domain.rule
        )
        ids = [f"`{p}…`" for p, t in prefixes.items() if TYPES[t] is domain]
        rows.append(f"| `{domain.rule.scope}` | {', '.join(fields)} | {', '.join(ids) or '—'} |")
    return "\n".join(rows) + "\n"


def _declared(field: GraphQLField) -> type[Rule] | None:
    definition = field.extensions.get("strawberry-definition")
    return None if definition is None else rule_of(definition.extensions)
