"""Accounts and partners, and the root fields that reach them."""

from __future__ import annotations

import decimal
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from loaders.base import Row
from resolvers import accounts, entitlements, invoices, subscriptions, usage
from resolvers.invoices import InvoiceFilter
from resolvers.values import quantity
from schema.common import After, Before, Connection, First, Last, Node, connection, window
from schema.context import RequestContext
from schema.permissions import (
    ACCOUNTS_READ,
    ENTITLEMENTS_READ,
    INVOICES_READ,
    PUBLIC,
    SUBSCRIPTIONS_READ,
    USAGE_READ,
    field,
    resolver,
)
from schema.usage import UsageGranularity

if TYPE_CHECKING:
    from schema.entitlements import Entitlement
    from schema.invoices import Invoice, InvoicePreview, InvoiceStatus
    from schema.subscriptions import Subscription, SubscriptionStatus
    from schema.usage import UsageSeries

Ctx = Info[RequestContext, None]
SubscriptionT = Annotated["Subscription", strawberry.lazy("schema.subscriptions")]
SubscriptionStatusT = Annotated["SubscriptionStatus", strawberry.lazy("schema.subscriptions")]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.invoices")]
InvoiceStatusT = Annotated["InvoiceStatus", strawberry.lazy("schema.invoices")]
InvoicePreviewT = Annotated["InvoicePreview", strawberry.lazy("schema.invoices")]
UsageSeriesT = Annotated["UsageSeries", strawberry.lazy("schema.usage")]
EntitlementT = Annotated["Entitlement", strawberry.lazy("schema.entitlements")]


def _arg(description: str) -> object:
    return strawberry.argument(description=description)


@strawberry.type(description="A partner that manages some accounts (needs accounts:read).")
class Partner(Node):
    id: strawberry.ID = field(PUBLIC, description="`ptr_…`.")
    name: str = field(PUBLIC, description="The partner's name.")

    @resolver(PUBLIC, description="The accounts it manages that this token reaches, oldest first.")
    async def accounts(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Account]:
        page = await accounts.accounts_page(
            info.context, self.id, window(info, first, after, last, before)
        )
        return connection(page, Account.of)

    @classmethod
    def of(cls, row: Row) -> Partner:
        return cls(id=row["id"], name=row["name"])


