"""What an account is entitled to: the plan values of its live subscriptions (base
plans and add-on items) and its grants, in one statement, scoped to reach."""

from __future__ import annotations

from typing import Final

from loaders.base import RowsByParentLoader
from loaders.reach import in_reach
from loaders.subscriptions import LIVE

# source PLAN rows carry the subscription's quantity-free plan value and what says
# whether a scheduled cancel has fallen due; GRANT rows carry expiry and creation
# time so the resolver can pick the newest unexpired one.
SOURCES_BY_ACCOUNT: Final = f"""
SELECT s.account_id, pe.feature_id, 'PLAN' AS source, pe.enabled, pe.limit_value,
       NULL::timestamptz AS expires_at, s.created_at, s.status, s.cancel_at_period_end,
       s.current_period_end
  FROM subscriptions s
  JOIN LATERAL (SELECT s.plan_id
                UNION ALL
                SELECT i.plan_id FROM subscription_items i
                 WHERE i.subscription_id = s.id) p(plan_id) ON true
  JOIN plan_entitlements pe ON pe.plan_id = p.plan_id
 WHERE s.account_id = ANY($1::text[]) AND {in_reach("s.account_id", 2)} AND s.status IN {LIVE}
UNION ALL
SELECT g.account_id, g.feature_id, 'GRANT', g.enabled, g.limit_value, g.expires_at, g.created_at,
       NULL, NULL, NULL
  FROM entitlement_grants g
 WHERE g.account_id = ANY($1::text[]) AND {in_reach("g.account_id", 2)}
 ORDER BY 1, 2, 3, 7"""


class EntitlementSourcesByAccountLoader(RowsByParentLoader):
    sql = SOURCES_BY_ACCOUNT
    parent = "account_id"
