"""Per-request dataloaders: one instance of each, made on first use, never shared
across requests (a shared cache would serve one tenant's rows to another)."""

from __future__ import annotations

from functools import cached_property

from loaders import accounts, catalog, entitlements, invoices, subscriptions, usage
from loaders.db import Db
from loaders.reach import Reach


class Loaders:
    def __init__(
        self, db: Db, reach: Reach, catalog_cache: catalog.CatalogCache | None = None
    ) -> None:
        self.db = db
        self.reach = reach
        self.catalog_cache = catalog_cache

    async def account_count(self) -> int:
        """How many accounts the request reaches."""
        return int(await self.account_page_count.load((accounts.ROOT, ())))

    # accounts
    @cached_property
    def account(self) -> accounts.AccountByIdLoader:
        return accounts.AccountByIdLoader(self.db, self.reach)

    @cached_property
    def partner(self) -> accounts.PartnerByIdLoader:
        return accounts.PartnerByIdLoader(self.db, self.reach)

    @cached_property
    def account_page(self) -> accounts.AccountPageLoader:
        return accounts.AccountPageLoader(self.db, self.reach)

    @cached_property
    def account_page_count(self) -> accounts.AccountCountLoader:
        return accounts.AccountCountLoader(self.db, self.reach)

    @cached_property
    def account_page_by_partner(self) -> accounts.AccountPageByPartnerLoader:
        return accounts.AccountPageByPartnerLoader(self.db, self.reach)

    @cached_property
    def account_count_by_partner(self) -> accounts.AccountCountByPartnerLoader:
        return accounts.AccountCountByPartnerLoader(self.db, self.reach)

    # catalog
    @cached_property
    def catalog(self) -> catalog.CatalogLoader:
        return catalog.CatalogLoader(self.db, self.catalog_cache)

    # subscriptions
    @cached_property
    def subscription(self) -> subscriptions.SubscriptionByIdLoader:
        return subscriptions.SubscriptionByIdLoader(self.db, self.reach)

    @cached_property
    def subscription_page(self) -> subscriptions.SubscriptionPageByAccountLoader:
        return subscriptions.SubscriptionPageByAccountLoader(self.db, self.reach)

    @cached_property
    def subscription_count(self) -> subscriptions.SubscriptionCountByAccountLoader:
        return subscriptions.SubscriptionCountByAccountLoader(self.db, self.reach)

    @cached_property
    def live_subscriptions(self) -> subscriptions.LiveSubscriptionsByAccountLoader:
        return subscriptions.LiveSubscriptionsByAccountLoader(self.db, self.reach)

    @cached_property
    def items(self) -> subscriptions.ItemsBySubscriptionLoader:
        return subscriptions.ItemsBySubscriptionLoader(self.db, self.reach)

    @cached_property
    def item(self) -> subscriptions.ItemByIdLoader:
        return subscriptions.ItemByIdLoader(self.db, self.reach)

    # invoices
    @cached_property
    def invoice(self) -> invoices.InvoiceByIdLoader:
        return invoices.InvoiceByIdLoader(self.db, self.reach)

    @cached_property
    def invoice_page(self) -> invoices.InvoicePageByAccountLoader:
        return invoices.InvoicePageByAccountLoader(self.db, self.reach)

    @cached_property
    def invoice_count(self) -> invoices.InvoiceCountByAccountLoader:
        return invoices.InvoiceCountByAccountLoader(self.db, self.reach)

    @cached_property
    def invoice_page_by_subscription(self) -> invoices.InvoicePageBySubscriptionLoader:
        return invoices.InvoicePageBySubscriptionLoader(self.db, self.reach)

    @cached_property
    def invoice_count_by_subscription(self) -> invoices.InvoiceCountBySubscriptionLoader:
        return invoices.InvoiceCountBySubscriptionLoader(self.db, self.reach)

    @cached_property
    def line_page(self) -> invoices.LinePageByInvoiceLoader:
        return invoices.LinePageByInvoiceLoader(self.db, self.reach)

    @cached_property
    def line_count(self) -> invoices.LineCountByInvoiceLoader:
        return invoices.LineCountByInvoiceLoader(self.db, self.reach)

    @cached_property
    def line(self) -> invoices.LineByIdLoader:
        return invoices.LineByIdLoader(self.db, self.reach)

    # usage and entitlements
    @cached_property
    def usage_buckets(self) -> usage.UsageBucketLoader:
        return usage.UsageBucketLoader(self.db, self.reach)

    @cached_property
    def usage_total(self) -> usage.UsageTotalLoader:
        return usage.UsageTotalLoader(self.db, self.reach)

    @cached_property
    def entitlement_sources(self) -> entitlements.EntitlementSourcesByAccountLoader:
        return entitlements.EntitlementSourcesByAccountLoader(self.db, self.reach)
