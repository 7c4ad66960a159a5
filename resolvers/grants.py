"""grantEntitlement: a grant replaces the plan-derived value of one feature for one
account until it expires (never, without an expiry)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from loaders import changes
from loaders.billing import Conn
from loaders.catalog import Catalog
from resolvers import writes
from resolvers.base import Ctx
from resolvers.errors import NotFound
from resolvers.ids import new_id
from resolvers.usage_recording import quantity_problem
from resolvers.writes import Outcome, refuse


async def grant(
    ctx: Ctx,
    account_id: str,
    feature_key: str,
    enabled: bool,
    limit: Decimal | None,
    expires_at: datetime | None,
    key: str | None,
) -> Outcome:
    request = {
        **{"accountId": account_id, "feature": feature_key, "enabled": enabled},
        **{"limit": limit, "expiresAt": expires_at},
    }

    async def work(conn: Conn, catalog: Catalog) -> Mapping[str, Any]:
        if await changes.account(conn, writes.object_id(account_id), ctx.reach.param) is None:
            raise NotFound()
        feature = catalog.by_key("features").get(feature_key)
        if feature is None:
            raise refuse(("feature",), "Unknown feature.")
        _check(feature["kind"], limit, expires_at, ctx.now)
        grant_id = new_id("grt")
        await changes.insert_grant(
            conn, grant_id, account_id, feature["id"], enabled, limit, expires_at, ctx.now
        )
        payload = {
            "feature": feature_key,
            "enabled": enabled,
            "limit": limit,
            "expiresAt": expires_at,
        }
        await writes.event(conn, ctx, account_id, "entitlement.granted", grant_id, payload)
        return {"account": account_id, "feature": feature_key, "grant": grant_id}

    return await writes.run(ctx, "grantEntitlement", key, request, work)


def _check(kind: str, limit: Decimal | None, expires_at: datetime | None, now: datetime) -> None:
    if limit is not None and kind == "BOOLEAN":
        raise refuse(("limit",), "A BOOLEAN feature is enabled or not: it takes no limit.")
    if limit is not None and (problem := quantity_problem(limit)):
        raise refuse(("limit",), problem.replace("A quantity", "A limit"))
    if expires_at is not None and expires_at <= now:
        raise refuse(("expiresAt",), "A grant expires in the future.")
