"""Invoices, their lines, and the upcoming invoice."""

from __future__ import annotations

import decimal
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from loaders.base import Row
from resolvers import accounts, catalog, invoices, subscriptions
from resolvers.invoices import PreviewValue, invoice_money, line_value
from resolvers.values import LineValue, money, quantity
from schema.catalog import Meter
from schema.common import Connection, Money, Node, connection
from schema.context import RequestContext
from schema.permissions import INVOICES_READ, PUBLIC, field, resolver

if TYPE_CHECKING:
    from schema.accounts import Account
    from schema.subscriptions import Subscription

Ctx = Info[RequestContext, None]
AccountT = Annotated["Account", strawberry.lazy("schema.accounts")]
SubscriptionT = Annotated["Subscription", strawberry.lazy("schema.subscriptions")]


@strawberry.enum
class InvoiceStatus(Enum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PAID = "PAID"
    VOID = "VOID"
    UNCOLLECTIBLE = "UNCOLLECTIBLE"


@strawberry.enum
class InvoiceLineKind(Enum):
    SUBSCRIPTION = "SUBSCRIPTION"
    USAGE = "USAGE"
    PRORATION = "PRORATION"
    ADJUSTMENT = "ADJUSTMENT"


@strawberry.type(description="One line: amount = quantity × unit amount, rounded once.")
class InvoiceLine(Node):
    id: strawberry.ID = field(PUBLIC)
    kind: InvoiceLineKind = field(INVOICES_READ)
    description: str = field(INVOICES_READ)
    quantity: decimal.Decimal = field(INVOICES_READ)
    unit_amount: Money = field(INVOICES_READ)
    amount: Money = field(INVOICES_READ)
    period_start: datetime | None = field(INVOICES_READ)
    period_end: datetime | None = field(INVOICES_READ)
    meter_id: strawberry.Private[str | None]

    @resolver(INVOICES_READ, description="The meter of a USAGE line.")
    async def meter(self, info: Ctx) -> Meter | None:
        if self.meter_id is None:
            return None
        return Meter.of(await catalog.meter(info.context, self.meter_id))

    @classmethod
    def of(cls, v: LineValue) -> InvoiceLine:
        return cls(
            id=strawberry.ID(v.id),
            kind=InvoiceLineKind(v.kind),
            description=v.description,
            quantity=v.quantity,
            unit_amount=Money.of(v.unit_amount),
            amount=Money.of(v.amount),
            period_start=v.period_start,
            period_end=v.period_end,
            meter_id=v.meter_id,
        )

    @classmethod
    def of_row(cls, row: Row) -> InvoiceLine:
        return cls.of(line_value(row))


@strawberry.type(description="A bill: subtotal = Σ lines, total = subtotal + tax.")
class Invoice(Node):
    id: strawberry.ID = field(PUBLIC)
    number: str = field(INVOICES_READ)
    status: InvoiceStatus = field(INVOICES_READ)
    currency: str = field(INVOICES_READ)
    period_start: datetime = field(INVOICES_READ)
    period_end: datetime = field(INVOICES_READ)
    issued_at: datetime | None = field(INVOICES_READ)
    due_at: datetime | None = field(INVOICES_READ)
    paid_at: datetime | None = field(INVOICES_READ)
    subtotal: Money = field(INVOICES_READ)
    tax: Money = field(INVOICES_READ)
    total: Money = field(INVOICES_READ)
    amount_paid: Money = field(INVOICES_READ)
    amount_due: Money = field(INVOICES_READ, description="total − amountPaid.")
    tax_rate: decimal.Decimal = field(INVOICES_READ, description="The rate tax was billed at.")
    row: strawberry.Private[Row]

    @resolver(INVOICES_READ)
    async def account(self, info: Ctx) -> AccountT:
        from schema.accounts import Account

        return Account.of(await accounts.account(info.context, self.row["account_id"]))

    @resolver(INVOICES_READ)
    async def subscription(self, info: Ctx) -> SubscriptionT | None:
        from schema.subscriptions import Subscription

        sub_id = self.row["subscription_id"]
        if sub_id is None:
            return None
        return Subscription.of(await subscriptions.subscription(info.context, sub_id))

    @resolver(INVOICES_READ, description="In position order.")
    async def lines(
        self, info: Ctx, first: int | None = None, after: str | None = None
    ) -> Connection[InvoiceLine]:
        page = await invoices.lines_page(info.context, self.id, first, after)
        return connection(page, InvoiceLine.of_row)

    @classmethod
    def of(cls, row: Row) -> Invoice:
        amounts = {k: Money.of(v) for k, v in invoice_money(row).items()}
        return cls(
            id=row["id"],
            number=row["number"],
            status=InvoiceStatus(row["status"]),
            currency=row["currency"].strip(),
            period_start=row["period_start"],
            period_end=row["period_end"],
            issued_at=row["issued_at"],
            due_at=row["due_at"],
            paid_at=row["paid_at"],
            tax_rate=quantity(row["tax_rate"]),
            row=row,
            **amounts,
        )


@strawberry.type(
    description="The invoice the billing engine will issue at the end of the current period"
    " if nothing changes before then: the next period's recurring charges in advance and"
    " this period's usage so far in arrears, taxed. Nothing is stored."
)
class InvoicePreview:
    currency: str = field(INVOICES_READ)
    period_start: datetime = field(
        INVOICES_READ, description="The period it bills in advance (its usage period if final)."
    )
    period_end: datetime = field(INVOICES_READ)
    issued_at: datetime = field(
        INVOICES_READ, description="When it will be issued: the end of the current period."
    )
    lines: list[InvoiceLine] = field(INVOICES_READ)
    subtotal: Money = field(INVOICES_READ)
    tax: Money = field(INVOICES_READ)
    total: Money = field(INVOICES_READ)
    amount_due: Money = field(INVOICES_READ)
    subscription_id: strawberry.Private[str]

    @resolver(INVOICES_READ)
    async def subscription(self, info: Ctx) -> SubscriptionT:
        from schema.subscriptions import Subscription

        return Subscription.of(await subscriptions.subscription(info.context, self.subscription_id))

    @classmethod
    def of(cls, v: PreviewValue) -> InvoicePreview:
        t, c = v.totals, v.currency
        return cls(
            currency=c,
            period_start=v.period_start,
            period_end=v.period_end,
            issued_at=v.issued_at,
            lines=[InvoiceLine.of(line) for line in v.lines],
            subtotal=Money.of(money(t.subtotal, c)),
            tax=Money.of(money(t.tax, c)),
            total=Money.of(money(t.total, c)),
            amount_due=Money.of(money(t.amount_due, c)),
            subscription_id=v.subscription_id,
        )