@strawberry.type(
    description="A billed customer account. Its identity needs only a valid token; each"
    " field leading into a domain (partner, subscriptions, invoices, usage, entitlements)"
    " needs that domain's read scope."
)
class Account(Node):
    id: strawberry.ID = field(PUBLIC, description="`acct_…`.")
    name: str = field(PUBLIC, description="The account's name.")
    currency: str = field(PUBLIC, description="ISO 4217; every amount of the account bills in it.")
    created_at: datetime = field(PUBLIC, description="When the account was opened.")
    tax_rate: decimal.Decimal | None = field(
        ACCOUNTS_READ,
        description='Tax rate applied to each subtotal ("0.0825" = 8.25 %). Needs accounts:read.',
    )
    row: strawberry.Private[Row]

    @resolver(ACCOUNTS_READ, description="Who manages it, if anyone. Needs accounts:read.")
    async def partner(self, info: Ctx) -> Partner | None:
        row = await accounts.partner_of(info.context, self.row)
        return None if row is None else Partner.of(row)

    @resolver(SUBSCRIPTIONS_READ, description="Newest first. Needs subscriptions:read.")
    async def subscriptions(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        status: Annotated[
            list[SubscriptionStatusT] | None,
            _arg("Only subscriptions in these statuses now (null: every status)."),
        ] = None,
    ) -> Connection[SubscriptionT] | None:
        from schema.subscriptions import Subscription

        statuses = None if status is None else tuple(sorted({s.name for s in status}))
        page = await subscriptions.subscriptions_page(
            info.context, self.id, window(info, first, after, last, before), statuses
        )
        now = info.context.now
        return connection(page, lambda row: Subscription.of_row(row, now))

    @resolver(INVOICES_READ, description="Newest first. Needs invoices:read.")
    async def invoices(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        status: Annotated[
            list[InvoiceStatusT] | None, _arg("Only invoices in these statuses (null: every one).")
        ] = None,
        issued_after: Annotated[
            datetime | None, _arg("Only invoices issued at or after this instant.")
        ] = None,
        issued_before: Annotated[
            datetime | None, _arg("Only invoices issued before this instant.")
        ] = None,
    ) -> Connection[InvoiceT] | None:
        from schema.invoices import Invoice

        statuses = None if status is None else tuple(sorted({s.name for s in status}))
        where = InvoiceFilter(statuses, issued_after, issued_before)
        page = await invoices.invoices_page(
            info.context,
            "Account.invoices",
            self.id,
            window(info, first, after, last, before),
            where,
        )
        return connection(page, Invoice.of)

    @resolver(
        INVOICES_READ,
        description="What the end of the current period will bill so far, for a live"
        " subscription (null without one). Needs invoices:read.",
    )
    async def upcoming_invoice(
        self,
        info: Ctx,
        subscription_id: Annotated[
            strawberry.ID | None,
            _arg("The subscription to preview (default: the account's oldest live one)."),
        ] = None,
    ) -> InvoicePreviewT | None:
        from schema.invoices import InvoicePreview

        value = await invoices.upcoming_invoice(info.context, self.row, subscription_id)
        return None if value is None else InvoicePreview.of(value)

    @resolver(
        USAGE_READ,
        description="A meter's use over [from, to) in whole UTC buckets, one point per"
        " bucket, empty ones 0. Needs usage:read.",
    )
    async def usage(
        self,
        info: Ctx,
        meter: Annotated[str, _arg("The meter's key, e.g. `requests`.")],
        from_: Annotated[
            datetime,
            strawberry.argument(name="from", description="Start (widened to its bucket's start)."),
        ],
        to: Annotated[datetime, _arg("End, exclusive (widened to its bucket's end).")],
        granularity: Annotated[
            UsageGranularity | None, _arg("Bucket width (null: DAY).")
        ] = UsageGranularity.DAY,
    ) -> UsageSeriesT | None:
        from schema.usage import UsageSeries

        grain = "DAY" if granularity is None else granularity.name
        value = await usage.usage_series(info.context, self.id, meter, from_, to, grain)
        return UsageSeries.of(value)

    @resolver(
        ENTITLEMENTS_READ,
        description="Every feature in force now, by feature key. Needs entitlements:read.",
    )
    async def entitlements(self, info: Ctx) -> list[EntitlementT] | None:
        from schema.entitlements import Entitlement

        values = await entitlements.account_entitlements(info.context, self.id)
        return [Entitlement.of(v) for v in values]

    @resolver(
        ENTITLEMENTS_READ,
        description="One feature by key (disabled when not held). Needs entitlements:read.",
    )
    async def entitlement(
        self, info: Ctx, feature: Annotated[str, _arg("The feature's key, e.g. `sso`.")]
    ) -> EntitlementT | None:
        from schema.entitlements import Entitlement

        value = await entitlements.account_entitlement(info.context, self.id, feature)
        return Entitlement.of(value)

    @classmethod
    def of(cls, row: Row) -> Account:
        return cls(
            id=row["id"],
            name=row["name"],
            currency=row["currency"].strip(),
            created_at=row["created_at"],
            tax_rate=quantity(row["tax_rate"]),
            row=row,
        )


@strawberry.type
class Query:
    @resolver(PUBLIC, description="An account in this token's reach; null with NOT_FOUND if not.")
    async def account(
        self, info: Ctx, id: Annotated[strawberry.ID, _arg("The account's id, `acct_…`.")]
    ) -> Account | None:
        return Account.of(await accounts.account(info.context, id))

    @resolver(PUBLIC, description="Every account in this token's reach, oldest first.")
    async def accounts(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Account]:
        page = await accounts.accounts_page(
            info.context, None, window(info, first, after, last, before)
        )
        return connection(page, Account.of)
