"""Errors a resolver raises on purpose, each carrying its code (docs/errors.md).

Resolvers know nothing of GraphQL; the schema layer turns these into
`extensions.code` and masks every other exception."""

from __future__ import annotations

from typing import ClassVar, Final

NOT_FOUND_MESSAGE: Final = "Not found."


class GatewayError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"


class NotFound(GatewayError):
    """Missing or outside the caller's reach: one message for both, on purpose."""

    code = "NOT_FOUND"

    def __init__(self) -> None:
        super().__init__(NOT_FOUND_MESSAGE)


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"


class Conflict(GatewayError):
    """A write that raced another: a key still in flight, a quote gone stale."""

    code = "CONFLICT"


class Forbidden(GatewayError):
    """The token lacks the scope a field, an entry or a mutation declares."""

    code = "FORBIDDEN"
