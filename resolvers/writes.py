"""How every mutation writes: in one transaction, idempotent by key, all or nothing.

A mutation's work runs inside the request's transaction. Problems the caller can fix
are user errors (`Refused`): the work is rolled back and the payload lists them.
NOT_FOUND and CONFLICT end the mutation without a payload object (the schema shows the
error at the payload's result field). With an `idempotencyKey`, the key is claimed in
the same transaction and the outcome stored with the work, so a retry answers the same
and writes nothing more (see loaders/idempotency.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from loaders import idempotency
from loaders.billing import Conn, append_event
from loaders.catalog import Catalog
from resolvers.base import Ctx
from resolvers.errors import Conflict, NotFound
from resolvers.periods import iso

MAX_KEY_LENGTH: Final = 255


@dataclass(frozen=True)
class UserErrorValue:
    field: tuple[str, ...]  # the path of the input field, from the input object
    message: str
    code: str = "BAD_USER_INPUT"


class Refused(Exception):
    """Ends a mutation's work with user errors; nothing it wrote is kept."""

    def __init__(self, *errors: UserErrorValue) -> None:
        super().__init__(errors[0].message if errors else "refused")
        self.errors = errors


def refuse(path: tuple[str, ...] | list[str], message: str) -> Refused:
    return Refused(UserErrorValue(tuple(path), message))


@dataclass(frozen=True)
class Outcome:
    """What a mutation answers: ids and counts (JSON-able, so a replay answers the same)."""

    data: Mapping[str, Any] = field(default_factory=dict)
    user_errors: tuple[UserErrorValue, ...] = ()

    def to_json(self) -> str:
        errors = [
            {"field": list(e.field), "message": e.message, "code": e.code} for e in self.user_errors
        ]
        return json.dumps({"data": dict(self.data), "userErrors": errors}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        stored = json.loads(text)
        errors = tuple(
            UserErrorValue(tuple(e["field"]), e["message"], e["code"]) for e in stored["userErrors"]
        )
        return cls(stored["data"], errors)


Work = Callable[[Conn, Catalog], Awaitable[Mapping[str, Any]]]


async def run(
    ctx: Ctx, operation: str, key: str | None, request: Mapping[str, Any], work: Work
) -> Outcome:
    """Run `work` in one transaction under the idempotency protocol; see the module doc."""
    if key is not None and (problem := key_problem(key)):
        return Outcome(user_errors=(UserErrorValue(("idempotencyKey",), problem),))
    digest = request_hash(request)
    # As committed (not the process's copy), and before the transaction holds the connection.
    catalog = await ctx.loaders.catalog.fresh()
    async with ctx.db.transaction() as conn:
        if key is not None:
            stored = await _claim(conn, ctx.subject, operation, key)
            if stored is not None:
                return _replay(stored, digest)
        outcome = await _attempt(conn, catalog, work)
        if key is not None:
            await idempotency.store(
                conn, ctx.subject, operation, key, digest, outcome.to_json(), ctx.now
            )
    return outcome


async def _claim(conn: Conn, subject: str, operation: str, key: str) -> idempotency.Stored | None:
    try:
        return await idempotency.claim(conn, subject, operation, key)
    except idempotency.KeyInFlight:
        raise Conflict("A request with this idempotencyKey is still in progress.") from None


def _replay(stored: idempotency.Stored, digest: str) -> Outcome:
    if stored.request_hash != digest:
        message = "This idempotencyKey was already used with a different input."
        return Outcome(user_errors=(UserErrorValue(("idempotencyKey",), message),))
    return Outcome.from_json(stored.response)


async def _attempt(conn: Conn, catalog: Catalog, work: Work) -> Outcome:
    try:
        async with conn.transaction():  # a savepoint: user errors undo the work, not the key
            return Outcome(await work(conn, catalog))
    except Refused as refused:
        return Outcome(user_errors=refused.errors)


def object_id(value: str) -> str:
    """An id from a mutation's input; one PostgreSQL could not even compare (a NUL, a
    lone surrogate) names nothing there is: NOT_FOUND, like any other missing id."""
    if not value.isprintable():
        raise NotFound()
    return value


def key_problem(key: str) -> str | None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        return f"An idempotencyKey has 1 to {MAX_KEY_LENGTH} characters."
    if not key.isprintable():
        return "An idempotencyKey is printable text (no control characters)."
    return None


def request_hash(request: Mapping[str, Any]) -> str:
    """A digest of the mutation's input, independent of key order and number formatting."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    raise TypeError(f"{type(value).__name__} is not part of a mutation input")


async def event(
    conn: Conn, ctx: Ctx, account_id: str, kind: str, object_id: str, payload: Mapping[str, Any]
) -> None:
    """Append one event to the account's outbox, in the mutation's transaction."""
    text = json.dumps(payload, sort_keys=True, default=_plain)
    await append_event(conn, account_id, kind, ctx.subject, object_id, text, ctx.now)


def text_problem(value: str, name: str, limit: int = 200) -> str | None:
    """Free text PostgreSQL can store and a human can read."""
    if "\x00" in value or not value.isprintable():
        return f"{name} must be printable text without control characters."
    if len(value) > limit:
        return f"{name} has at most {limit} characters."
    return None
