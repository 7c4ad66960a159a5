"""Idempotency keys of mutations: one row per (subject, mutation, key), written in the
transaction that does the work (the protocol is described in migration 0004)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from loaders.billing import Conn

# A transaction-scoped lock per key: a second request with a key still in flight fails
# to take it at once instead of waiting for the first to finish.
CLAIM: Final = (
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1 || chr(1) || $2 || chr(1) || $3, 0))"
)
STORED: Final = """
SELECT request_hash, response::text AS response FROM mutation_requests
 WHERE principal = $1 AND operation = $2 AND idempotency_key = $3"""
STORE: Final = """
INSERT INTO mutation_requests
       (principal, operation, idempotency_key, request_hash, response, created_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6)"""
FORGET: Final = "DELETE FROM mutation_requests WHERE created_at < $1"
RETENTION: Final = timedelta(days=7)


class KeyInFlight(Exception):
    """Another transaction holds this key right now."""


@dataclass(frozen=True)
class Stored:
    request_hash: str
    response: str


async def claim(conn: Conn, principal: str, operation: str, key: str) -> Stored | None:
    """Take the key for this transaction; the stored outcome of an earlier request with
    it, if any. Raises KeyInFlight when another transaction holds it."""
    if not await conn.fetchval(CLAIM, principal, operation, key):
        raise KeyInFlight
    row = await conn.fetchrow(STORED, principal, operation, key)
    return None if row is None else Stored(row["request_hash"], row["response"])


async def store(
    conn: Conn, principal: str, operation: str, key: str, digest: str, response: str, at: datetime
) -> None:
    await conn.execute(STORE, principal, operation, key, digest, response, at)


async def forget_before(conn: Conn, now: datetime) -> int:
    """Drop keys older than the retention; returns how many."""
    status = await conn.execute(FORGET, now - RETENTION)
    return int(status.split()[-1])
