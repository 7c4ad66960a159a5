"""`serve --workers N`: the supervisor hands each connection to the worker holding the
fewest (gateway/supervisor.py), replaces a worker that dies, drains on SIGTERM and
gives up with status 3 when a worker cannot start. Real processes, real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from conftest import make_token
from servers import (
    CLI,
    free_port,
    gateway,
    metric,
    wait_workers_ready,
    worker_pids,
)

from bench import procstat

PING = json.dumps({"query": "query Ping { viewer { role } }"}).encode()
PINGS = 'billing_graphql_requests_total{operation="Ping",outcome="ok"}'


def _request(body: bytes) -> bytes:
    head = (
        "POST /graphql HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {make_token('admin')}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """One request on a kept-alive connection; the response's status line and body."""
    writer.write(_request(PING))
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head.split(b"\r\n")[0] + b" " + await reader.readexactly(length)


def _ping(server_url: str) -> None:
    """One request on a connection of its own."""
    response = httpx.post(
        server_url + "/graphql",
        content=PING,
        headers={
            "Authorization": f"Bearer {make_token('admin')}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200, response.text


async def test_connections_opened_at_once_are_shared_by_both_workers(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "BILLING_ENV": "dev"}
    with gateway(env, tmp_path / "gateway.log", "--workers", "2") as server:
        wait_workers_ready(server, 2)
        # given 8 keep-alive connections opened in one burst (what used to land on one worker)
        opened = [asyncio.open_connection("127.0.0.1", server.port) for _ in range(8)]
        connections = await asyncio.gather(*opened)
        # when each asks three times over its own connection
        for _ in range(3):
            answers = await asyncio.gather(*(_ask(r, w) for r, w in connections))
            assert all(a.startswith(b"HTTP/1.1 200") and b'"ADMIN"' in a for a in answers)
        # then each worker holds (and so answered on) half of them
        held = procstat.connections(worker_pids(server), server.port)
        for _, writer in connections:
            writer.close()
        text = (await asyncio.to_thread(httpx.get, server.url + "/metrics")).text

    assert sorted(held.values()) == [4, 4], held
    assert metric(text, PINGS) == 24  # /metrics sums both workers' counts
    for slot in ("0", "1"):
        assert metric(text, "billing_worker_connections_total", f'worker="{slot}"') >= 4


def test_a_killed_worker_is_replaced_and_what_it_served_stays_counted(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {
        "DATABASE_URL": database_url,
        "BILLING_ENV": "dev",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    with gateway(env, tmp_path / "gateway.log", "--workers", "2") as server:
        wait_workers_ready(server, 2)
        for _ in range(4):
            _ping(server.url)
        before = httpx.get(server.url + "/metrics").text
        victim = worker_pids(server)[0]
        assert list(folder.glob(f"gauge_livesum_{victim}.db"))  # its pool gauges, live

        os.kill(victim, signal.SIGKILL)
        wait_workers_ready(server, 3)  # the replacement's
        workers = worker_pids(server)
        for _ in range(4):
            _ping(server.url)
        after = httpx.get(server.url + "/metrics").text
        left_behind = list(folder.glob(f"gauge_live*_{victim}.db"))
        lines = server.log_lines()

    for slot in ("0", "1"):  # both had served before one was killed
        assert metric(before, "billing_worker_connections_total", f'worker="{slot}"') >= 1
    assert victim not in workers
    assert len(workers) == 2
    assert metric(after, PINGS) == 8  # the dead worker's requests are still in the total
    assert metric(after, "billing_worker_restarts_total") == 1
    assert left_behind == []  # its live gauges left the sums (mark_process_dead)
    assert any("exited (status -9); starting another" in line for line in lines)


async def test_sigterm_drains_a_request_in_flight_then_serve_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": database_url, "BILLING_ENV": "dev"}
    with gateway(env, tmp_path / "gateway.log", "--workers", "2") as server:
        wait_workers_ready(server, 2)
        # given a request whose body is still arriving
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        request = _request(PING)
        writer.write(request[:-5])
        await writer.drain()
        await asyncio.sleep(0.3)

        # when serve is told to stop, and the body then completes
        server.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        refused = await _refused(server.port)
        writer.write(request[-5:])
        await writer.drain()

        # then the request is answered in full, and serve exits 0
        raw = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        status = await asyncio.to_thread(server.process.wait, 30)

    assert raw.startswith(b"HTTP/1.1 200"), raw[:300]
    assert b'"role":"ADMIN"' in raw
    assert refused  # no new connection once stopping
    assert status == 0


async def _refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


def test_a_worker_that_cannot_start_stops_serve_with_status_3(
    database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    # the workers' lifespan reads the key set at start-up; there is none to read
    env |= {
        "DATABASE_URL": database_url,
        "BILLING_ENV": "dev",
        "BILLING_JWT_JWKS_URL": f"file://{tmp_path}/missing-jwks.json",
    }
    log = tmp_path / "gateway.log"
    started = time.monotonic()
    with log.open("w") as err:
        command = [CLI, "serve", "--port", str(free_port()), "--workers", "2"]
        status = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=err, timeout=60)
    elapsed = time.monotonic() - started
    records = [json.loads(line) for line in log.read_text().splitlines()]

    assert status.returncode == 3
    assert elapsed < 30
    messages = [r["message"] for r in records if r["logger"] == "billing.serve"]
    assert any("could not start (exit status 3" in m for m in messages), messages
    assert sum(" started (pid " in m for m in messages) == 2  # not respawned


def _serve(env: dict[str, str], *args: str, log: Path) -> tuple[int, float, list[str]]:
    """`serve` to its end: exit status, seconds taken, the supervisor's messages."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    started = time.monotonic()
    with log.open("w") as err:
        command = [CLI, "serve", *args]
        done = subprocess.run(
            command, env=base | env, stdout=subprocess.DEVNULL, stderr=err, timeout=90
        )
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    messages = [r["message"] for r in records if r.get("logger") == "billing.serve"]
    return done.returncode, time.monotonic() - started, messages


def test_a_worker_whose_start_up_hangs_is_killed_and_serve_exits_3(
    database_url: str, tmp_path: Path
) -> None:
    # Every worker process hangs before it imports anything (its interpreter's
    # sitecustomize sleeps when multiprocessing spawned it).
    hook = tmp_path / "hang"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import sys, time\nif '--multiprocessing-fork' in sys.argv:\n    time.sleep(600)\n"
    )
    env = {
        "DATABASE_URL": database_url,
        "BILLING_ENV": "dev",
        "BILLING_WORKER_START_TIMEOUT": "3",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])),
    }
    port = str(free_port())
    status, took, messages = _serve(
        env, "--port", port, "--workers", "2", log=tmp_path / "gateway.log"
    )

    assert status == 3
    assert took < 30
    assert any("not ready within 3 s" in m and "killed" in m for m in messages), messages
    assert any("could not start" in m for m in messages), messages
    assert sum(" started (pid " in m for m in messages) == 2  # not respawned


def test_a_port_already_taken_makes_serve_exit_3(database_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {"DATABASE_URL": database_url, "BILLING_ENV": "dev"}
        status, _, messages = _serve(
            env, "--host", "127.0.0.1", "--port", port, "--workers", "2", log=tmp_path / "g.log"
        )

    assert status == 3
    assert any(m.startswith(f"cannot listen on 127.0.0.1:{port}") for m in messages), messages
    assert not any(" started (pid " in m for m in messages)  # no worker was started


def test_workers_exit_when_their_supervisor_is_killed(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url, "BILLING_ENV": "dev"}
    with gateway(env, tmp_path / "gateway.log", "--workers", "2") as server:
        wait_workers_ready(server, 2)
        workers = worker_pids(server)
        assert len(workers) == 2

        server.process.kill()
        server.process.wait()
        deadline = time.monotonic() + 30
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)

        assert not any(_running(pid) for pid in workers)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped by whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
