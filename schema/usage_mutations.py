"""Recording usage (usage:write)."""

from __future__ import annotations

import decimal
from datetime import datetime
from typing import Annotated, Self

import strawberry
from strawberry.types import Info

from resolvers import accounts, usage_recording
from resolvers.errors import GatewayError
from resolvers.usage_recording import EventInput
from resolvers.writes import Outcome
from schema.accounts import Account
from schema.context import RequestContext
from schema.payloads import UserError, answer, user_errors
from schema.permissions import PUBLIC, USAGE_WRITE, field, mutation, resolver
from schema.subscription_mutations import INPUT, KEY_DESCRIPTION

Ctx = Info[RequestContext, None]


@strawberry.input(description="One usage event.")
class UsageEventInput:
    meter: str = strawberry.field(description='The meter\'s key, e.g. "requests".')
    quantity: decimal.Decimal = strawberry.field(
        description="How much: finite, 0 or more, at most 6 decimal places. A MAX meter"
        " (a level, such as storage) records the level at that instant."
    )
    occurred_at: datetime = strawberry.field(
        description="When it happened: within the account's open billing period, and not"
        " more than 5 minutes ahead of now."
    )
    idempotency_key: str = strawberry.field(
        description="Makes the event count once forever for this account: sending it again"
        " (same meter, quantity and instant) is reported as a duplicate and not counted."
    )


@strawberry.input(description="Usage events of one account, all recorded or none.")
class RecordUsageInput:
    account_id: strawberry.ID = strawberry.field(description="The account (acct_…).")
    events: list[UsageEventInput] = strawberry.field(description="1 to 1,000 events.")
    idempotency_key: str | None = strawberry.field(default=None, description=KEY_DESCRIPTION)


@strawberry.type(description="What recordUsage did.")
class RecordUsagePayload:
    recorded: int = field(PUBLIC, description="Events counted by this call.")
    duplicates: list[str] = field(
        PUBLIC, description="Keys of events recorded before (not counted again)."
    )
    user_errors: list[UserError] = field(
        PUBLIC, description="Problems with the input; when there are any, nothing was written."
    )
    account_id: strawberry.Private[str | None]
    error: strawberry.Private[GatewayError | None]

    @resolver(PUBLIC, description="The account the events were recorded for.")
    async def account(self, info: Ctx) -> Account | None:
        if self.error is not None:
            raise self.error
        if self.account_id is None:
            return None
        return Account.of(await accounts.account(info.context, self.account_id))

    @classmethod
    def of(cls, outcome: Outcome) -> Self:
        data = outcome.data
        return cls(
            recorded=int(data.get("recorded", 0)),
            duplicates=list(data.get("duplicates", [])),
            user_errors=user_errors(outcome, None),
            account_id=data.get("account"),
            error=None,
        )

    @classmethod
    def refused(cls, error: GatewayError) -> Self:
        return cls(
            recorded=0,
            duplicates=[],
            user_errors=user_errors(None, error),
            account_id=None,
            error=error,
        )


@strawberry.type
class Mutation:
    @mutation(
        USAGE_WRITE,
        RecordUsagePayload,
        description="Record up to 1,000 usage events of one account, all or nothing; the"
        " next read (series, quotas, upcoming invoice) sees them.",
    )
    async def record_usage(
        self,
        info: Ctx,
        input: Annotated[RecordUsageInput, strawberry.argument(description=INPUT)],
    ) -> RecordUsagePayload:
        events = [
            EventInput(e.meter, e.quantity, e.occurred_at, e.idempotency_key) for e in input.events
        ]
        return await answer(
            RecordUsagePayload,
            usage_recording.record(info.context, input.account_id, events, input.idempotency_key),
        )
