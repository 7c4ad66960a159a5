"""Subscriptions, their add-on items, and plan-change quotes."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from loaders.base import Row
from resolvers import accounts, catalog, invoices, plan_changes, subscriptions
from resolvers.subscriptions import SubscriptionValue
from schema.catalog import Plan
from schema.common import Connection, Money, Node, connection
from schema.context import RequestContext
from schema.permissions import (
    ACCOUNTS_READ,
    INVOICES_READ,
    PUBLIC,
    SUBSCRIPTIONS_READ,
    field,
    resolver,
)

if TYPE_CHECKING:
    from schema.accounts import Account
    from schema.invoices import Invoice, InvoiceLine

Ctx = Info[RequestContext, None]
AccountT = Annotated["Account", strawberry.lazy("schema.accounts")]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.invoices")]
InvoiceLineT = Annotated["InvoiceLine", strawberry.lazy("schema.invoices")]


@strawberry.enum
class SubscriptionStatus(Enum):
    TRIALING = "TRIALING"
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    PAUSED = "PAUSED"
    CANCELED = "CANCELED"


@strawberry.type(description="An add-on billed with its subscription.")
class SubscriptionItem(Node):
    id: strawberry.ID = field(PUBLIC)
    quantity: int = field(SUBSCRIPTIONS_READ)
    created_at: datetime = field(SUBSCRIPTIONS_READ)
    plan_id: strawberry.Private[str]

    @resolver(SUBSCRIPTIONS_READ)
    async def plan(self, info: Ctx) -> Plan:
        return Plan.of(await catalog.plan(info.context, self.plan_id))

    @classmethod
    def of(cls, row: Row) -> SubscriptionItem:
        return cls(
            id=row["id"],
            quantity=row["quantity"],
            created_at=row["created_at"],
            plan_id=row["plan_id"],
        )


@strawberry.type(
    description="The exact lines a plan change now would bill, as a quote:"
    " changeSubscriptionPlan(quoteId:) bills these lines and this total, or refuses."
)
class PlanChangePreview:
    quote_id: strawberry.ID = field(
        SUBSCRIPTIONS_READ, description="Pass to changeSubscriptionPlan to bill exactly this."
    )
    expires_at: datetime = field(SUBSCRIPTIONS_READ, description="15 minutes after it was quoted.")
    lines: list[InvoiceLineT] = field(
        SUBSCRIPTIONS_READ, description="A credit for the old plan, a charge for the new one."
    )
    subtotal: Money = field(SUBSCRIPTIONS_READ, description="Σ lines.")
    tax: Money = field(SUBSCRIPTIONS_READ, description="At the account's tax rate.")
    total: Money = field(SUBSCRIPTIONS_READ, description="subtotal + tax: what the invoice bills.")


@strawberry.type(description="An account's subscription to a base plan.")
class Subscription(Node):
    id: strawberry.ID = field(PUBLIC)
    status: SubscriptionStatus = field(SUBSCRIPTIONS_READ)
    quantity: int = field(SUBSCRIPTIONS_READ)
    current_period_start: datetime = field(SUBSCRIPTIONS_READ)
    current_period_end: datetime = field(SUBSCRIPTIONS_READ)
    cancel_at_period_end: bool = field(SUBSCRIPTIONS_READ)
    canceled_at: datetime | None = field(SUBSCRIPTIONS_READ)
    trial_end: datetime | None = field(SUBSCRIPTIONS_READ)
    created_at: datetime = field(SUBSCRIPTIONS_READ)
    value: strawberry.Private[SubscriptionValue]

    @property
    def row(self) -> Row:
        return self.value.row

    @resolver(ACCOUNTS_READ)
    async def account(self, info: Ctx) -> AccountT:
        from schema.accounts import Account

        return Account.of(await accounts.account(info.context, self.row["account_id"]))

    @resolver(SUBSCRIPTIONS_READ)
    async def plan(self, info: Ctx) -> Plan:
        return Plan.of(await catalog.plan(info.context, self.row["plan_id"]))

    @resolver(SUBSCRIPTIONS_READ, description="Add-ons, oldest first.")
    async def items(self, info: Ctx) -> list[SubscriptionItem]:
        return [SubscriptionItem.of(r) for r in await subscriptions.items(info.context, self.id)]

    @resolver(INVOICES_READ, description="Newest first.")
    async def invoices(
        self, info: Ctx, first: int | None = None, after: str | None = None
    ) -> Connection[InvoiceT] | None:
        from schema.invoices import Invoice

        page = await invoices.invoices_page(info.context, self.id, True, first, after)
        return connection(page, Invoice.of)

    @resolver(SUBSCRIPTIONS_READ, description="Quote the proration of a change to planId now.")
    async def preview_plan_change(
        self, info: Ctx, plan_id: strawberry.ID
    ) -> PlanChangePreview | None:
        from schema.invoices import InvoiceLine

        quote = await plan_changes.preview(info.context, self.value, plan_id)
        return PlanChangePreview(
            quote_id=strawberry.ID(quote.quote_id),
            expires_at=quote.expires_at,
            lines=[InvoiceLine.of(v) for v in quote.lines],
            subtotal=Money.of(quote.subtotal),
            tax=Money.of(quote.tax),
            total=Money.of(quote.total),
        )

    @classmethod
    def of(cls, value: SubscriptionValue) -> Subscription:
        """The subscription in its state at the request's instant."""
        row, state = value.row, value.state
        return cls(
            id=row["id"],
            status=SubscriptionStatus(state.status),
            quantity=row["quantity"],
            current_period_start=state.period_start,
            current_period_end=state.period_end,
            cancel_at_period_end=state.cancel_at_period_end,
            canceled_at=row["canceled_at"],
            trial_end=row["trial_end"],
            created_at=row["created_at"],
            value=value,
        )

    @classmethod
    def of_row(cls, row: Row, now: datetime) -> Subscription:
        return cls.of(subscriptions.subscription_value(row, now))
