"""The billing engine (`billing-gateway worker`) on a database seeded 400 days ago and
never run since: every due boundary is processed once, in one transaction each, the
same whether one worker runs, two run at once, or one is killed and restarted."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from conftest import SEED_AS_OF
from prometheus_client import REGISTRY

from bench.engine_catchup import digest
from gateway.clock import FixedClock
from gateway.worker import run_once
from resolvers.periods import add_months, iso

CLI = str(Path(sys.executable).parent / "billing-gateway")
# Half past the hour: no boundary (always on a whole hour) falls in the seconds a run takes.
LATER = SEED_AS_OF + timedelta(days=400, minutes=30)

LIVE_ROWS = """
SELECT s.*, p.interval FROM subscriptions s JOIN plans p ON p.id = s.plan_id
 WHERE s.status IN ('TRIALING', 'ACTIVE', 'PAST_DUE')"""
# Σ rounded lines = subtotal (the CHECKs hold tax, total and each line's rounding).
UNBALANCED = """
SELECT i.number FROM invoices i
  LEFT JOIN invoice_lines l ON l.invoice_id = i.id
 GROUP BY i.id HAVING i.subtotal <> coalesce(sum(l.amount), 0)"""


def run_worker(dsn: str, *args: str, at: datetime = LATER) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": dsn, "BILLING_ENV": "dev", "BILLING_NOW": iso(at)}
    return subprocess.Popen(
        [CLI, "worker", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def expected_boundaries(row: Any, now: datetime) -> list[datetime]:
    """The boundaries a stored row crosses by `now`, counted from its anchor."""
    end = row["current_period_end"]
    if end > now:
        return []
    if row["cancel_at_period_end"]:
        return [end]
    anchor = row["trial_end"] if row["status"] == "TRIALING" else row["billing_anchor"]
    step = 12 if row["interval"] == "YEAR" else 1
    schedule = (add_months(anchor, k * step) for k in range(1000))
    return [end, *(b for b in schedule if end < b <= now)]


@pytest.fixture
async def twin(seeded_template: str, create_database: Callable[..., Awaitable[str]]) -> str:
    return await create_database(seeded_template)


@pytest.fixture(scope="module")
async def one_run(
    seeded_template: str, create_database: Callable[..., Awaitable[str]]
) -> dict[str, Any]:
    """One `worker --once` over a twin: what it did, and the rows before it ran."""
    dsn = await create_database(seeded_template)
    conn = await asyncpg.connect(dsn)
    try:
        live = await conn.fetch(LIVE_ROWS)
        invoices_before = await conn.fetchval("SELECT count(*) FROM invoices")
    finally:
        await conn.close()
    output = finish(run_worker(dsn, "--once"))
    return {"dsn": dsn, "live": live, "invoices_before": invoices_before, "output": output}


async def test_each_live_subscription_gets_one_invoice_per_boundary_crossed(
    one_run: dict[str, Any],
) -> None:
    conn = await asyncpg.connect(one_run["dsn"])
    try:
        issued = await conn.fetch(
            "SELECT subscription_id, array_agg(boundary_at ORDER BY boundary_at) AS at"
            " FROM invoices WHERE boundary_at >= $1 GROUP BY 1",
            SEED_AS_OF,
        )
        unbalanced = await conn.fetch(UNBALANCED)
    finally:
        await conn.close()

    expected = {r["id"]: expected_boundaries(r, LATER) for r in one_run["live"]}
    got = {r["subscription_id"]: list(r["at"]) for r in issued}
    assert got == {sub: at for sub, at in expected.items() if at}
    assert sum(len(at) for at in expected.values()) > 300  # 400 days of 47 live subscriptions
    assert unbalanced == []
    assert "renewed" in one_run["output"]


async def test_trials_convert_and_due_cancels_end(one_run: dict[str, Any]) -> None:
    trials = [r["id"] for r in one_run["live"] if r["status"] == "TRIALING"]
    cancels = [r["id"] for r in one_run["live"] if r["cancel_at_period_end"]]
    conn = await asyncpg.connect(one_run["dsn"])
    try:
        status = dict(await conn.fetch("SELECT id, status FROM subscriptions"))
        stored = await conn.fetch(LIVE_ROWS)
    finally:
        await conn.close()

    assert trials
    assert cancels
    assert {status[t] for t in trials} == {"ACTIVE"}
    assert {status[c] for c in cancels} == {"CANCELED"}
    # every live row is current: its stored period contains the run's instant
    assert all(r["current_period_start"] <= LATER < r["current_period_end"] for r in stored)


async def test_a_second_run_changes_nothing(one_run: dict[str, Any]) -> None:
    before = await digest(one_run["dsn"])

    output = finish(run_worker(one_run["dsn"], "--once"))

    assert output.strip() == "caught up: nothing was due"
    assert await digest(one_run["dsn"]) == before


async def test_two_workers_at_once_issue_exactly_what_one_does(
    one_run: dict[str, Any], twin: str
) -> None:
    first, second = run_worker(twin, "--once"), run_worker(twin, "--once")

    finish(first), finish(second)

    assert await digest(twin) == await digest(one_run["dsn"])


async def test_a_worker_killed_mid_run_leaves_nothing_half_done(
    one_run: dict[str, Any], twin: str
) -> None:
    conn = await asyncpg.connect(twin)
    try:
        before = await conn.fetchval("SELECT count(*) FROM invoices")
        worker = run_worker(twin, "--once")
        while await conn.fetchval("SELECT count(*) FROM invoices") < before + 40:
            assert worker.poll() is None, "the run ended before it could be killed"
            await asyncio.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.communicate(timeout=10)  # reaps it and closes its pipes
        partial = await conn.fetchval("SELECT count(*) FROM invoices")
        # each issued invoice came with its advanced subscription: nothing is half-done
        behind = await conn.fetchval(
            "SELECT count(*) FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id"
            " WHERE i.boundary_at >= $1 AND s.current_period_end <= i.boundary_at"
            " AND s.status <> 'CANCELED'",
            SEED_AS_OF,
        )
    finally:
        await conn.close()

    finish(run_worker(twin, "--once"))

    assert before + 40 <= partial < before + 300
    assert behind == 0
    assert await digest(twin) == await digest(one_run["dsn"])


async def test_invoice_numbers_stay_gapless_per_year(one_run: dict[str, Any]) -> None:
    conn = await asyncpg.connect(one_run["dsn"])
    try:
        rows = await conn.fetch(
            "SELECT substr(number, 5, 4) AS year, array_agg(substr(number, 10)::int ORDER BY 1)"
            " AS n FROM invoices GROUP BY 1"
        )
    finally:
        await conn.close()

    assert len(rows) >= 3
    for r in rows:
        assert sorted(r["n"]) == list(range(1, len(r["n"]) + 1)), r["year"]


async def test_every_boundary_leaves_its_events_in_per_account_order(
    one_run: dict[str, Any],
) -> None:
    conn = await asyncpg.connect(one_run["dsn"])
    try:
        kinds = dict(await conn.fetch("SELECT type, count(*) FROM outbox_events GROUP BY 1"))
        issued = await conn.fetchval(
            "SELECT count(*) FROM invoices WHERE boundary_at >= $1", SEED_AS_OF
        )
        gaps = await conn.fetch(
            "SELECT account_id FROM outbox_events GROUP BY 1 HAVING max(seq) <> count(*)"
        )
        versions = await conn.fetch(
            "SELECT v.account_id FROM account_versions v JOIN outbox_events e USING (account_id)"
            " GROUP BY v.account_id, v.version HAVING v.version <> max(e.seq)"
        )
    finally:
        await conn.close()

    subscription_events = sum(n for k, n in kinds.items() if k.startswith("subscription."))
    assert kinds["invoice.issued"] == subscription_events == issued
    assert kinds["entitlement.expired"] >= 1
    assert gaps == versions == []


async def test_grant_expiry_is_recorded_once(one_run: dict[str, Any]) -> None:
    conn = await asyncpg.connect(one_run["dsn"])
    try:
        expired = await conn.fetchval(
            "SELECT count(*) FROM entitlement_grants WHERE expires_at <= $1", LATER
        )
        recorded = await conn.fetchval(
            "SELECT count(*) FROM entitlement_grants WHERE expiry_recorded_at IS NOT NULL"
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE type = 'entitlement.expired'"
        )
        since_seed = await conn.fetchval(
            "SELECT count(*) FROM entitlement_grants WHERE expires_at > $1 AND expires_at <= $2",
            SEED_AS_OF,
            LATER,
        )
    finally:
        await conn.close()

    # those that expired before the seed's date came recorded; the engine did the rest
    assert expired == recorded
    assert events == since_seed > 0


async def test_the_engine_makes_the_usage_partitions_ahead(one_run: dict[str, Any]) -> None:
    conn = await asyncpg.connect(one_run["dsn"])
    try:
        months = {
            r["name"]
            for r in await conn.fetch(
                "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'usage_events'::regclass"
            )
        }
    finally:
        await conn.close()

    ahead = [add_months(LATER.replace(day=1, hour=0, minute=0), k) for k in range(4)]
    assert {f"usage_events_p{m:%Y%m}" for m in ahead} <= months


async def test_each_action_is_logged_and_counted(
    twin: str, caplog: pytest.LogCaptureFixture
) -> None:
    renewed = REGISTRY.get_sample_value("billing_engine_actions_total", {"action": "renewed"})
    pool = await asyncpg.create_pool(twin, min_size=1, max_size=2)
    try:
        with caplog.at_level(logging.INFO, logger="billing.engine"):
            done = await run_once(pool, FixedClock(LATER))
    finally:
        await pool.close()

    after = REGISTRY.get_sample_value("billing_engine_actions_total", {"action": "renewed"})
    assert done["renewed"] > 300
    assert (after or 0) - (renewed or 0) == done["renewed"]
    lines = [r.getMessage() for r in caplog.records if r.name == "billing.engine"]
    assert len(lines) == sum(done.values()) - done["partitions_created"] + 1
    assert any(line.startswith("renewed sub_") and " USD for boundary " in line for line in lines)


async def test_idempotency_keys_are_kept_seven_days(twin: str) -> None:
    conn = await asyncpg.connect(twin)
    try:
        for key, age in (("old", timedelta(days=7, seconds=1)), ("recent", timedelta(days=6))):
            await conn.execute(
                "INSERT INTO mutation_requests (principal, operation, idempotency_key,"
                " request_hash, response, created_at) VALUES ('dev:admin', 'recordUsage', $1,"
                " 'h', '{}', $2)",
                key,
                LATER - age,
            )
        pool = await asyncpg.create_pool(twin, min_size=1, max_size=1)
        try:
            done = await run_once(pool, FixedClock(LATER))
        finally:
            await pool.close()
        kept = await conn.fetch("SELECT idempotency_key FROM mutation_requests")
    finally:
        await conn.close()

    assert done["keys_forgotten"] == 1
    assert [r["idempotency_key"] for r in kept] == ["recent"]
