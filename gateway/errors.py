"""How errors leave the server (contract §5): a contract code and the request id on
every error, the contract's messages as they are, and nothing internal — any
other exception becomes "Unexpected error." and is logged, with its traceback,
under the request id the client sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import asyncpg
from graphql import GraphQLError

from resolvers.errors import GatewayError

CODES: Final = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "QUERY_TOO_COMPLEX",
        "RATE_LIMITED",
        "TIMEOUT",
        "SERVICE_UNAVAILABLE",
        "INTERNAL_SERVER_ERROR",
    }
)
UNEXPECTED: Final = "Unexpected error."
UNAVAILABLE: Final = "The service is unavailable right now; retry shortly."
TIMED_OUT: Final = "The request took longer than its deadline."
# The database cannot be reached, or gave up on us: retrying later may work.
DATABASE_DOWN: Final = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)
# Text PostgreSQL cannot store (a NUL byte, a lone surrogate) reaching a statement: the
# client's input, never the server's fault. Arguments are checked before SQL (ids by
# their grammar, keys against the catalog); this is the net under those checks.
UNSTORABLE_TEXT: Final = (asyncpg.CharacterNotInRepertoireError, UnicodeEncodeError)
UNSTORABLE_MESSAGE: Final = "Text arguments must not hold NUL characters or unpaired surrogates."


@dataclass(frozen=True)
class Classified:
    code: str
    message: str
    internal: BaseException | None = None  # logged, never shown


def classify(error: GraphQLError) -> Classified:
    original = error.original_error
    while isinstance(original, GraphQLError):  # input coercion wraps a scalar's error
        original = original.original_error
    if isinstance(original, GatewayError):
        # The outer message says where (which variable, which argument) as well as why.
        return Classified(original.code, error.message)
    if isinstance(original, UNSTORABLE_TEXT):
        return Classified("BAD_USER_INPUT", UNSTORABLE_MESSAGE)
    declared = (error.extensions or {}).get("code")
    if declared in CODES:
        return Classified(str(declared), error.message)
    if original is None:
        return Classified(_document_error(error.message), error.message)
    return classify_exception(original)


def classify_exception(exc: BaseException) -> Classified:
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
        return Classified("TIMEOUT", TIMED_OUT, exc)
    if isinstance(exc, DATABASE_DOWN):
        return Classified("SERVICE_UNAVAILABLE", UNAVAILABLE, exc)
    return Classified("INTERNAL_SERVER_ERROR", UNEXPECTED, exc)


def _document_error(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


def format_error(error: GraphQLError, request_id: str) -> tuple[dict[str, Any], Classified]:
    found = classify(error)
    out: dict[str, Any] = {"message": found.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = error.path
    out["extensions"] = {"code": found.code, "requestId": request_id}
    return out, found


def error_body(code: str, message: str, request_id: str, **extensions: Any) -> dict[str, Any]:
    """A response with one error and no data (a request error)."""
    return {
        "errors": [
            {
                "message": message,
                "extensions": {"code": code, "requestId": request_id, **extensions},
            }
        ]
    }
