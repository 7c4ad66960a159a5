"""Who is asking: the token's subject, role, scopes and reach."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from auth.principal import Role as PrincipalRole
from schema.accounts import Partner
from schema.context import RequestContext
from schema.permissions import ACCOUNTS_READ, PUBLIC, field, resolver


@strawberry.enum(description="Who a token speaks for.")
class Role(Enum):
    CUSTOMER = strawberry.enum_value(
        "customer", description="The accounts named in the token's `accounts` claim."
    )
    PARTNER = strawberry.enum_value(
        "partner", description="The accounts the partner in the `partner` claim manages."
    )
    ADMIN = strawberry.enum_value("admin", description="Every account.")


@strawberry.type(description="The caller, as its token and reach describe it.")
class Viewer:
    subject: str = field(PUBLIC, description="The token's `sub`.")
    role: Role = field(PUBLIC, description="The token's `role`.")
    scopes: list[str] = field(PUBLIC, description="The known scopes the token carries, sorted.")

    partner_id: strawberry.Private[str | None]

    @resolver(
        ACCOUNTS_READ,
        description="The partner a partner token speaks for (null for other roles)."
        " Needs accounts:read.",
    )
    async def partner(self, info: Info[RequestContext, None]) -> Partner | None:
        if self.partner_id is None:
            return None
        row = await info.context.loaders.partner.load(self.partner_id)
        return None if row is None else Partner.of(row)

    @resolver(PUBLIC, description="How many accounts this token can reach.")
    async def account_count(self, info: Info[RequestContext, None]) -> int:
        return await info.context.loaders.account_count()


def viewer(info: Info[RequestContext, None]) -> Viewer:
    p = info.context.principal
    return Viewer(
        subject=p.subject,
        role=Role(PrincipalRole(p.role).value),
        scopes=sorted(p.scopes),
        partner_id=p.partner,
    )


@strawberry.type
class Query:
    viewer: Viewer = field(PUBLIC, resolver=viewer, description="The caller.")
