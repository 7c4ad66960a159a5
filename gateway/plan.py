"""Query plans: a validated operation, compiled once per (document, operation, scope set,
@skip/@include values) into the tree of fields the executor walks.

graphql-core's executor visits every field through several layers of generic code
(≈5 µs a field); a plan does that work once: fields collected and merged by response
key (fragments, aliases, type conditions, directives), each field's definition, its
strawberry resolver, its return type unwrapped, and its authorization outcome for the
scope set (a scope depends only on the token, so a forbidden field is decided here,
not per object). `gateway/execute.py` runs a plan with the loaders.

Not planned (answered by strawberry's executor instead): mutations and subscriptions,
introspection, and any document whose variables do not coerce.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_directive_values
from strawberry.types.field import StrawberryField

from gateway.cost import is_value
from schema.permissions import rule_of

TYPENAME = "__typename"

# The kinds of a field's shape, its return type unwrapped once per plan:
# (NON_NULL, inner), (LIST, item shape), (LEAF, serialize), (OBJECT,).
NON_NULL: Final = "non-null"
LIST: Final = "list"
LEAF: Final = "leaf"
OBJECT: Final = "object"
Shape = tuple[Any, ...]
Inline = tuple[str, str | None, Any, bool]


class NotPlanned(Exception):
    """The operation is answered by strawberry's executor instead."""


@dataclass
class FieldPlan:
    key: str  # the response key: the alias, or the field's name
    name: str
    nodes: list[FieldNode]  # every occurrence merged under the key (errors locate them)
    parent_type: GraphQLObjectType
    definition: GraphQLField | None  # None for __typename
    strawberry_field: StrawberryField | None
    return_type: GraphQLOutputType | None
    forbidden: str | None  # the FORBIDDEN message when the scope set lacks the field's scope
    # For object and abstract return types: the selections of each possible object type,
    # and the object type when it is not abstract (generic connections' instances do not
    # know their specialised GraphQL name; the schema does).
    children: dict[str, list[FieldPlan]] = field(default_factory=dict)
    object_type: str | None = None
    # Decided once here so the executor's per-object work is a few attribute reads.
    shape: Shape = (LEAF, str)
    nullable: bool = True
    resolver: Callable[..., Any] | None = None  # None: read the attribute `python_name`
    python_name: str = ""
    self_parameter: bool = False
    is_async: bool = False
    leaf: Callable[[Any], Any] | None = None  # serialize, for a plain attribute of a scalar
    typename: str | None = None  # __typename's answer, known from the plan
    child_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    object_costs: dict[str, int] = field(default_factory=dict)  # gateway/cost.py's rule
    # Object types whose selected fields are all plain scalar attributes (or __typename),
    # such as `Money { amount currency }`: built in place, entries (key, attribute or
    # None, serialize or the typename, nullable).
    inline: dict[str, tuple[Inline, ...]] = field(default_factory=dict)
    # A plain attribute holding one such object (`total { amount }`): built in place
    # without a job; its entries and its cost.
    inline_one: tuple[Inline, ...] | None = None
    inline_cost: int = 0
    selected_names: frozenset[str] = frozenset()  # the fields selected on its value

    @property
    def node(self) -> FieldNode:
        return self.nodes[0]


@dataclass(frozen=True)
class Plan:
    root_type: GraphQLObjectType
    fields: list[FieldPlan]


