"""Both executors on one document: strawberry's (the reference) and the planned one,
each with a fresh request context, their answers formatted as clients see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from graphql import parse

from auth.principal import Principal, Role
from gateway.errors import format_error
from gateway.gate import reach_of
from gateway.plan import NotPlanned
from gateway.planned import PlannedExecutor
from loaders import Loaders
from loaders.db import Db
from schema import schema
from schema.context import RequestContext

REQUEST_ID = "differential"
PLANNED = PlannedExecutor(schema)


@dataclass(frozen=True)
class Caller:
    role: Role
    scopes: frozenset[str]
    accounts: tuple[str, ...] = ()
    partner: str | None = None

    def principal(self) -> Principal:
        return Principal(
            subject=f"dev:{self.role.value}",
            role=self.role,
            scopes=self.scopes,
            accounts=self.accounts,
            partner=self.partner,
            expires_at=datetime(2100, 1, 1, tzinfo=UTC),
        )


async def context(pool: asyncpg.Pool, caller: Caller, now: datetime) -> RequestContext:
    db = Db(pool)
    principal = caller.principal()
    reach = await reach_of(principal, db)
    return RequestContext(
        principal=principal,
        reach=reach,
        db=db,
        loaders=Loaders(db, reach),
        request_id=REQUEST_ID,
        now=now,
        cursor_secret=b"differential-cursor-secret-0123456789",
    )


def shown(data: Any, errors: list[Any]) -> dict[str, Any]:
    """The answer as a client reads it; errors sorted (their order is not specified)."""
    formatted = [format_error(e, REQUEST_ID)[0] for e in errors]
    return {
        "data": data,
        "errors": sorted(formatted, key=lambda e: (str(e.get("path")), e["message"])),
    }


async def both(
    pool: asyncpg.Pool,
    query: str,
    caller: Caller,
    variables: dict[str, Any] | None = None,
    now: datetime = datetime(2026, 11, 15, tzinfo=UTC) + timedelta(hours=6),
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(strawberry's answer, the planned answer or None when it is not planned)."""
    reference_ctx = await context(pool, caller, now)
    try:
        reference = await schema.execute(
            query, variable_values=variables, context_value=reference_ctx
        )
    finally:
        await reference_ctx.db.close()
    planned_ctx = await context(pool, caller, now)
    try:
        answer = await PLANNED.run(query, parse(query), None, variables, planned_ctx, caller.scopes)
    except NotPlanned:
        return shown(reference.data, reference.errors or []), None
    finally:
        await planned_ctx.db.close()
    return shown(reference.data, reference.errors or []), shown(answer.data, answer.errors)
