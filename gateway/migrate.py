"""Versioned SQL migrations: applied in name order, one transaction each, recorded,
and serialised by an advisory lock so replicas starting together apply each once.

A migration's statements never change once applied; its comments may be reworded
(they are documentation), so the recorded checksum covers the statements only."""

from __future__ import annotations

import hashlib
import re
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
COMMENT: Final = re.compile(r"--[^\n]*")
# Databases migrated before checksums ignored comments recorded the whole text's sha256.
# Such a record still matches while the statements are the ones it was taken of:
# version -> (whole-text checksum recorded then, statements checksum of that text).
WHOLE_TEXT: Final = {
    "0001_core": (
        "822b7dae74aefae57beb9eec2838378023e9321abe2cfb759ecab789ca9c5d34",
        "09417c26e120deea9570681e18c572690e1295d27ea0042e7df705f17987077c",
    ),
    "0002_usage": (
        "348b4b5171ac1c1bcde144da4db98f3175ddac74cf8beecd6e5b830e32581ffc",
        "26befb584c438dd0edfb8e7ebccdd0126734ec4af3e3f17fe02d1e8a9163ea48",
    ),
}


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        """Of the statements: comments dropped, runs of blank space made one space."""
        statements = " ".join(COMMENT.sub("", self.sql).split())
        return hashlib.sha256(statements.encode()).hexdigest()

    def matches(self, recorded: str) -> bool:
        """The recorded checksum is of these statements (or of this very text)."""
        if recorded in (self.checksum, hashlib.sha256(self.sql.encode()).hexdigest()):
            return True
        whole_text, statements = WHOLE_TEXT.get(self.version, ("", ""))
        return recorded == whole_text and statements == self.checksum


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
        if not m.matches(done[m.version]):
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
