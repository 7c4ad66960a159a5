"""node(id:) and nodes(ids:) over every type (contract §3)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

import strawberry
from strawberry.types import Info

from resolvers import nodes
from resolvers.errors import BadUserInput, NotFound
from resolvers.invoices import line_value
from schema.accounts import Account, Partner
from schema.catalog import Feature, Meter, Plan
from schema.common import Node
from schema.context import RequestContext
from schema.invoices import Invoice, InvoiceLine
from schema.permissions import PUBLIC, resolver
from schema.subscriptions import Subscription, SubscriptionItem

MAKERS: Final[dict[str, Callable[[Any], Any]]] = {
    "Account": Account.of,
    "Partner": Partner.of,
    "Plan": Plan.of,
    "Subscription": Subscription.of,
    "SubscriptionItem": SubscriptionItem.of,
    "Invoice": Invoice.of,
    "InvoiceLine": lambda row: InvoiceLine.of(line_value(row)),
    "Meter": Meter.of,
    "Feature": Feature.of,
}


async def _node(info: Info[RequestContext, None], node_id: str) -> Node:
    type_name, row = await nodes.node(info.context, node_id)
    made: Node = MAKERS[type_name](row)
    return made


async def _or_error(info: Info[RequestContext, None], node_id: str) -> Node | NotFound:
    try:
        return await _node(info, node_id)
    except NotFound as exc:
        return exc


@strawberry.type
class Query:
    @resolver(PUBLIC, description="Any object by its id; null with NOT_FOUND when out of reach.")
    async def node(self, info: Info[RequestContext, None], id: strawberry.ID) -> Node | None:
        return await _node(info, id)

    @resolver(PUBLIC, description=f"Up to {nodes.MAX_IDS} objects by id, in the order asked.")
    async def nodes(
        self, info: Info[RequestContext, None], ids: list[strawberry.ID]
    ) -> list[Node | None]:
        if len(ids) > nodes.MAX_IDS:
            raise BadUserInput(f"`ids` takes at most {nodes.MAX_IDS} ids.")
        found = await asyncio.gather(*(_or_error(info, i) for i in ids))
        return list(found)  # type: ignore[arg-type]