class Planner:
    """Compiles operations of one schema for one scope set."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        scopes: frozenset[str],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.scopes = scopes

    def plan(self, operation: OperationDefinitionNode) -> Plan:
        if operation.operation is not OperationType.QUERY:
            raise NotPlanned("only queries are planned")
        root = self.schema.query_type
        assert root is not None
        return Plan(root, self._fields(root, [operation.selection_set]))

    def _fields(
        self, object_type: GraphQLObjectType, selections: list[SelectionSetNode]
    ) -> list[FieldPlan]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            self._collect(object_type, selection_set, grouped, set())
        return [self._field(object_type, key, nodes) for key, nodes in grouped.items()]

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, object_type):
                    self._collect(object_type, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition.name.value, object_type):
                    self._collect(object_type, fragment.selection_set, grouped, visited)

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and include.get("if") is False)

    def _applies(self, condition: str, object_type: GraphQLObjectType) -> bool:
        named = self.schema.get_type(condition)
        if named is None:
            return False
        if named is object_type:
            return True
        return is_abstract_type(named) and self.schema.is_sub_type(named, object_type)

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == TYPENAME:
            typename = FieldPlan(key, name, nodes, parent, None, None, None, None)
            typename.shape, typename.nullable = (NON_NULL, (LEAF, str)), False
            typename.typename = parent.name
            return typename
        if name.startswith("__"):
            raise NotPlanned("introspection")
        definition = parent.fields[name]
        field_def: StrawberryField = definition.extensions["strawberry-definition"]
        plan = FieldPlan(
            key,
            name,
            nodes,
            parent,
            definition,
            field_def,
            definition.type,
            self._forbidden(field_def),
        )
        plan.shape = _shape(definition.type)
        plan.nullable = plan.shape[0] is not NON_NULL
        resolver = field_def.base_resolver
        # The function itself: strawberry's resolver wrapper only forwards the call.
        plan.resolver = resolver and (
            resolver.wrapped_func if callable(resolver.wrapped_func) else resolver
        )
        plan.python_name = field_def.python_name
        plan.self_parameter = resolver is not None and resolver.self_parameter is not None
        plan.is_async = field_def.is_async
        leaf = plan.shape[1] if plan.shape[0] is NON_NULL else plan.shape
        if resolver is None and plan.forbidden is None and leaf[0] is LEAF:
            plan.leaf = leaf[1]
        named = _named(definition.type)
        if isinstance(named, GraphQLObjectType):
            plan.object_type = named.name
        if not is_leaf_type(named):
            selections = [n.selection_set for n in nodes if n.selection_set]
            for object_type in self._possible(named):
                children = self._fields(object_type, selections)
                plan.children[object_type.name] = children
                plan.child_keys[object_type.name] = tuple(c.key for c in children)
                plan.object_costs[object_type.name] = 0 if is_value(object_type) else 1
                if inline := _inline(children):
                    plan.inline[object_type.name] = inline
        plan.selected_names = frozenset(c.name for cs in plan.children.values() for c in cs)
        if resolver is None and plan.forbidden is None and leaf[0] is OBJECT and plan.object_type:
            plan.inline_one = plan.inline.get(plan.object_type)
            plan.inline_cost = plan.object_costs[plan.object_type]
        return plan

    def _possible(self, named: Any) -> list[GraphQLObjectType]:
        if isinstance(named, GraphQLObjectType):
            return [named]
        assert isinstance(named, GraphQLAbstractType)
        return list(self.schema.get_possible_types(named))

    def _forbidden(self, field_def: StrawberryField) -> str | None:
        rule = rule_of(field_def.extensions)
        if rule is None or rule.scope is None or rule.scope in self.scopes:
            return None
        return rule.message or "Forbidden."


def _inline(children: list[FieldPlan]) -> tuple[Inline, ...]:
    entries: list[Inline] = []
    for child in children:
        if child.typename is not None:
            entries.append((child.key, None, child.typename, False))
        elif child.leaf is not None:
            entries.append((child.key, child.python_name, child.leaf, child.nullable))
        else:
            return ()
    return tuple(entries)


def _shape(type_: Any) -> Shape:
    if isinstance(type_, GraphQLNonNull):
        return (NON_NULL, _shape(type_.of_type))
    if isinstance(type_, GraphQLList):
        return (LIST, _shape(type_.of_type))
    if is_leaf_type(type_):
        return (LEAF, _serializer(type_))
    return (OBJECT,)


def _serializer(type_: Any) -> Callable[[Any], Any]:
    """The leaf type's serialize; for an enum of Python enum members, each member's
    answer looked up instead of strawberry's scan of the enum's values."""
    serialize: Callable[[Any], Any] = type_.serialize
    members = getattr(type_, "wrapped_cls", None)
    if not isinstance(type_, GraphQLEnumType) or members is None:
        return serialize
    names = {member: serialize(member) for member in members}

    def by_member(value: Any) -> Any:
        try:
            return names[value]
        except (KeyError, TypeError):  # not a member (or unhashable): as strawberry says
            return serialize(value)

    return by_member


def _named(type_: GraphQLOutputType) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_
