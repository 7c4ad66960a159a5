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
from schema.common import After, Before, Connection, First, Last, Money, Node, connection, window
from schema.context import RequestContext
from schema.permissions import INVOICES_READ, PUBLIC, field, resolver

if TYPE_CHECKING:
    from schema.accounts import Account
    from schema.invoices import Invoice, InvoiceLine

Ctx = Info[RequestContext, None]
AccountT = Annotated["Account", strawberry.lazy("schema.accounts")]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.invoices")]
InvoiceLineT = Annotated["InvoiceLine", strawberry.lazy("schema.invoices")]


@strawberry.enum(description="Where a subscription stands at the request's instant.")
class SubscriptionStatus(Enum):
    TRIALING = strawberry.enum_value(
        "TRIALING", description="In its free trial; bills nothing until the trial ends."
    )
    ACTIVE = strawberry.enum_value("ACTIVE", description="Billing each period.")
    PAST_DUE = strawberry.enum_value(
        "PAST_DUE", description="Billing, with an invoice unpaid after its due date."
    )
    PAUSED = strawberry.enum_value(
        "PAUSED", description="Not billing and granting nothing until resumed."
    )
    CANCELED = strawberry.enum_value("CANCELED", description="Ended; bills nothing more.")


@strawberry.type(description="An add-on billed with its subscription.")
class SubscriptionItem(Node):
    id: strawberry.ID = field(PUBLIC, description="`si_…`.")
    quantity: int = field(PUBLIC, description="Units of the add-on billed each period.")
    created_at: datetime = field(PUBLIC, description="When it was added.")
    plan_id: strawberry.Private[str]

    @resolver(PUBLIC, description="The add-on plan.")
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
    description="The exact lines a plan change now would bill, as a quote"
    " (`changeSubscriptionPlan` can be held to it until it expires). Invoice data."
)
class PlanChangePreview:
    quote_id: strawberry.ID = field(PUBLIC, description="Pass to the change to bill exactly this.")
    expires_at: datetime = field(PUBLIC, description="The quote is good until then.")
    lines: list[InvoiceLineT] = field(
        PUBLIC,
        description="The credit for the unused time on the old plan and the charge for the"
        " rest of the period on the new one (PRORATION lines). Not stored: their ids are"
        " not node ids.",
    )
    subtotal: Money = field(PUBLIC, description="Σ lines.")
    tax: Money = field(PUBLIC, description="At the account's tax rate, rounded once.")
    total: Money = field(
        PUBLIC, description="subtotal + tax: what the change bills now, to the minor unit."
    )


@strawberry.type(description="An account's subscription to a base plan.")
class Subscription(Node):
    id: strawberry.ID = field(PUBLIC, description="`sub_…`.")
    status: SubscriptionStatus = field(PUBLIC, description="Its status now.")
    quantity: int = field(PUBLIC, description="Units of the base plan billed each period.")
    current_period_start: datetime = field(
        PUBLIC, description="Start of the billing period that contains now."
    )
    current_period_end: datetime = field(
        PUBLIC, description="End (exclusive) of that period; the next invoice is issued then."
    )
    cancel_at_period_end: bool = field(
        PUBLIC, description="It ends at the end of this period (still ACTIVE until then)."
    )
    canceled_at: datetime | None = field(PUBLIC, description="When it was canceled, if it was.")
    trial_end: datetime | None = field(PUBLIC, description="When its trial ends or ended.")
    created_at: datetime = field(PUBLIC, description="When it started.")
    value: strawberry.Private[SubscriptionValue]

    @property
    def row(self) -> Row:
        return self.value.row

    @resolver(PUBLIC, description="The account it bills.")
    async def account(self, info: Ctx) -> AccountT:
        from schema.accounts import Account

        return Account.of(await accounts.account(info.context, self.row["account_id"]))

    @resolver(PUBLIC, description="The base plan.")
    async def plan(self, info: Ctx) -> Plan:
        return Plan.of(await catalog.plan(info.context, self.row["plan_id"]))

    @resolver(PUBLIC, description="Add-ons, oldest first.")
    async def items(self, info: Ctx) -> list[SubscriptionItem]:
        return [SubscriptionItem.of(r) for r in await subscriptions.items(info.context, self.id)]

    @resolver(INVOICES_READ, description="Its invoices, newest first. Needs invoices:read.")
    async def invoices(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[InvoiceT] | None:
        from schema.invoices import Invoice

        slice_ = window(info, first, after, last, before)
        page = await invoices.invoices_page(info.context, "Subscription.invoices", self.id, slice_)
        return connection(page, Invoice.of)

    @resolver(
        INVOICES_READ,
        description="Quote the proration of a change to another base plan now. Writes"
        " nothing. Needs invoices:read.",
    )
    async def preview_plan_change(
        self,
        info: Ctx,
        plan_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="An active base plan in the same currency and interval."
            ),
        ],
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
