"""Types every domain uses: Node, Money, Relay connections and their arguments."""

from __future__ import annotations

import decimal
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Final, Generic, TypeVar, cast, overload

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from loaders.base import Row
from resolvers import values
from resolvers.connections import DEFAULT_SIZE, MAX_SIZE, Page, Slice
from schema.permissions import PUBLIC, field, resolver

T = TypeVar("T")
TOTAL_COUNT: Final = "totalCount"

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page forward: the first n rows after `after` (default {DEFAULT_SIZE}"
        f" when `last` is not given either; 0–{MAX_SIZE}). Not with `last`."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Start after this cursor (an edge's `cursor`, or an"
                        " `endCursor`) of the same list, parent and filters."),
]  # fmt: skip
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page backward: the last n rows before `before` (0–{MAX_SIZE})."
        " Not with `first`."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(description="End before this cursor (an edge's `cursor`, or a"
                        " `startCursor`) of the same list, parent and filters."),
]  # fmt: skip


def window(
    info: Info[Any, Any],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Slice:
    """The client's page, and whether it reads `totalCount` (then the page statement
    counts the list as well)."""
    return Slice(first, after, last, before, counted=_reads_total(info))


def _reads_total(info: Info[Any, Any]) -> bool:
    # The planned executor names the fields a plan selects; strawberry's Info walks the
    # field's selections (fragments included).
    names: frozenset[str] | None = getattr(info, "selected_names", None)
    if names is not None:
        return TOTAL_COUNT in names
    return any(_selects(field.selections, TOTAL_COUNT) for field in info.selected_fields)


def _selects(selections: Sequence[Selection], name: str) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                return True
        elif _selects(selection.selections, name):  # a fragment's selections
            return True
    return False


@strawberry.interface(description="An object with a stable, type-prefixed global id.")
class Node:
    id: strawberry.ID = field(
        PUBLIC, description="Opaque and stable; its prefix names the type (`inv_…`)."
    )


@strawberry.type(description="An exact amount of money in a currency; never a float.")
class Money:
    amount: decimal.Decimal = field(
        PUBLIC,
        description='Major units at the currency\'s minor unit, e.g. "12.34" USD, "1200" JPY.',
    )
    currency: str = field(PUBLIC, description="ISO 4217 code, e.g. USD.")

    @classmethod
    def of(cls, value: values.Money) -> Money:
        return cls(amount=value.amount, currency=value.currency)


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = field(PUBLIC, description="Rows follow this page.")
    has_previous_page: bool = field(PUBLIC, description="Rows precede this page.")
    # Sealing a cursor costs an AES-SIV encryption: only the two asked for are made.
    cursors: strawberry.Private[Sequence[str]]

    @resolver(
        PUBLIC, description="The first row's cursor (null on an empty page); pass as `before`."
    )
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @resolver(PUBLIC, description="The last row's cursor (null on an empty page); pass as `after`.")
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


@strawberry.type(description="A row of a page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = field(PUBLIC, description="This row's place in its list; opaque.")
    node: T = field(PUBLIC, description="The row.")


@strawberry.type(description="One page of a list, in the list's order.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = field(PUBLIC, description="The page's rows with their cursors.")
    nodes: list[T] = field(PUBLIC, description="The page's rows.")
    page_info: PageInfo = field(PUBLIC, description="Cursors and whether rows lie beyond.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @resolver(PUBLIC, description="Rows matching the list's filters, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


def connection(page: Page, make: Callable[[Row], T]) -> Connection[T]:
    nodes = [make(row) for row in page.rows]
    info = PageInfo(
        has_next_page=page.has_next, has_previous_page=page.has_previous, cursors=page.cursors
    )
    edges = cast(list[Edge[T]], Edges(page.cursors, nodes))
    return Connection(edges=edges, nodes=nodes, page_info=info, count=page.count)


class Edges(Sequence[Edge[T]]):
    """A page's edges, made as they are read: each cursor is sealed (AES-SIV) for its
    row, and most clients read `nodes` alone."""

    def __init__(self, cursors: Sequence[str], nodes: list[T]) -> None:
        self._cursors, self._nodes = cursors, nodes

    def __len__(self) -> int:
        return len(self._nodes)

    @overload
    def __getitem__(self, index: int) -> Edge[T]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Edge[T]]: ...
    def __getitem__(self, index: int | slice) -> Edge[T] | Sequence[Edge[T]]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        return Edge(cursor=self._cursors[index], node=self._nodes[index])
