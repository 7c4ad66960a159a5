"""Query cost in Shopify's manner, computed on graphql-core's AST before execution
(`requested`) and again on the response (`actual`).

- A field of object type costs 1; scalar and enum fields cost 0, and so do
  value objects (types with no `id` interface whose fields are all scalars or
  enums, such as `Money` or `PageInfo`): they are part of their parent's row.
- A connection multiplies its `edges` and `nodes` by `first` or `last` (the
  default page size when neither is given), capped at the largest page.
- Any other list multiplies by the length of its list argument (`nodes(ids:)`),
  else counts once.
- Each root field of a mutation costs `mutation`.
- Fragments on other types (`... on Account`) take the dearest one, not their sum:
  only one of them can apply to an object.

`actual` walks the same document over the response, with each list's real length."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


@dataclass(frozen=True)
class CostModel:
    default_page: int = 20
    max_page: int = 100
    mutation: int = 10


def requested(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    model: CostModel | None = None,
) -> int:
    """The most this operation can cost, from its arguments alone."""
    walker = _Walker(schema, document, variables or {}, model or CostModel())
    return walker.operation(operation, None)


class RequestedCosts:
    """`requested`, remembered for queries: the same document with the same variables
    costs the same, and a dashboard sends the same few documents again and again."""

    def __init__(self, schema: GraphQLSchema, size: int = 1024) -> None:
        self.schema = schema
        self._size = size
        self._costs: OrderedDict[tuple[str, str | None, bytes], int] = OrderedDict()

    def of(
        self,
        query: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> int:
        if operation.operation is not OperationType.QUERY:
            return requested(self.schema, document, operation, variables)
        name = operation.name.value if operation.name else None
        key = (query, name, _canonical(variables or {}))
        found = self._costs.get(key)
        if found is None:
            found = self._costs[key] = requested(self.schema, document, operation, variables)
            if len(self._costs) > self._size:
                self._costs.popitem(last=False)
        return found


def _canonical(variables: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a lone surrogate, which orjson refuses to encode
        return json.dumps(variables, sort_keys=True).encode("ascii")


def is_value(named: GraphQLNamedType) -> bool:
    """Costs nothing: an object type whose fields are all scalars or enums (`Money`)."""
    return _is_value(named)


def actual(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    data: Mapping[str, Any] | None,
    model: CostModel | None = None,
) -> int:
    """What the response really cost: the same rules over the data returned."""
    if data is None:
        return 0
    walker = _Walker(schema, document, {}, model or CostModel())
    return walker.operation(operation, data)


class _Walker:
    """data None: requested cost (sizes from arguments); else actual (sizes from data)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        model: CostModel,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.model = model
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.mutation_root: GraphQLObjectType | None = None

    def operation(self, operation: OperationDefinitionNode, data: Mapping[str, Any] | None) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        if operation.operation is OperationType.MUTATION:
            self.mutation_root = root
        return self.selections(operation.selection_set, root, None, data, frozenset())

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        page: int | None,
        data: Mapping[str, Any] | None,
        seen: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        plain = 0
        by_type: dict[str, int] = {}
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                plain += self.field(node, parent, page, data)
                continue
            name, target, inner = self._fragment(node, seen)
            if inner is None:
                continue
            named = self.schema.get_type(target) if target else parent
            cost = self.selections(inner, named or parent, page, data, seen | {name})
            if named is None or named.name == parent.name:
                plain += cost
            else:
                by_type[named.name] = by_type.get(named.name, 0) + cost
        return plain + max(by_type.values(), default=0)

    def _fragment(
        self, node: object, seen: frozenset[str]
    ) -> tuple[str, str | None, SelectionSetNode | None]:
        """(fragment name, type condition, selections); no selections for a cycle."""
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else None
            return "", condition, node.selection_set
        if isinstance(node, FragmentSpreadNode):
            fragment = self.fragments.get(node.name.value)
            if fragment is None or node.name.value in seen:
                return "", None, None
            return node.name.value, fragment.type_condition.name.value, fragment.selection_set
        return "", None, None

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType,
        page: int | None,
        data: Mapping[str, Any] | None,
    ) -> int:
        definition = _field_definition(parent, node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        own = self._own(parent, named)
        inner_page = self._page(node) if _is_connection(named) else None
        if data is None:
            inner = self.selections(node.selection_set, named, inner_page, None, frozenset())
            return self._count(node, definition, page) * (own + inner)
        key = node.alias.value if node.alias else node.name.value
        return sum(
            own + self.selections(node.selection_set, named, inner_page, item, frozenset())
            for item in _objects(data.get(key))
        )

    def _own(self, parent: GraphQLNamedType, named: GraphQLNamedType) -> int:
        if self.mutation_root is not None and parent is self.mutation_root:
            return self.model.mutation
        return 0 if _is_value(named) else 1

    def _count(self, node: FieldNode, definition: GraphQLField, page: int | None) -> int:
        if not is_list_type(get_nullable_type(definition.type)):
            return 1
        if page is not None:
            return page
        lengths = [_list_length(arg.value, self.variables) for arg in node.arguments or ()]
        return max((n for n in lengths if n is not None), default=1)

    def _page(self, node: FieldNode) -> int:
        sizes = [
            self._int(arg.value)
            for arg in node.arguments or ()
            if arg.name.value in ("first", "last")
        ]
        given = [n for n in sizes if n is not None]
        size = max(given) if given else self.model.default_page
        return min(max(size, 0), self.model.max_page)

    def _int(self, value: object) -> int | None:
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            found = self.variables.get(value.name.value)
            return found if isinstance(found, int) and not isinstance(found, bool) else None
        return None


def _field_definition(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if name in META_FIELDS:
        return META_FIELDS[name]
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields else None


def _is_connection(named: GraphQLNamedType) -> bool:
    fields = getattr(named, "fields", {})
    return named.name.endswith("Connection") and ("edges" in fields or "nodes" in fields)


@cache
def _is_value(named: GraphQLNamedType) -> bool:
    """An object type whose fields are all scalars or enums: a value, not a row."""
    if not isinstance(named, GraphQLObjectType) or named.interfaces:
        return False
    return all(is_leaf_type(get_named_type(f.type)) for f in named.fields.values())


def _list_length(value: object, variables: Mapping[str, Any]) -> int | None:
    if isinstance(value, ListValueNode):
        return len(value.values)
    if isinstance(value, VariableNode):
        found = variables.get(value.name.value)
        return len(found) if isinstance(found, list) else None
    return None


def _objects(value: object) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [item for v in value for item in _objects(v)]
    return []
