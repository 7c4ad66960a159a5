"""Real `billing-gateway serve` processes for tests that need several processes,
real sockets or signals: started on a free port, waited for, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CLI = str(Path(sys.executable).parent / "billing-gateway")
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines()


@contextmanager
def gateway(env: dict[str, str], log: Path, *args: str) -> Iterator[Server]:
    """`billing-gateway serve` with `env` added to a clean environment; its log
    (stderr) goes to `log`, what it prints for people (stdout) beside it."""
    port = free_port()
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    command = [CLI, "serve", "--port", str(port), *args]
    with (
        log.open("w") as err,
        log.with_suffix(".out").open("w") as out,
        subprocess.Popen(
            command, env={**base, **env}, stdout=out, stderr=err, text=True
        ) as process,
    ):
        server = Server(process, port, log)
        try:
            wait_healthy(server)
            yield server
        finally:
            stop(server)


def wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"serve exited early: {server.log.read_text()[-3000:]}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the gateway never answered /healthz")


def stop(server: Server) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    return int(server.process.returncode)


def redis_url() -> str | None:
    """REDIS_URL, or the local Redis when it answers; None: the test is skipped."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return None
    return "redis://127.0.0.1:6379/0"


def worker_pids(server: Server) -> list[int]:
    """The worker processes of `serve --workers N` (multiprocessing's spawned children;
    not its resource tracker)."""
    from bench import procstat

    found = []
    for pid in procstat.children(server.process.pid):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


def metric(text: str, name: str, labels: str = "") -> float:
    """A sample's value in Prometheus text (labels as written, e.g. 'worker="0"'); 0 if
    the sample is absent."""
    wanted = f"{name}{{{labels}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(wanted):
            return float(line[len(wanted) :])
    return 0.0


def wait_workers_ready(server: Server, count: int) -> None:
    """Until `count` "worker N ready" lines were logged (replacements count too)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if sum(" ready (pid " in line for line in server.log_lines()) >= count:
            return
        assert server.process.poll() is None, server.log.read_text()[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"{count} workers never got ready: {server.log.read_text()[-3000:]}")
