"""How errors leave the server (docs/errors.md): a contract code on every error, the
request id on every error, and nothing internal — the log keeps the rest."""

from __future__ import annotations

import logging
from typing import Any, Final

import asyncpg
from graphql import GraphQLError
from starlette.responses import JSONResponse

from resolvers.errors import GatewayError

log = logging.getLogger("billing.errors")

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
INTERNAL_MESSAGE: Final = "Internal server error."
# Text PostgreSQL cannot store (a NUL byte, a lone surrogate) reaching a statement: the
# client's input, never the server's fault. Arguments are checked before SQL (ids by
# their grammar, keys against the catalog); this is the net under those checks.
UNSTORABLE_TEXT: Final = (asyncpg.CharacterNotInRepertoireError, UnicodeEncodeError)
UNSTORABLE_MESSAGE: Final = "Text arguments must not hold NUL characters or unpaired surrogates."
# Messages of strawberry's limiter extensions, which report as validation errors.
COMPLEXITY_MARKERS: Final = ("maximum operation depth", "aliases found", "maximum of")


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    code, message = classify(error, request_id)
    out: dict[str, Any] = {"message": message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = error.path
    out["extensions"] = {"code": code, "requestId": request_id}
    return out


def classify(error: GraphQLError, request_id: str) -> tuple[str, str]:
    original = error.original_error
    while isinstance(original, GraphQLError):  # input coercion wraps a scalar's error
        original = original.original_error
    if isinstance(original, GatewayError):
        # The outer message says where (which variable, which argument) as well as why.
        return original.code, error.message
    if isinstance(original, UNSTORABLE_TEXT):
        return "BAD_USER_INPUT", UNSTORABLE_MESSAGE
    declared = (error.extensions or {}).get("code")
    if declared in CODES:
        return str(declared), error.message
    if original is None:
        return _document_error(error.message), error.message
    log.error("request %s: unhandled error at %s", request_id, error.path, exc_info=original)
    return "INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE


def _document_error(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if any(marker in message for marker in COMPLEXITY_MARKERS):
        return "QUERY_TOO_COMPLEX"
    return "GRAPHQL_VALIDATION_FAILED"


def error_response(
    status: int, code: str, message: str, request_id: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}]}
    all_headers = {"X-Request-Id": request_id, **(headers or {})}
    return JSONResponse(body, status_code=status, headers=all_headers)
