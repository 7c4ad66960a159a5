"""How three process models spread connections over 2 workers of the same gateway:
plain uvicorn workers (`uvicorn gateway.asgi:app --workers 2`: every worker accepts on
one shared socket, the model `serve` had), one SO_REUSEPORT socket per worker
(bench/reuseport.py: the kernel hashes each connection to a socket) and
`billing-gateway serve --workers 2` (its supervisor accepts and hands each connection
to the worker holding the fewest, gateway/supervisor.py).

One server per process model, all up at once, then RUNS runs of wrk per model, the
models taken in turn (8 connections unless --connections says otherwise; the core
dashboard workload); in
each, the connections each worker holds (counted half-way from /proc: the worker's
socket inodes against /proc/net/tcp), the CPU time each worker used and the requests
served, wrk's p50 and p99, and the CPU of the server's other processes (the
supervisor's, for `serve`). Written to
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
from gateway import logs
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
    def tail_ratios(self) -> list[float]:
        """p99 ÷ p50 per run."""
        return [r.result.p99_ms / max(r.result.p50_ms, 1e-9) for r in self.runs]

    @property
    def cpu_shares(self) -> list[float]:
        """The busier worker's share of the workers' CPU, per run."""
        return [max(r.worker_cpu_seconds) / max(sum(r.worker_cpu_seconds), 1e-9) for r in self.runs]


def start_serve(dataset: Dataset) -> Server:
    return servers.start_gateway("gateway ×2", WORKERS, dataset.dsn, iso(AS_OF), LOGS)


def start_uvicorn(dataset: Dataset) -> Server:
    """The model `serve --workers N` had: uvicorn's own workers on one shared socket."""
    port = servers.free_port()
    command = [str(servers.BIN / "uvicorn"), "gateway.asgi:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(WORKERS), "--loop", "uvloop"]
    command += ["--http", "httptools", "--no-access-log", "--log-config", str(_log_config())]
    return servers.start("uvicorn ×2", WORKERS, port, command, _env(dataset), LOGS)


def _log_config() -> Path:
    """`serve`'s logging (a JSON line per request) for plain uvicorn, as a file."""
    config = logs.config()
    config["formatters"]["json"]["()"] = "gateway.logs.JsonFormatter"
    path = LOGS / "log-config.json"
    path.write_text(json.dumps(config))
    return path


def start_reuseport(dataset: Dataset) -> Server:
    port = servers.free_port()
    command = [str(servers.BIN / "python"), "-m", "bench.reuseport"]
    command += ["--port", str(port), "--workers", str(WORKERS)]
    return servers.start("reuseport ×2", WORKERS, port, command, _env(dataset), LOGS)


def _env(dataset: Dataset) -> dict[str, str]:
    """What start_gateway gives `serve`: the same settings, the buckets bottomless."""
    return servers.child_env(dataset.dsn, iso(AS_OF), servers.UNTHROTTLED)


MODELS: Final[tuple[tuple[str, Callable[[Dataset], Server]], ...]] = (
    ("uvicorn --workers 2", start_uvicorn),
    ("SO_REUSEPORT ×2", start_reuseport),
    ("serve --workers 2", start_serve),
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
        variants = await _interleaved(dataset, tool, requests, connections, seconds, runs, conn)
    finally:
        await conn.close()
    facts |= {"load_after": machine.load_now(), "minutes": len(MODELS) * runs * seconds / 60}
    print(text(variants), flush=True)
    if save:
        command = (
            f".ci/dev bench --balance {runs} --connections {connections} --duration {seconds:g}"
        )
        _save(facts, variants, command, connections)


async def _interleaved(
    dataset: Dataset,
    tool: str,
    requests: Path,
    connections: int,
    seconds: float,
    runs: int,
    conn: asyncpg.Connection,
) -> list[Variant]:
    """Every model's server up at once, their runs taken in turn: a machine whose load
    changes (other suites on a shared box) then weighs on every model alike."""
    started: list[tuple[str, Server]] = []
    try:
        for name, start in MODELS:
            started.append((name, start(dataset)))
        done: dict[str, list[Round]] = {name: [] for name, _ in started}
        for n in range(1, runs + 1):
            for name, server in started:
                await settle([p for _, s in started for p in s.pids()])
                run = measure(
                    tool, server, requests, connections, seconds, Backends(conn), ("core", n)
                )
                done[name].append(await run)
    finally:
        for _, server in started:
            servers.stop(server)
    return [Variant(name, runs_of) for name, runs_of in done.items()]


def text(variants: list[Variant]) -> str:
    lines = [
        "| process model | run | connections per worker | CPU s per worker | other CPU s "
        "| req/s | p50 ms | p99 ms |",
        "|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for v in variants:
        for r in v.runs:
            cpu = " / ".join(f"{c:.1f}" for c in r.worker_cpu_seconds)
            other = r.cpu_seconds - sum(r.worker_cpu_seconds)
            split = " / ".join(map(str, r.worker_connections))
            lines.append(
                f"| {v.name} | {r.round} | {split} | {cpu} | {other:.2f} | {r.result.rate:.0f} "
                f"| {r.result.p50_ms:.1f} | {r.result.p99_ms:.1f} |"
            )
    lines += [
        "",
        "| process model | runs | runs with a worker idle | busier worker's CPU share, median "
        "| req/s, median (range) | p99 ÷ p50, median (worst) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for v in variants:
        rates = [r.result.rate for r in v.runs]
        tails = v.tail_ratios
        lines.append(
            f"| {v.name} | {len(v.runs)} | {v.idle_runs} | {statistics.median(v.cpu_shares):.0%} "
            f"| {statistics.median(rates):.0f} ({min(rates):.0f}–{max(rates):.0f}) "
            f"| {statistics.median(tails):.1f} ({max(tails):.1f}) |"
        )
    return "\n".join(lines)


def _save(facts: dict[str, Any], variants: list[Variant], command: str, connections: int) -> None:
    stem = report.RESULTS / f"{facts['date'][:10]}-{facts['commit']}-balance-c{connections}"
    body = [
        f"# Worker balance {facts['date']} ({facts['commit']})",
        f"`{command}`: wrk at {connections} connections, core dashboard workload, one "
        "server per process model, all kept up, their runs taken in turn.",
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
