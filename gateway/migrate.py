"""Versioned SQL migrations: applied in name order, one transaction each, recorded,
and serialised by an advisory lock so replicas starting together apply each once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Final

import asyncpg

# Any constant works; it only has to be the same for every replica of this service.
LOCK_KEY: Final = 0x6269_6C6C_6777  # "billgw"

CREATE_TABLE: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
APPLIED: Final = "SELECT version, checksum FROM schema_migrations"
RECORD: Final = "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)"


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(Exception):
    """A migration cannot be applied; the message names which and why."""


def available() -> list[Migration]:
    folder = resources.files("gateway.migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f.name.removesuffix(".sql"), f.read_text()) for f in files]


async def apply(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations on conn; returns the versions applied now."""
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(CREATE_TABLE)
        done = {r["version"]: r["checksum"] for r in await conn.fetch(APPLIED)}
        return [m.version for m in available() if await _apply_one(conn, m, done)]
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def _apply_one(conn: asyncpg.Connection, m: Migration, done: dict[str, str]) -> bool:
    if m.version in done:
        if done[m.version] != m.checksum:
            raise MigrationError(f"migration {m.version} was changed after it was applied")
        return False
    try:
        async with conn.transaction():
            await conn.execute(m.sql)
            await conn.execute(RECORD, m.version, m.checksum)
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"migration {m.version} failed: {exc}") from exc
    return True


async def migrate(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await apply(conn)
    finally:
        await conn.close()


async def pending(dsn: str) -> list[str]:
    """Versions not yet applied (all of them on a database never migrated)."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        done = {r["version"] for r in await conn.fetch(APPLIED)} if exists else set()
    finally:
        await conn.close()
    return [m.version for m in available() if m.version not in done]
