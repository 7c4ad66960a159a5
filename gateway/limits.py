"""Static limits of a GraphQL document, checked on graphql-core's AST before
validation runs, so that neither validation nor execution ever sees a document
larger than they can handle cheaply.

Depth, aliases and field selections are counted with every fragment spread
expanded where it is used (a fragment spread ten times counts ten times), so
fragments cannot hide size. A fragment cycle counts as empty here: validation
refuses it right after. Depth is not counted inside `__schema` and `__type`: an
introspection query (GraphiQL's is 14 levels deep) walks the schema, not data, and
its fields still count."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

TOO_COMPLEX: Final = "QUERY_TOO_COMPLEX"
INTROSPECTION_ROOTS: Final = frozenset({"__schema", "__type"})


@dataclass(frozen=True)
class Limits:
    """Every static limit, with its environment variable in docs/operations.md."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2_000
    max_fields: int = 500
    max_query_chars: int = 15_000
    # recordUsage takes up to 1,000 events a call: about 100-150 KB of JSON.
    max_body_bytes: int = 262_144
    max_auth_bytes: int = 8_192
    max_errors: int = 10
    max_cost: int = 5_000


@dataclass(frozen=True)
class Shape:
    """How big a document is once its fragments are expanded."""

    depth: int
    aliases: int
    fields: int


def too_long(query: str, limits: Limits) -> str | None:
    if len(query) > limits.max_query_chars:
        return f"The query is longer than {limits.max_query_chars} characters."
    return None


def refusal(document: DocumentNode, limits: Limits) -> str | None:
    """Why the document is too large to validate, or None when it is within limits."""
    shape = measure(document)
    if shape.fields > limits.max_fields:
        return f"The query selects more than {limits.max_fields} fields."
    if shape.depth > limits.max_depth:
        return f"The query is deeper than the maximum operation depth of {limits.max_depth}."
    if shape.aliases > limits.max_aliases:
        return f"The query uses more than {limits.max_aliases} aliases."
    return None


def measure(document: DocumentNode) -> Shape:
    return _Measure(document).document()


class _Measure:
    def __init__(self, document: DocumentNode) -> None:
        self.definitions = document.definitions
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, Shape] = {}
        self.visiting: set[str] = set()

    def document(self) -> Shape:
        shapes = [
            self.selections(d.selection_set)
            for d in self.definitions
            if isinstance(d, OperationDefinitionNode)
        ]
        # Depth counts levels below the root fields: `{ viewer { role } }` is 1.
        return Shape(
            depth=max((s.depth - 1 for s in shapes), default=0),
            aliases=sum(s.aliases for s in shapes),
            fields=sum(s.fields for s in shapes),
        )

    def selections(self, selection_set: SelectionSetNode | None) -> Shape:
        if selection_set is None:
            return Shape(0, 0, 0)
        return _combine(self.selection(s) for s in selection_set.selections)

    def selection(self, node: object) -> Shape:
        if isinstance(node, FieldNode):
            inner = self.selections(node.selection_set)
            depth = 1 if node.name.value in INTROSPECTION_ROOTS else inner.depth + 1
            return Shape(depth, inner.aliases + (node.alias is not None), inner.fields + 1)
        if isinstance(node, InlineFragmentNode):
            return self.selections(node.selection_set)
        if isinstance(node, FragmentSpreadNode):
            return self.fragment(node.name.value)
        return Shape(0, 0, 0)

    def fragment(self, name: str) -> Shape:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return Shape(0, 0, 0)  # unknown or cyclic: validation refuses it
        self.visiting.add(name)
        shape = self.selections(definition.selection_set)
        self.visiting.discard(name)
        self.memo[name] = shape
        return shape


def _combine(shapes: Iterable[Shape]) -> Shape:
    depth = aliases = fields = 0
    for shape in shapes:
        depth = max(depth, shape.depth)
        aliases += shape.aliases
        fields += shape.fields
    return Shape(depth, aliases, fields)
