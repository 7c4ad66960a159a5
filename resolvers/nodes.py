"""node(id:) and nodes(ids:): the id's prefix picks the loader, and the loader's
table holds only ids of that prefix, so no id can load as another type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from resolvers import accounts, catalog, invoices, subscriptions
from resolvers.base import Ctx
from resolvers.errors import NotFound

# A row, or a value made from it (a subscription carries its state at `now`).
Fetch = Callable[[Ctx, str], Awaitable[Any]]

BY_PREFIX: Final[dict[str, tuple[str, Fetch]]] = {
    "acct_": ("Account", accounts.account),
    "ptr_": ("Partner", accounts.partner),
    "plan_": ("Plan", catalog.plan),
    "sub_": ("Subscription", subscriptions.subscription),
    "si_": ("SubscriptionItem", subscriptions.item),
    "inv_": ("Invoice", invoices.invoice),
    "il_": ("InvoiceLine", invoices.line),
    "mtr_": ("Meter", catalog.meter),
    "feat_": ("Feature", catalog.feature),
}
MAX_IDS: Final = 100


async def node(ctx: Ctx, node_id: str) -> tuple[str, Any]:
    prefix = node_id.split("_", 1)[0] + "_"
    if prefix not in BY_PREFIX:
        raise NotFound()
    type_name, fetch = BY_PREFIX[prefix]
    return type_name, await fetch(ctx, node_id)
