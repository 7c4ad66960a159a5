"""One measured round: wrk against one system while /proc says what it cost."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from bench import procstat, wrk
from bench.servers import Server

if TYPE_CHECKING:
    import asyncpg

BACKENDS: Final = """
SELECT pid FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND backend_type = 'client backend'"""


@dataclass(frozen=True)
class Round:
    system: str
    workload: str
    connections: int
    round: int
    result: wrk.WrkResult
    cpu_seconds: float  # every process of the server
    worker_cpu_seconds: list[float]  # per worker, in pid order
    worker_connections: list[int]  # per worker, sampled half-way
    db_cpu_seconds: float | None  # the database's backends, when they run on this machine
    rss_mib: list[float]  # per worker, at the end
    hwm_mib: list[float]  # per worker, peak since start

    @property
    def served(self) -> int:
        """Requests the server worked through: wrk's answered ones, and the one each
        connection still had outstanding when wrk stopped (the server finishes it, and
        its CPU is counted: the measurement ends once the server is idle again)."""
        return self.result.requests + self.connections

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.served


IDLE_SHARE: Final = 0.05  # of one core
SETTLE_STEP: Final = 0.5
SETTLE_LIMIT: Final = 180.0


async def settle(pids: list[int]) -> float:
    """Wait until these processes are idle: wrk stops at its deadline, but a server
    still works off the requests its connections had sent (a slow one for many
    seconds), and that must not fall into the next measurement. Returns the wait."""
    waited = 0.0
    while waited < SETTLE_LIMIT:
        before = sum(procstat.cpu_seconds(p) for p in pids)
        await asyncio.sleep(SETTLE_STEP)
        waited += SETTLE_STEP
        if sum(procstat.cpu_seconds(p) for p in pids) - before <= IDLE_SHARE * SETTLE_STEP:
            return waited
    return waited


class Backends:
    """CPU time of the database's client backends (all systems share the database; only
    the measured one is busy). None when the server is not on this machine."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def cpu(self) -> dict[int, float] | None:
        pids = [int(r["pid"]) for r in await self.conn.fetch(BACKENDS)]
        if pids and not procstat.exists(pids[0]):
            return None
        return {pid: procstat.cpu_seconds(pid) for pid in pids}


async def measure(
    tool: str,
    system: Server,
    requests: Path,
    connections: int,
    seconds: float,
    backends: Backends,
    labels: tuple[str, int],
) -> Round:
    pids, workers = system.pids(), system.worker_pids()
    cpu0 = {p: procstat.cpu_seconds(p) for p in pids}
    db0 = await backends.cpu()
    proc = wrk.start(tool, system.port, requests, connections, seconds)
    await asyncio.sleep(seconds / 2)
    held = procstat.connections(workers, system.port)
    result = await asyncio.to_thread(wrk.finish, proc)
    await settle(pids)
    cpu1 = {p: procstat.cpu_seconds(p) for p in pids}
    db1 = await backends.cpu()
    memory = [procstat.memory_mib(p) for p in workers]
    return Round(
        system=system.name,
        workload=labels[0],
        connections=connections,
        round=labels[1],
        result=result,
        cpu_seconds=sum(cpu1[p] - cpu0[p] for p in pids),
        worker_cpu_seconds=[cpu1[p] - cpu0[p] for p in workers],
        worker_connections=[held[p] for p in workers],
        db_cpu_seconds=_db_delta(db0, db1),
        rss_mib=[m[0] for m in memory],
        hwm_mib=[m[1] for m in memory],
    )


def _db_delta(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    if before is None or after is None:
        return None
    # A backend that appeared during the round counts from zero.
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())
