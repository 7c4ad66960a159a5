"""`billing-gateway migrate`: idempotent, safe when replicas race, clear when the
database cannot be reached."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg

from gateway import migrate

CLI = str(Path(sys.executable).parent / "billing-gateway")


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        CLI,
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def applied_versions(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        return [r["version"] for r in rows]
    finally:
        await conn.close()


async def test_migrate_twice_applies_each_migration_once(fresh_database: str) -> None:
    expected = [m.version for m in migrate.available()]

    first = await migrate.migrate(fresh_database)
    second = await migrate.migrate(fresh_database)

    assert first == expected
    assert second == []
    assert await applied_versions(fresh_database) == expected


async def test_two_processes_at_once_apply_each_migration_once(fresh_database: str) -> None:
    env = {"DATABASE_URL": fresh_database}

    results = await asyncio.gather(run_cli("migrate", env=env), run_cli("migrate", env=env))

    assert [code for code, _, _ in results] == [0, 0]
    versions = [m.version for m in migrate.available()]
    outputs = "".join(out for _, out, _ in results)
    assert all(outputs.count(v) == 1 for v in versions), outputs
    assert await applied_versions(fresh_database) == versions


async def test_unreachable_database_is_one_line_and_non_zero() -> None:
    env = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}

    code, out, err = await run_cli("migrate", env=env)

    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("billing-gateway: cannot reach the database at 127.0.0.1:1/nowhere")
    assert "Traceback" not in err


async def test_a_changed_applied_migration_is_refused(fresh_database: str) -> None:
    await migrate.migrate(fresh_database)
    conn = await asyncpg.connect(fresh_database)
    try:
        await conn.execute(
            "UPDATE schema_migrations SET checksum = 'x' WHERE version = '0001_core'"
        )
    finally:
        await conn.close()

    code, _, err = await run_cli("migrate", env={"DATABASE_URL": fresh_database})

    assert code == 2
    assert "0001_core was changed after it was applied" in err


def test_a_migrations_checksum_is_of_its_statements_not_its_comments() -> None:
    worded = migrate.Migration("0009_x", "-- says one thing\nCREATE TABLE t (a int);\n")
    reworded = migrate.Migration("0009_x", "-- says it better\n\nCREATE TABLE t (a int); -- t\n")
    changed = migrate.Migration("0009_x", "-- says one thing\nCREATE TABLE t (a bigint);\n")

    assert worded.checksum == reworded.checksum
    assert worded.checksum != changed.checksum


def test_the_statements_of_migrations_applied_before_are_unchanged() -> None:
    # The comments of 0001–0002 were reworded; their statements may never change.
    files = {m.version: m for m in migrate.available()}
    for version, (_, statements) in migrate.WHOLE_TEXT.items():
        assert files[version].checksum == statements, version


async def test_a_database_migrated_before_comments_were_reworded_migrates_on(
    fresh_database: str,
) -> None:
    # given a database that recorded the whole-text checksums of 0001–0002
    await migrate.migrate(fresh_database)
    conn = await asyncpg.connect(fresh_database)
    try:
        for version, (whole_text, _) in migrate.WHOLE_TEXT.items():
            await conn.execute(
                "UPDATE schema_migrations SET checksum = $2 WHERE version = $1", version, whole_text
            )
    finally:
        await conn.close()

    # when it is migrated again, then nothing is refused and nothing is applied twice
    assert await migrate.migrate(fresh_database) == []
