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
from schema.common import After, Before, Connection, First, Last, Money, Node, connection, window
from schema.context import RequestContext
from schema.permissions import PUBLIC, SUBSCRIPTIONS_READ, field, resolver

if TYPE_CHECKING:
    from schema.accounts import Account
    from schema.subscriptions import Subscription

Ctx = Info[RequestContext, None]
AccountT = Annotated["Account", strawberry.lazy("schema.accounts")]
SubscriptionT = Annotated["Subscription", strawberry.lazy("schema.subscriptions")]


@strawberry.enum(description="Where an invoice stands.")
class InvoiceStatus(Enum):
    DRAFT = strawberry.enum_value("DRAFT", description="Being prepared; not issued yet.")
    OPEN = strawberry.enum_value("OPEN", description="Issued and awaiting payment.")
    PAID = strawberry.enum_value("PAID", description="Paid in full.")
    VOID = strawberry.enum_value("VOID", description="Canceled after issue; nothing is owed.")
    UNCOLLECTIBLE = strawberry.enum_value(
        "UNCOLLECTIBLE", description="Written off as not going to be paid."
    )


@strawberry.enum(description="What an invoice line bills.")
class InvoiceLineKind(Enum):
    SUBSCRIPTION = strawberry.enum_value(
        "SUBSCRIPTION", description="A plan or add-on for a period, in advance."
    )
    USAGE = strawberry.enum_value(
        "USAGE", description="Metered use in one price tier, in arrears (`meter` is set)."
    )
    PRORATION = strawberry.enum_value(
        "PRORATION", description="A credit or charge for part of a period (a plan change)."
    )
    ADJUSTMENT = strawberry.enum_value("ADJUSTMENT", description="A one-off correction.")


@strawberry.type(description="One line: amount = quantity × unit amount, rounded once.")
class InvoiceLine(Node):
    id: strawberry.ID = field(PUBLIC, description="`il_…`.")
    kind: InvoiceLineKind = field(PUBLIC, description="What it bills.")
    description: str = field(PUBLIC, description="What the customer reads on the invoice.")
    quantity: decimal.Decimal = field(PUBLIC, description="Units billed (negative for a credit).")
    unit_amount: Money = field(
        PUBLIC, description="Price of one unit; may be finer than the currency's minor unit."
    )
    amount: Money = field(
        PUBLIC, description="quantity × unitAmount, rounded half-even to the minor unit."
    )
    period_start: datetime | None = field(PUBLIC, description="Start of the period it covers.")
    period_end: datetime | None = field(PUBLIC, description="End (exclusive) of that period.")
    meter_id: strawberry.Private[str | None]

    @resolver(PUBLIC, description="The meter a USAGE line bills; null for other kinds.")
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


@strawberry.type(
    description="A bill: subtotal = Σ lines, tax on the subtotal, total = subtotal + tax."
)
class Invoice(Node):
    id: strawberry.ID = field(PUBLIC, description="`inv_…`.")
    number: str = field(PUBLIC, description="INV-<year>-<n>: gapless per calendar year (UTC).")
    status: InvoiceStatus = field(PUBLIC, description="Where it stands.")
    currency: str = field(PUBLIC, description="ISO 4217; the account's currency.")
    period_start: datetime = field(PUBLIC, description="Start of the service period it bills.")
    period_end: datetime = field(PUBLIC, description="End (exclusive) of that period.")
    issued_at: datetime | None = field(PUBLIC, description="When it was issued (null: DRAFT).")
    due_at: datetime | None = field(PUBLIC, description="When payment is due.")
    paid_at: datetime | None = field(PUBLIC, description="When it was paid in full.")
    subtotal: Money = field(PUBLIC, description="Σ the lines' amounts.")
    tax: Money = field(PUBLIC, description="subtotal × taxRate, rounded half-even once.")
    total: Money = field(PUBLIC, description="subtotal + tax.")
    amount_paid: Money = field(PUBLIC, description="What has been paid.")
    amount_due: Money = field(PUBLIC, description="total − amountPaid.")
    tax_rate: decimal.Decimal = field(PUBLIC, description="The rate tax was billed at.")
    row: strawberry.Private[Row]

    @resolver(PUBLIC, description="The account it bills.")
    async def account(self, info: Ctx) -> AccountT:
        from schema.accounts import Account

        return Account.of(await accounts.account(info.context, self.row["account_id"]))

    @resolver(
        SUBSCRIPTIONS_READ,
        description="The subscription it bills (null for one-off invoices). Needs"
        " subscriptions:read.",
    )
    async def subscription(self, info: Ctx) -> SubscriptionT | None:
        from schema.subscriptions import Subscription

        sub_id = self.row["subscription_id"]
        if sub_id is None:
            return None
        return Subscription.of(await subscriptions.subscription(info.context, sub_id))

    @resolver(PUBLIC, description="Its lines, in position order.")
    async def lines(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[InvoiceLine]:
        page = await invoices.lines_page(
            info.context, self.id, window(info, first, after, last, before)
        )
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
    currency: str = field(PUBLIC, description="ISO 4217; the account's currency.")
    period_start: datetime = field(
        PUBLIC, description="The period it bills in advance (its usage period if final)."
    )
    period_end: datetime = field(PUBLIC, description="End (exclusive) of that period.")
    issued_at: datetime = field(
        PUBLIC, description="When it will be issued: the end of the current period."
    )
    lines: list[InvoiceLine] = field(
        PUBLIC, description="What it bills so far. Not stored: their ids are not node ids."
    )
    subtotal: Money = field(PUBLIC, description="Σ the lines' amounts.")
    tax: Money = field(PUBLIC, description="subtotal × the account's tax rate, rounded once.")
    total: Money = field(PUBLIC, description="subtotal + tax.")
    amount_due: Money = field(PUBLIC, description="What will be owed: the total.")
    subscription_id: strawberry.Private[str]

    @resolver(
        SUBSCRIPTIONS_READ, description="The subscription it previews. Needs subscriptions:read."
    )
    async def subscription(self, info: Ctx) -> SubscriptionT | None:
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
