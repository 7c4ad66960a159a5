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

PREFIXES: Final[dict[str, str]] = {
    "acct_": "Account",
    "ptr_": "Partner",
    "plan_": "Plan",
    "sub_": "Subscription",
    "si_": "SubscriptionItem",
    "inv_": "Invoice",
    "il_": "InvoiceLine",
    "mtr_": "Meter",
    "feat_": "Feature",
}
FETCH: Final[dict[str, Fetch]] = {
    "Account": accounts.account,
    "Partner": accounts.partner,
    "Plan": catalog.plan,
    "Subscription": subscriptions.subscription,
    "SubscriptionItem": subscriptions.item,
    "Invoice": invoices.invoice,
    "InvoiceLine": invoices.line,
    "Meter": catalog.meter,
    "Feature": catalog.feature,
}
MAX_IDS: Final = 100


def type_of(node_id: str) -> str:
    """The type an id's prefix names; NOT_FOUND for any other id."""
    type_name = PREFIXES.get(node_id.split("_", 1)[0] + "_")
    if type_name is None:
        raise NotFound()
    return type_name


async def fetch(ctx: Ctx, type_name: str, node_id: str) -> Any:
    return await FETCH[type_name](ctx, node_id)
