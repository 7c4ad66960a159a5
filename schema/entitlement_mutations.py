"""Granting entitlements (entitlements:write)."""

from __future__ import annotations

import decimal
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import entitlements, grants
from schema.context import RequestContext
from schema.entitlements import Entitlement
from schema.payloads import OutcomePayload, answer
from schema.permissions import ENTITLEMENTS_WRITE, PUBLIC, mutation, resolver
from schema.subscription_mutations import INPUT, KEY_DESCRIPTION

Ctx = Info[RequestContext, None]


@strawberry.input(description="Give an account a feature's value, replacing its plans' value.")
class GrantEntitlementInput:
    account_id: strawberry.ID = strawberry.field(description="The account (acct_…).")
    feature: str = strawberry.field(description='The feature\'s key, e.g. "waf.custom_rules".')
    enabled: bool = strawberry.field(default=True, description="false turns the feature off.")
    limit: decimal.Decimal | None = strawberry.field(
        default=None,
        description="LIMIT and QUOTA features: the limit (0 or more, at most 6 decimal"
        " places); null is unlimited. BOOLEAN features take none.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the grant lapses (in the future); null: never."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.type(description="What grantEntitlement did.")
class EntitlementPayload(OutcomePayload):
    @resolver(PUBLIC, description="The feature's entitlement in force now, after the grant.")
    async def entitlement(self, info: Ctx) -> Entitlement | None:
        account = self.written("account")
        if account is None:
            return None
        ctx, feature = info.context, self.written("feature")
        ctx.loaders.entitlement_sources.clear(account)  # it changed within this request
        return Entitlement.of(await entitlements.account_entitlement(ctx, account, feature))


@strawberry.type
class Mutation:
    @mutation(
        ENTITLEMENTS_WRITE,
        EntitlementPayload,
        description="Grant a feature to an account: the grant replaces the plans' value"
        " until it expires.",
    )
    async def grant_entitlement(
        self,
        info: Ctx,
        input: Annotated[GrantEntitlementInput, strawberry.argument(description=INPUT)],
    ) -> EntitlementPayload:
        return await answer(
            EntitlementPayload,
            grants.grant(
                info.context,
                input.account_id,
                input.feature,
                input.enabled,
                input.limit,
                input.expires_at,
                input.idempotency_key,
            ),
        )
