"""Accounts and partners, and the root fields that reach them."""

from __future__ import annotations

import decimal
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from loaders.base import Row
from resolvers import accounts, entitlements, invoices, subscriptions, usage
from resolvers.accounts import ROOT
from resolvers.invoices import InvoiceFilter
from resolvers.values import quantity
from schema.common import Connection, Node, connection
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

if TYPE_CHECKING:
    from schema.entitlements import Entitlement
    from schema.invoices import Invoice, InvoicePreview, InvoiceStatus
    from schema.subscriptions import Subscription, SubscriptionStatus
    from schema.usage import UsageGranularity, UsageSeries

Ctx = Info[RequestContext, None]
SubscriptionT = Annotated["Subscription", strawberry.lazy("schema.subscriptions")]
SubscriptionStatusT = Annotated["SubscriptionStatus", strawberry.lazy("schema.subscriptions")]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.invoices")]
InvoiceStatusT = Annotated["InvoiceStatus", strawberry.lazy("schema.invoices")]
InvoicePreviewT = Annotated["InvoicePreview", strawberry.lazy("schema.invoices")]
UsageSeriesT = Annotated["UsageSeries", strawberry.lazy("schema.usage")]
GranularityT = Annotated["UsageGranularity", strawberry.lazy("schema.usage")]
EntitlementT = Annotated["Entitlement", strawberry.lazy("schema.entitlements")]


@strawberry.type(description="A partner that manages some accounts.")
class Partner(Node):
    id: strawberry.ID = field(PUBLIC)
    name: str = field(ACCOUNTS_READ)

    @resolver(ACCOUNTS_READ, description="The accounts it manages that this token reaches.")
    async def accounts(
        self, info: Ctx, first: int | None = None, after: str | None = None
    ) -> Connection[Account]:
        page = await accounts.accounts_page(info.context, self.id, first, after)
        return connection(page, Account.of)

    @classmethod
    def of(cls, row: Row) -> Partner:
        return cls(id=row["id"], name=row["name"])


@strawberry.type(description="A billed customer account.")
class Account(Node):
    id: strawberry.ID = field(PUBLIC)
    name: str = field(ACCOUNTS_READ)
    currency: str = field(ACCOUNTS_READ, description="ISO 4217; every amount bills in it.")
    created_at: datetime = field(ACCOUNTS_READ)
    tax_rate: decimal.Decimal = field(ACCOUNTS_READ, description="Applied to each subtotal.")
    row: strawberry.Private[Row]

    @resolver(ACCOUNTS_READ, description="Who manages it, if anyone.")
    async def partner(self, info: Ctx) -> Partner | None:
        row = await accounts.partner_of(info.context, self.row)
        return None if row is None else Partner.of(row)

    @resolver(SUBSCRIPTIONS_READ, description="Newest first.")
    async def subscriptions(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        status: list[SubscriptionStatusT] | None = None,
    ) -> Connection[SubscriptionT] | None:
        from schema.subscriptions import Subscription

        statuses = None if status is None else tuple(sorted(s.value for s in status))
        page = await subscriptions.subscriptions_page(info.context, self.id, first, after, statuses)
        now = info.context.now
        return connection(page, lambda row: Subscription.of_row(row, now))

    @resolver(INVOICES_READ, description="Newest first; issued filters are [after, before).")
    async def invoices(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        status: list[InvoiceStatusT] | None = None,
        issued_after: datetime | None = None,
        issued_before: datetime | None = None,
    ) -> Connection[InvoiceT] | None:
        from schema.invoices import Invoice

        statuses = None if status is None else tuple(sorted(s.value for s in status))
        where = InvoiceFilter(statuses, issued_after, issued_before)
        page = await invoices.invoices_page(info.context, self.id, False, first, after, where)
        return connection(page, Invoice.of)

    @resolver(INVOICES_READ, description="What the current period bills so far.")
    async def upcoming_invoice(
        self, info: Ctx, subscription_id: strawberry.ID | None = None
    ) -> InvoicePreviewT | None:
        from schema.invoices import InvoicePreview

        value = await invoices.upcoming_invoice(info.context, self.row, subscription_id)
        return None if value is None else InvoicePreview.of(value)

    @resolver(USAGE_READ, description="[from, to) in UTC buckets, one point per bucket.")
    async def usage(
        self,
        info: Ctx,
        meter: str,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        granularity: GranularityT | None = None,
    ) -> UsageSeriesT | None:
        from schema.usage import UsageSeries

        grain = "DAY" if granularity is None else granularity.value
        value = await usage.usage_series(info.context, self.id, meter, from_, to, grain)
        return UsageSeries.of(value)

    @resolver(ENTITLEMENTS_READ, description="Everything in force now, by feature key.")
    async def entitlements(self, info: Ctx) -> list[EntitlementT] | None:
        from schema.entitlements import Entitlement

        values = await entitlements.account_entitlements(info.context, self.id)
        return [Entitlement.of(v) for v in values]

    @resolver(ENTITLEMENTS_READ, description="One feature by key (disabled when not held).")
    async def entitlement(self, info: Ctx, feature: str) -> EntitlementT | None:
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
    @resolver(PUBLIC, description="An account in this token's reach.")
    async def account(self, info: Ctx, id: strawberry.ID) -> Account | None:
        return Account.of(await accounts.account(info.context, id))

    @resolver(PUBLIC, description="Every account in this token's reach, oldest first.")
    async def accounts(
        self, info: Ctx, first: int | None = None, after: str | None = None
    ) -> Connection[Account]:
        page = await accounts.accounts_page(info.context, ROOT, first, after)
        return connection(page, Account.of)
