"""Types every domain uses: Node, Money, and Relay connections."""

from __future__ import annotations

import decimal
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from loaders.base import Row
from resolvers import values
from resolvers.connections import Page
from schema.permissions import PUBLIC, field, resolver

T = TypeVar("T")


@strawberry.interface(description="An object with a stable, type-prefixed global id.")
class Node:
    id: strawberry.ID = field(PUBLIC)


@strawberry.type(description="An exact amount of money in a currency; never a float.")
class Money:
    amount: decimal.Decimal = field(PUBLIC, description='Major units, e.g. "12.34".')
    currency: str = field(PUBLIC, description="ISO 4217 code.")

    @classmethod
    def of(cls, value: values.Money) -> Money:
        return cls(amount=value.amount, currency=value.currency)


@strawberry.type
class PageInfo:
    has_next_page: bool = field(PUBLIC)
    has_previous_page: bool = field(PUBLIC)
    start_cursor: str | None = field(PUBLIC)
    end_cursor: str | None = field(PUBLIC)


@strawberry.type
class Edge(Generic[T]):
    cursor: str = field(PUBLIC)
    node: T = field(PUBLIC)


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]] = field(PUBLIC)
    nodes: list[T] = field(PUBLIC)
    page_info: PageInfo = field(PUBLIC)
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @resolver(PUBLIC, description="Rows matching the list's filters, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


def connection(page: Page, make: Callable[[Row], T]) -> Connection[T]:
    nodes = [make(row) for row in page.rows]
    info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
    edges = [Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)]
    return Connection(edges=edges, nodes=nodes, page_info=info, count=page.count)
