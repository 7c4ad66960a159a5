"""node(id:) and nodes(ids:) over every type (docs/ids.md). Each is an entry into the
domain of the id's type, so it needs what a field leading there needs (domains.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Final

import strawberry
from strawberry.types import Info

from resolvers import nodes
from resolvers.errors import BadUserInput, Forbidden
from resolvers.invoices import line_value
from schema.accounts import Account, Partner
from schema.catalog import Feature, Meter, Plan
from schema.common import Node
from schema.context import RequestContext
from schema.domains import entry_rule
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
    type_name = nodes.type_of(node_id)
    scope = entry_rule(type_name).scope
    if scope is not None and not info.context.principal.has_scope(scope):
        raise Forbidden(f"Reading a {type_name} needs the {scope} scope.")
    made: Node = MAKERS[type_name](await nodes.fetch(info.context, type_name, node_id))
    return made


async def _or_error(info: Info[RequestContext, None], node_id: str) -> Node | Exception:
    """The node, or the error that nulls this entry alone (graphql-core reports an
    exception returned in a list at that entry's path)."""
    try:
        return await _node(info, node_id)
    except Exception as exc:  # one entry's failure is its own
        return exc


@strawberry.type
class Query:
    @resolver(PUBLIC, description="Any object by its id; null with NOT_FOUND when out of reach.")
    async def node(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="Any object's id.")],
    ) -> Node | None:
        return await _node(info, id)

    @resolver(
        PUBLIC,
        description=f"Up to {nodes.MAX_IDS} objects by id, in the order asked; an entry that"
        " cannot be read is null with its own error.",
    )
    async def nodes(
        self,
        info: Info[RequestContext, None],
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="The ids.")],
    ) -> list[Node | None]:
        if len(ids) > nodes.MAX_IDS:
            raise BadUserInput(f"`ids` takes at most {nodes.MAX_IDS} ids.")
        found = await asyncio.gather(*(_or_error(info, i) for i in ids))
        return list(found)  # type: ignore[arg-type]
