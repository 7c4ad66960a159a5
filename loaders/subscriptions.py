"""Subscriptions and their items, scoped to the request's reach."""

from __future__ import annotations

from typing import Final

from loaders.base import CountLoader, Keyset, PageLoader, RowByIdLoader, RowsByParentLoader
from loaders.reach import in_reach

# `interval` (the plan's) lets a resolver derive the current period from the anchor.
SUBSCRIPTION_COLUMNS: Final = """s.id, s.account_id, s.currency, s.plan_id, s.status, s.quantity,
       s.billing_anchor, s.current_period_start, s.current_period_end,
       s.cancel_at_period_end, s.canceled_at, s.trial_end, s.created_at, s.version,
       (SELECT p.interval FROM plans p WHERE p.id = s.plan_id) AS interval"""
ITEM_COLUMNS: Final = "i.id, i.subscription_id, i.account_id, i.plan_id, i.quantity, i.created_at"
LIVE: Final = "('TRIALING', 'ACTIVE', 'PAST_DUE')"

SUBSCRIPTIONS_BY_ID: Final = f"""
SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s
 WHERE s.id = ANY($1::text[]) AND {in_reach("s.account_id", 2)}"""

# Statuses as the graph shows them at an instant (the engine may not have run yet).
STATUS_FILTER: Final = """(${s}::text[] IS NULL OR subscription_status_at(
       s.status, s.cancel_at_period_end, s.current_period_end, ${at}::timestamptz)
       = ANY(${s}::text[]))"""

# Newest first. Filters: statuses (NULL = any), then the request's instant.
SUBSCRIPTION_PAGES: Final = Keyset(
    source="subscriptions s",
    columns=SUBSCRIPTION_COLUMNS,
    parent="s.account_id = p.parent",
    reach=in_reach("p.parent", 2),  # the parent is the account
    key="s.created_at",
    key_type="timestamptz",
    descending=True,
    filters=lambda n: f"AND {STATUS_FILTER.format(s=n, at=n + 1)}",
)

# The subscriptions stored as live, oldest first; the resolver drops those whose
# scheduled cancel has fallen due (the first live one is the account's primary
# subscription for quota periods and the default upcoming invoice).
LIVE_BY_ACCOUNT: Final = f"""
SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s
 WHERE s.account_id = ANY($1::text[]) AND {in_reach("s.account_id", 2)} AND s.status IN {LIVE}
 ORDER BY s.account_id, s.created_at, s.id"""

ITEMS_BY_SUBSCRIPTION: Final = f"""
SELECT {ITEM_COLUMNS} FROM subscription_items i
 WHERE i.subscription_id = ANY($1::text[]) AND {in_reach("i.account_id", 2)}
 ORDER BY i.subscription_id, i.created_at, i.id"""

ITEMS_BY_ID: Final = f"""
SELECT {ITEM_COLUMNS} FROM subscription_items i
 WHERE i.id = ANY($1::text[]) AND {in_reach("i.account_id", 2)}"""


class SubscriptionByIdLoader(RowByIdLoader):
    sql = SUBSCRIPTIONS_BY_ID


class SubscriptionPageByAccountLoader(PageLoader):
    keyset = SUBSCRIPTION_PAGES


class SubscriptionCountByAccountLoader(CountLoader):
    sql = SUBSCRIPTION_PAGES.count_sql()


class LiveSubscriptionsByAccountLoader(RowsByParentLoader):
    sql = LIVE_BY_ACCOUNT
    parent = "account_id"


class ItemsBySubscriptionLoader(RowsByParentLoader):
    sql = ITEMS_BY_SUBSCRIPTION
    parent = "subscription_id"


class ItemByIdLoader(RowByIdLoader):
    sql = ITEMS_BY_ID
