"""The systems under test, started as users run them, each on its own port.

The gateway: `billing-gateway serve --workers N` with DATABASE_URL (so no engine
thread), BILLING_ENV=dev (responses carry extensions.sqlStatements) and BILLING_NOW
pinned to the dataset's date. The floor: `uvicorn --factory bench.floor:app`, one
worker, same loop and HTTP parser as the gateway, no access log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from bench import procstat
from bench.dataset import ROOT

BIN: Final = Path(sys.executable).parent
START_SECONDS: Final = 60


@dataclass
class Server:
    name: str
    port: int
    workers: int
    proc: subprocess.Popen[bytes]
    log: Path
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the server itself with one worker, else
        the worker processes its supervisor spawned."""
        if self.workers == 1:
            return [self.proc.pid]
        return [p for p in procstat.children(self.proc.pid) if _is_spawned(p)]

    def pids(self) -> list[int]:
        """Every process of the server (supervisor included): whose CPU it costs."""
        return [self.proc.pid, *procstat.children(self.proc.pid)]


def _is_spawned(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# A few dashboards asking thousands of times a second would be throttled at once (as they
# should be); the bench measures throughput, so buckets are made bottomless. The buckets
# are still taken and refunded on every request: their cost stays in the figures.
UNTHROTTLED: Final = {
    "BILLING_RATE_LIMIT_CAPACITY": str(10**12),
    "BILLING_RATE_LIMIT_RESTORE": str(10**12),
}


def child_env(dsn: str, now: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without its gateway settings, then the bench's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BILLING_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    pythonpath = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env | {
        "DATABASE_URL": dsn,
        "BILLING_ENV": "dev",
        "BILLING_NOW": now,
        "PYTHONPATH": pythonpath,
        **extra,
    }


def start_gateway(
    name: str, workers: int, dsn: str, now: str, logs: Path, extra: Mapping[str, str] = {}
) -> Server:
    port = free_port()
    command = [str(BIN / "billing-gateway"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    env = child_env(dsn, now, {**UNTHROTTLED, **extra})
    server = start(name, workers, port, command, env, logs)
    if workers > 1:  # the supervisor hands connections to ready workers only
        _wait_logged(server, " ready (pid ", workers)
    return server


def start_floor(dsn: str, now: str, logs: Path) -> Server:
    port = free_port()
    command = [str(BIN / "python"), "-m", "uvicorn", "--factory", "bench.floor:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    command += ["--log-level", "warning"]
    return start("floor", 1, port, command, child_env(dsn, now, {}), logs)


def start(
    name: str, workers: int, port: int, command: list[str], env: dict[str, str], logs: Path
) -> Server:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name.replace(' ', '-')}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, workers, proc, log, env)
    try:
        _wait_ready(server)
    except BaseException:
        stop(server)
        raise
    return server


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited; see {server.log}")
        if _healthy(server) and len(server.worker_pids()) == server.workers:
            time.sleep(1.0)  # let every worker finish its start-up
            return
        time.sleep(0.3)
    raise RuntimeError(f"{server.name} did not start within {START_SECONDS} s; see {server.log}")


def _wait_logged(server: Server, text: str, count: int) -> None:
    deadline = time.monotonic() + START_SECONDS
    while server.log.read_text(errors="replace").count(text) < count:
        if time.monotonic() > deadline or server.proc.poll() is not None:
            stop(server)
            raise RuntimeError(f"{server.name}: {count} workers never got ready; see {server.log}")
        time.sleep(0.2)


def _healthy(server: Server) -> bool:
    try:
        return httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def stop(server: Server) -> None:
    """SIGINT to the server's own process group (it was started in a new session)."""
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGINT)
        try:
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait()
