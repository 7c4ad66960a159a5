"""Mutations of subscriptions: cancel, resume, change plan (subscriptions:write)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from resolvers import invoices, subscription_writes, subscriptions
from schema.context import RequestContext
from schema.payloads import OutcomePayload, answer
from schema.permissions import INVOICES_READ, PUBLIC, SUBSCRIPTIONS_WRITE, mutation, resolver
from schema.subscriptions import Subscription

if TYPE_CHECKING:
    from schema.invoices import Invoice

Ctx = Info[RequestContext, None]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.invoices")]
INPUT = "What to do; see the input type."
KEY_DESCRIPTION = (
    "Retrying with the same key and input answers the first result and writes nothing"
    " more; the same key with another input is refused. Scoped to the token's subject"
    " and this mutation; kept 7 days."
)


@strawberry.input(description="Cancel a subscription at the end of its period, or now.")
class CancelSubscriptionInput:
    id: strawberry.ID = strawberry.field(description="The subscription (sub_…).")
    at_period_end: bool = strawberry.field(
        default=True,
        description="true: it stays ACTIVE until its period ends, then CANCELED with a final"
        " invoice of that period's usage. false: CANCELED now, with a final invoice now.",
    )
    prorate: bool = strawberry.field(
        default=False,
        description="With atPeriodEnd false: credit the unused time of what was billed in"
        " advance on the final invoice.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(description="Undo a pending cancel before the period ends.")
class ResumeSubscriptionInput:
    id: strawberry.ID = strawberry.field(description="The subscription (sub_…).")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.input(description="Move a subscription to another base plan now.")
class ChangeSubscriptionPlanInput:
    id: strawberry.ID = strawberry.field(description="The subscription (sub_…).")
    plan_id: strawberry.ID = strawberry.field(
        description="An active base plan of the same currency and interval (plan_…)."
    )
    prorate: bool = strawberry.field(
        default=True,
        description="Bill now a credit for the old plan's unused time and a charge for the"
        " new plan's remaining time (PRORATION lines, taxed). false: no invoice now; the"
        " next period bills the new plan.",
    )
    quote_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A quote from previewPlanChange: bill exactly its lines and total, or"
        " refuse (CONFLICT when the subscription changed since; BAD_USER_INPUT when it"
        " expired or was issued to another caller).",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.type(description="What a subscription mutation did.")
class SubscriptionPayload(OutcomePayload):
    @resolver(PUBLIC, description="The subscription as it is now; null when nothing was done.")
    async def subscription(self, info: Ctx) -> Subscription | None:
        sub_id = self.written("subscription")
        if sub_id is None:
            return None
        info.context.loaders.subscription.clear(sub_id)  # it changed within this request
        return Subscription.of(await subscriptions.subscription(info.context, sub_id))

    @resolver(INVOICES_READ, description="The invoice the change issued, if it issued one.")
    async def invoice(self, info: Ctx) -> InvoiceT | None:
        from schema.invoices import Invoice

        invoice_id = None if self.error else self.written("invoice")
        if invoice_id is None:
            return None
        return Invoice.of(await invoices.invoice(info.context, invoice_id))


@strawberry.type
class Mutation:
    @mutation(
        SUBSCRIPTIONS_WRITE,
        SubscriptionPayload,
        description="Cancel at the period's end (default) or now, with a final invoice.",
    )
    async def cancel_subscription(
        self,
        info: Ctx,
        input: Annotated[CancelSubscriptionInput, strawberry.argument(description=INPUT)],
    ) -> SubscriptionPayload:
        return await answer(
            SubscriptionPayload,
            subscription_writes.cancel(
                info.context, input.id, input.at_period_end, input.prorate, input.idempotency_key
            ),
        )

    @mutation(
        SUBSCRIPTIONS_WRITE,
        SubscriptionPayload,
        description="Undo a cancel scheduled for the end of the current period.",
    )
    async def resume_subscription(
        self,
        info: Ctx,
        input: Annotated[ResumeSubscriptionInput, strawberry.argument(description=INPUT)],
    ) -> SubscriptionPayload:
        return await answer(
            SubscriptionPayload,
            subscription_writes.resume(info.context, input.id, input.idempotency_key),
        )

    @mutation(
        SUBSCRIPTIONS_WRITE,
        SubscriptionPayload,
        description="Change plan now, with exact time-based proration billed on an invoice"
        " issued now; the next period bills the new plan.",
    )
    async def change_subscription_plan(
        self,
        info: Ctx,
        input: Annotated[ChangeSubscriptionPlanInput, strawberry.argument(description=INPUT)],
    ) -> SubscriptionPayload:
        return await answer(
            SubscriptionPayload,
            subscription_writes.change_plan(
                info.context,
                input.id,
                input.plan_id,
                input.prorate,
                input.quote_id,
                input.idempotency_key,
            ),
        )
