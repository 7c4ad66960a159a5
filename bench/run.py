"""The bench, end to end: dataset, systems, verification, interleaved rounds, report."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx

from bench import cache, machine, report, servers, verify, wrk
from bench.dataset import AS_OF, ROOT, Dataset
from bench.measure import Backends, Round, measure, settle
from bench.servers import Server
from bench.workloads import Workload
from resolvers.periods import iso

WARMUP_CONNECTIONS: Final = 8
NO_CACHE: Final = "Warm response cache: n/a (the gateway reports none; see bench/cache.py)."


@dataclass(frozen=True)
class Options:
    workloads: list[str]
    connections: list[int]
    workers: list[int]
    seconds: float
    rounds: int
    warmup: float
    cache: bool  # probe for a response cache and measure it warm when there is one
    save: bool
    full_set: bool  # the default selection: the README's latest table may be replaced


@dataclass
class Systems:
    """Every system of the run, by name; the floor only when a workload needs it."""

    gateways: list[Server]
    floor: Server | None
    warm: list[Server]  # gateways with their response cache on (empty without one)

    def of(self, workload: Workload) -> list[Server]:
        """The systems that answer `workload`, in the order each round measures them."""
        floor = [self.floor] if workload.floor and self.floor else []
        return [*self.gateways, *floor, *self.warm]

    def pids(self) -> list[int]:
        every = [*self.gateways, *([self.floor] if self.floor else []), *self.warm]
        return [pid for server in every for pid in server.pids()]


def gateway_name(workers: int, warm: bool = False) -> str:
    return f"gateway ×{workers}" + (" warm" if warm else "")


@contextmanager
def systems(
    dataset: Dataset, options: Options, workloads: Sequence[Workload], logs: Path
) -> Iterator[Systems]:
    """Every system up, each stopped at the end whatever happens."""
    now = iso(AS_OF)
    with ExitStack() as stack:

        def up(server: Server) -> Server:
            stack.callback(servers.stop, server)
            return server

        def gateway(workers: int, warm: bool) -> Server:
            env = cache.CACHE_ON if warm else cache.CACHE_OFF
            name = gateway_name(workers, warm)
            return up(servers.start_gateway(name, workers, dataset.dsn, now, logs, env))

        running = Systems([gateway(n, False) for n in options.workers], None, [])
        if any(w.floor for w in workloads):
            running.floor = up(servers.start_floor(dataset.dsn, now, logs))
        if options.cache and cache_reported(gateway(1, True), workloads[0].requests[0]):
            running.warm = [gateway(n, True) for n in options.workers]
        yield running


def cache_reported(probe: Server, request: tuple[str, dict[str, Any]]) -> bool:
    """Does a gateway started with its cache on say it answered a repeated request
    from its cache? The probe is stopped either way."""
    token, body = request
    headers = {"Authorization": f"Bearer {token}"}
    said = None
    with httpx.Client(timeout=60) as client:
        for _ in range(2):
            answer = client.post(f"{probe.url}/graphql", json=body, headers=headers).json()
            said = (answer.get("extensions") or {}).get(cache.CACHE_EXTENSION)
    servers.stop(probe)
    return said == cache.HIT


async def run(options: Options, dataset: Dataset, workloads: Sequence[Workload]) -> None:
    tool = wrk.ensure_wrk()
    conn = await asyncpg.connect(dataset.dsn)
    try:
        postgres = str(await conn.fetchval("SHOW server_version"))
        facts = machine.facts(tool, postgres)
        print(f"load average before the run: {facts['load_before']}", flush=True)
        began = time.monotonic()
        logs = ROOT / ".data" / "bench-logs"
        logs.mkdir(parents=True, exist_ok=True)
        files = {
            w.name: wrk.write_requests(logs / f"{w.name}.requests", w.requests) for w in workloads
        }
        with systems(dataset, options, workloads, logs) as up:
            checked = {w.name: verify.check(up.of(w), w) for w in workloads}
            print("verified: every system answers every request, with the same data", flush=True)
            await _warm_up(tool, up, workloads, files, options)
            rounds = await _rounds(tool, up, workloads, files, options, Backends(conn))
        facts |= {"load_after": machine.load_now(), "minutes": (time.monotonic() - began) / 60}
    finally:
        await conn.close()
    _report(options, dataset, workloads, facts, rounds, checked, cache_found=bool(up.warm))


async def _warm_up(
    tool: str, up: Systems, workloads: Sequence[Workload], files: dict[str, Path], options: Options
) -> None:
    if options.warmup <= 0:
        return
    for w in workloads:
        for system in up.of(w):
            wrk.finish(
                wrk.start(tool, system.port, files[w.name], WARMUP_CONNECTIONS, options.warmup)
            )


async def _rounds(
    tool: str,
    up: Systems,
    workloads: Sequence[Workload],
    files: dict[str, Path],
    options: Options,
    backends: Backends,
) -> list[Round]:
    """Round after round, every system in turn at each step, so that a change in the
    machine's load falls on all of them alike."""
    done = []
    for n in range(1, options.rounds + 1):
        for w in workloads:
            for c in options.connections:
                for system in up.of(w):
                    await settle(up.pids())
                    r = await measure(
                        tool, system, files[w.name], c, options.seconds, backends, (w.name, n)
                    )
                    _progress(r)
                    done.append(r)
    return done


def _progress(r: Round) -> None:
    res = r.result
    split = "/".join(map(str, r.worker_connections)) if len(r.worker_connections) > 1 else ""
    print(
        f"  round {r.round} {r.workload:<10} c{r.connections:<3} {r.system:<18} "
        f"{res.rate:8.1f} req/s  p50 {res.p50_ms:7.1f}  p99 {res.p99_ms:7.1f} ms  "
        f"CPU {r.cpu_ms_per_request:5.1f} ms/req  {split}"
        + (f"  ERRORS {res.failures}" if res.failures else ""),
        flush=True,
    )


def _report(
    options: Options,
    dataset: Dataset,
    workloads: Sequence[Workload],
    facts: dict[str, object],
    rounds: list[Round],
    checked: dict[str, dict[str, verify.Checked]],
    cache_found: bool,
) -> None:
    made = report.rows(rounds, checked)
    setup = setup_text(options, dataset, workloads)
    notes = [] if cache_found else [NO_CACHE]
    print("\n" + report.table(made) + "\n\n" + "\n".join(notes), flush=True)
    if not options.save:
        return
    path = report.save(facts, setup, made, rounds, notes)
    print(f"results: {path.relative_to(ROOT)} (and .json)")
    if options.full_set:
        report.update_readme(facts, setup, made, path)
        print("bench/README.md: latest results replaced")


def setup_text(options: Options, dataset: Dataset, workloads: Sequence[Workload]) -> str:
    titles = "; ".join(f"**{w.name}**: {w.title}" for w in workloads)
    return (
        f"Dataset `{dataset.version}`. {options.rounds} interleaved rounds of "
        f"{options.seconds:g} s per system, workload and connection count "
        f"({', '.join(map(str, options.connections))}), wrk with 1 thread, after a "
        f"{options.warmup:g} s warm-up. Workloads: {titles}. Medians over rounds "
        "(req/s range: slowest–fastest round); ÷ floor and ÷ ×1: medians of the per-round "
        "ratios to the floor and to the 1-worker gateway. CPU per request: user + system time "
        "of all the server's processes from wrk's start until the server is idle again, over "
        "all rounds ÷ (answered requests + the one each connection had outstanding); DB: the "
        "same for the database's backends."
    )
