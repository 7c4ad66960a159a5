"""How `billing-gateway serve --workers 2` spreads its connections over its workers,
against the same gateway behind one SO_REUSEPORT socket per worker (bench/reuseport.py).

For each process model: one server, then RUNS runs of wrk one after the other (8
connections unless --connections says otherwise; the core dashboard workload); in
each, the connections each worker holds (counted half-way from /proc: the worker's
socket inodes against /proc/net/tcp), the CPU time each worker used and the requests
served. Written to
bench/results/<date>-<commit>-balance-c<connections>.md (and .json).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg

from bench import machine, report, servers, wrk
from bench.dataset import AS_OF, ROOT, Dataset
from bench.measure import Backends, Round, measure, settle
from bench.servers import Server
from bench.workloads import build
from resolvers.periods import iso

WORKERS: Final = 2
LOGS: Final = ROOT / ".data" / "bench-logs"


@dataclass(frozen=True)
class Variant:
    name: str
    runs: list[Round]

    @property
    def idle_runs(self) -> int:
        """Runs in which one worker held no connection at all."""
        return sum(1 for r in self.runs if min(r.worker_connections) == 0)

    @property
    def cpu_shares(self) -> list[float]:
        """The busier worker's share of the workers' CPU, per run."""
        return [max(r.worker_cpu_seconds) / max(sum(r.worker_cpu_seconds), 1e-9) for r in self.runs]


def start_serve(dataset: Dataset) -> Server:
    return servers.start_gateway("gateway ×2", WORKERS, dataset.dsn, iso(AS_OF), LOGS)


def start_reuseport(dataset: Dataset) -> Server:
    port = servers.free_port()
    command = [str(servers.BIN / "python"), "-m", "bench.reuseport"]
    command += ["--port", str(port), "--workers", str(WORKERS)]
    env = servers.child_env(dataset.dsn, iso(AS_OF), {})
    return servers.start("reuseport ×2", WORKERS, port, command, env, LOGS)


MODELS: Final[tuple[tuple[str, Callable[[Dataset], Server]], ...]] = (
    ("serve --workers 2", start_serve),
    ("SO_REUSEPORT ×2", start_reuseport),
)


async def investigate(
    dataset: Dataset, runs: int, seconds: float, connections: int, save: bool
) -> None:
    tool = wrk.ensure_wrk()
    LOGS.mkdir(parents=True, exist_ok=True)
    core = (await build(dataset.dsn, ["core"], 20))[0]
    requests = wrk.write_requests(LOGS / "core.requests", core.requests)
    conn = await asyncpg.connect(dataset.dsn)
    try:
        facts = machine.facts(tool, str(await conn.fetchval("SHOW server_version")))
        variants = []
        for name, start in MODELS:
            server = start(dataset)
            try:
                done = []
                for n in range(1, runs + 1):
                    await settle(server.pids())
                    run = measure(
                        tool, server, requests, connections, seconds, Backends(conn), ("core", n)
                    )
                    done.append(await run)
            finally:
                servers.stop(server)
            variants.append(Variant(name, done))
    finally:
        await conn.close()
    facts |= {"load_after": machine.load_now(), "minutes": 2 * runs * seconds / 60}
    print(text(variants), flush=True)
    if save:
        command = (
            f".ci/dev bench --balance {runs} --connections {connections} --duration {seconds:g}"
        )
        _save(facts, variants, command, connections)


def text(variants: list[Variant]) -> str:
    lines = [
        "| process model | run | connections per worker | CPU s per worker | req/s |",
        "|---|---:|---|---|---:|",
    ]
    for v in variants:
        for r in v.runs:
            cpu = " / ".join(f"{c:.1f}" for c in r.worker_cpu_seconds)
            split = " / ".join(map(str, r.worker_connections))
            lines.append(f"| {v.name} | {r.round} | {split} | {cpu} | {r.result.rate:.0f} |")
    lines += [
        "",
        "| process model | runs | runs with a worker idle | busier worker's CPU share, median "
        "| req/s, median (range) |",
        "|---|---:|---:|---:|---:|",
    ]
    for v in variants:
        rates = [r.result.rate for r in v.runs]
        lines.append(
            f"| {v.name} | {len(v.runs)} | {v.idle_runs} | {statistics.median(v.cpu_shares):.0%} "
            f"| {statistics.median(rates):.0f} ({min(rates):.0f}–{max(rates):.0f}) |"
        )
    return "\n".join(lines)


def _save(facts: dict[str, Any], variants: list[Variant], command: str, connections: int) -> None:
    stem = report.RESULTS / f"{facts['date'][:10]}-{facts['commit']}-balance-c{connections}"
    body = [
        f"# Worker balance {facts['date']} ({facts['commit']})",
        f"`{command}`: wrk at {connections} connections, core dashboard workload, one "
        "server per process model kept up across its runs.",
        report.facts_text(facts),
        text(variants),
    ]
    report.RESULTS.mkdir(exist_ok=True)
    stem.with_suffix(".md").write_text("\n\n".join(body) + "\n")
    raw = {
        "facts": facts,
        "command": command,
        "variants": [{"name": v.name, "runs": [asdict(r) for r in v.runs]} for v in variants],
    }
    stem.with_suffix(".json").write_text(json.dumps(raw, indent=1) + "\n")
    print(f"results: {Path(stem.with_suffix('.md')).relative_to(ROOT)}")
