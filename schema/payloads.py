"""What every mutation answers: its result, and the problems the caller can fix.

A mutation that did not run because of its input answers `userErrors` (each with the
input field's path and a contract code) and writes nothing. NOT_FOUND (a subscription or
account missing or out of reach: the same answer for both), FORBIDDEN (a missing write
scope) and CONFLICT (a key in flight, a stale quote) are listed in `userErrors` too, and
the payload's result field is null with that error at its path, as a query's would be."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, Self, TypeVar

import strawberry

from resolvers.errors import GatewayError
from resolvers.writes import Outcome, UserErrorValue
from schema.permissions import PUBLIC, field


class Payload(Protocol):
    @classmethod
    def of(cls, outcome: Outcome) -> Self: ...

    @classmethod
    def refused(cls, error: GatewayError) -> Self: ...


P = TypeVar("P", bound=Payload)


@strawberry.type(description="A problem with a mutation's input; nothing was written.")
class UserError:
    path: list[str] = field(
        PUBLIC,
        name="field",
        description="Path of the input field it is about, from the input object, e.g."
        ' ["events", "3", "quantity"]; empty when it is about the whole input.',
    )
    message: str = field(PUBLIC, description="What is wrong, for a person to read.")
    code: str = field(
        PUBLIC,
        description="BAD_USER_INPUT, NOT_FOUND, FORBIDDEN or CONFLICT (the contract's codes).",
    )

    @classmethod
    def of(cls, value: UserErrorValue) -> UserError:
        return cls(path=list(value.field), message=value.message, code=value.code)


@strawberry.type
class OutcomePayload:
    """The common part of the subscription and entitlement payloads: the user errors, and
    the outcome its result field is read from (or the error that field answers)."""

    user_errors: list[UserError] = field(
        PUBLIC, description="Problems with the input; when there are any, nothing was written."
    )
    outcome: strawberry.Private[Outcome | None]
    error: strawberry.Private[GatewayError | None]

    def written(self, key: str) -> Any:
        """The id the mutation wrote under `key`; raises the error that ended it."""
        if self.error is not None:
            raise self.error
        return None if self.outcome is None else self.outcome.data.get(key)

    @classmethod
    def of(cls, outcome: Outcome) -> Self:
        return cls(user_errors=user_errors(outcome, None), outcome=outcome, error=None)

    @classmethod
    def refused(cls, error: GatewayError) -> Self:
        return cls(user_errors=user_errors(None, error), outcome=None, error=error)


def user_errors(outcome: Outcome | None, error: GatewayError | None) -> list[UserError]:
    listed: Sequence[UserErrorValue] = () if outcome is None else outcome.user_errors
    if error is not None:
        listed = [*listed, UserErrorValue((), str(error), error.code)]
    return [UserError.of(e) for e in listed]


async def answer(payload: type[P], outcome: Awaitable[Outcome]) -> P:
    """The payload of a mutation's outcome, or of the error that ended it."""
    try:
        return payload.of(await outcome)
    except GatewayError as error:
        return payload.refused(error)
