"""One query over every field of the read graph, and what a token lacking some read
scopes must get for it: the full-scope answer with exactly the fields those scopes
guard nulled (schema/domains.py states the rule), one FORBIDDEN at each.

`expected_for` reads each field's rule from the built schema itself, so the
expectation follows the declarations rather than a copy of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    parse,
    visit,
)

from schema.domains import entry_rule
from schema.permissions import rule_of

Path = tuple[str | int, ...]
PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
MONEY = "{ amount currency }"
LINE = f"""id kind description quantity unitAmount {MONEY} amount {MONEY} periodStart periodEnd
           meter {{ id key }}"""

EVERYTHING = f"""
query Everything($account: ID!, $target: ID!, $ids: [ID!]!, $sub: ID!, $invoice: ID!,
                 $line: ID!, $partner: ID!, $item: ID!, $plan: ID!, $meter: ID!, $feature: ID!) {{
  viewer {{ subject role scopes accountCount partner {{ id name }} }}
  plans {{ id code name kind interval price {MONEY} active
           usagePrices {{ included meter {{ id }} tiers {{ upTo unitAmount {MONEY} }} }}
           entitlements {{ enabled limit feature {{ id }} }} }}
  meters {{ id key name unit aggregation }}
  features {{ id key name kind meter {{ id }} }}
  accounts(first: 2) {{ {PAGE} edges {{ cursor node {{ id }} }} nodes {{ id }} }}
  account(id: $account) {{
    id name currency createdAt taxRate
    partner {{ id name accounts(first: 2) {{ {PAGE} edges {{ cursor node {{ id }} }} nodes {{ id name }} }} }}
    subscriptions(first: 1, status: [ACTIVE]) {{
      {PAGE} edges {{ cursor node {{ id }} }}
      nodes {{
        id status quantity currentPeriodStart currentPeriodEnd cancelAtPeriodEnd canceledAt
        trialEnd createdAt account {{ id }} plan {{ id }}
        items {{ id quantity createdAt plan {{ id }} }}
        invoices(first: 2) {{ {PAGE} edges {{ cursor node {{ id }} }} nodes {{ id }} }}
        previewPlanChange(planId: $target) {{ quoteId expiresAt subtotal {MONEY} tax {MONEY} total {MONEY} lines {{ id kind }} }}
      }}
    }}
    invoices(first: 2) {{
      {PAGE} edges {{ cursor node {{ id }} }}
      nodes {{
        id number status currency periodStart periodEnd issuedAt dueAt paidAt taxRate
        subtotal {MONEY} tax {MONEY} total {MONEY} amountPaid {MONEY} amountDue {MONEY}
        account {{ id }} subscription {{ id status }}
        lines(first: 3) {{ {PAGE} edges {{ cursor node {{ id }} }} nodes {{ {LINE} }} }}
      }}
    }}
    upcomingInvoice {{
      currency periodStart periodEnd issuedAt subtotal {MONEY} tax {MONEY} total {MONEY}
      amountDue {MONEY} lines {{ id kind amount {MONEY} }} subscription {{ id }}
    }}
    usage(meter: "requests", from: "2026-11-01T00:00:00Z", to: "2026-11-04T00:00:00Z",
          granularity: DAY) {{
      meter {{ id }} from to granularity total points {{ start quantity }}
    }}
    entitlements {{ feature {{ id }} enabled limit used remaining resetsAt source expiresAt }}
    entitlement(feature: "waf.custom_rules") {{ feature {{ key }} enabled limit }}
  }}
  subNode: node(id: $sub) {{ __typename id ... on Subscription {{ status }} }}
  invoiceNode: node(id: $invoice) {{ __typename id ... on Invoice {{ number }} }}
  lineNode: node(id: $line) {{ __typename id ... on InvoiceLine {{ kind }} }}
  partnerNode: node(id: $partner) {{ __typename id ... on Partner {{ name }} }}
  itemNode: node(id: $item) {{ __typename id ... on SubscriptionItem {{ quantity }} }}
  planNode: node(id: $plan) {{ __typename id ... on Plan {{ code }} }}
  meterNode: node(id: $meter) {{ __typename id ... on Meter {{ key }} }}
  featureNode: node(id: $feature) {{ __typename id ... on Feature {{ key }} }}
  accountNode: node(id: $account) {{ __typename id ... on Account {{ name }} }}
  nodes(ids: $ids) {{ __typename id }}
}}"""


def fields_selected(schema: GraphQLSchema, document: str) -> set[str]:
    """Every `Type.field` the document selects, by the type it is selected on."""
    info, seen = TypeInfo(schema), set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                seen.add(f"{parent.name}.{node.name.value}")

    visit(parse(document), TypeInfoVisitor(info, Collect()))
    return seen


def fields_reachable(schema: GraphQLSchema) -> set[str]:
    """Every `Type.field` of the object and interface types a query can reach."""
    assert schema.query_type is not None
    todo: list[GraphQLNamedType] = [schema.query_type]
    done: set[str] = set()
    out: set[str] = set()
    while todo:
        graphql_type = todo.pop()
        if graphql_type.name in done:
            continue
        done.add(graphql_type.name)
        if isinstance(graphql_type, GraphQLInterfaceType):
            todo.extend(schema.get_possible_types(graphql_type))
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in graphql_type.fields.items():
                out.add(f"{graphql_type.name}.{name}")
                todo.append(get_named_type(field.type))
    return out


def expected_for(
    schema: GraphQLSchema, document: str, full: dict[str, Any], missing: set[str]
) -> tuple[dict[str, Any], dict[Path, str]]:
    """(data, nulled): `full` with every field guarded by a scope in `missing` nulled,
    and what was nulled: path → `Type.field` (or `node:Type` for an entry of node(s))."""
    operation = parse(document).definitions[0]
    assert schema.query_type is not None
    nulled: dict[Path, str] = {}
    data = _object(schema, operation.selection_set, schema.query_type, full, (), missing, nulled)  # type: ignore[attr-defined]
    return data, nulled


def _object(
    schema: GraphQLSchema,
    selections: SelectionSetNode,
    parent: GraphQLNamedType,
    value: dict[str, Any],
    path: Path,
    missing: set[str],
    paths: dict[Path, str],
) -> dict[str, Any]:
    out = dict(value)
    concrete = schema.get_type(value.get("__typename", parent.name))
    assert isinstance(concrete, GraphQLObjectType | GraphQLInterfaceType)
    for node in _fields(selections, concrete.name):
        key = node.alias.value if node.alias else node.name.value
        if node.name.value == "__typename":
            continue
        field = concrete.fields[node.name.value]
        here: Path = (*path, key)
        if _guarded(field, missing) and out[key] is not None:
            out[key] = None
            paths[here] = f"{concrete.name}.{node.name.value}"
        elif concrete.name == "Query" and node.name.value in ("node", "nodes"):
            out[key] = _entries(schema, node, field, out[key], here, missing, paths)
        else:
            out[key] = _value(schema, node, field.type, out[key], here, missing, paths)
    return out


def _fields(selections: SelectionSetNode, type_name: str) -> Iterator[FieldNode]:
    for node in selections.selections:
        if isinstance(node, FieldNode):
            yield node
        elif isinstance(node, InlineFragmentNode):
            condition = node.type_condition
            if condition is None or condition.name.value == type_name:
                yield from _fields(node.selection_set, type_name)


def _guarded(field: Any, missing: set[str]) -> bool:
    rule = rule_of(field.extensions["strawberry-definition"].extensions)
    return rule is not None and rule.scope in missing


def _entries(
    schema: GraphQLSchema,
    node: FieldNode,
    field: Any,
    value: Any,
    path: Path,
    missing: set[str],
    paths: dict[Path, str],
) -> Any:
    """node/nodes: each entry needs the read scope of its type's domain."""
    if isinstance(value, list):
        return [
            _entries(schema, node, field, v, (*path, i), missing, paths)
            for i, v in enumerate(value)
        ]
    if value is not None and entry_rule(value["__typename"]).scope in missing:
        paths[path] = f"node:{value['__typename']}"
        return None
    return _value(schema, node, get_named_type(field.type), value, path, missing, paths)


def _value(
    schema: GraphQLSchema,
    node: FieldNode,
    graphql_type: Any,
    value: Any,
    path: Path,
    missing: set[str],
    paths: dict[Path, str],
) -> Any:
    if value is None or node.selection_set is None:
        return value
    if isinstance(graphql_type, GraphQLNonNull):
        return _value(schema, node, graphql_type.of_type, value, path, missing, paths)
    if isinstance(graphql_type, GraphQLList):
        item = graphql_type.of_type
        return [
            _value(schema, node, item, v, (*path, i), missing, paths) for i, v in enumerate(value)
        ]
    named = get_named_type(graphql_type)
    return _object(schema, node.selection_set, named, value, path, missing, paths)
