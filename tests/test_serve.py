"""Acceptance of the run command: `billing-gateway serve` with no DATABASE_URL starts
an embedded PostgreSQL, seeds it once, prints a token that answers, and keeps its
data across a restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CLI = str(Path(sys.executable).parent / "billing-gateway")
STARTUP_SECONDS = 120
SEEDED = "2026-11-15T00:30:00Z"
FORTY_DAYS_LATER = "2026-12-25T00:30:00Z"
INVOICES = "{ accounts(first: 1) { nodes { invoices { totalCount } } } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    data_dir: Path, port: int, now: str, stop: signal.Signals = signal.SIGINT
) -> Iterator[tuple[list[str], str]]:
    """`serve` on the embedded database, its billing clock starting at `now`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env |= {"BILLING_DATA_DIR": str(data_dir), "BILLING_ENV": "dev", "BILLING_NOW": now}
    with (
        (data_dir / "serve.log").open("a") as log,
        subprocess.Popen(
            [CLI, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        ) as proc,
    ):
        try:
            lines = _read_until_token(proc)
            _wait_healthy(port)
            yield lines, lines[-1]
        finally:
            proc.send_signal(stop)
            proc.wait(timeout=30)


def _read_until_token(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"serve exited early: {lines}")
        lines.append(line.strip())
        if len(lines) >= 2 and lines[-2].startswith("demo token"):
            return lines
    raise AssertionError(f"no token printed: {lines}")


def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("gateway never became ready")


def ask(port: int, token: str, query: str) -> dict[str, object]:
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert isinstance(data, dict)
    return data


def invoice_count(port: int, token: str) -> int:
    data = ask(port, token, INVOICES)
    accounts = data["accounts"]
    assert isinstance(accounts, dict)
    return int(accounts["nodes"][0]["invoices"]["totalCount"])


def test_serve_embedded_answers_keeps_its_data_and_bills_on(tmp_path: Path) -> None:
    port = free_port()
    query = "{ viewer { role accountCount } }"

    with serving(tmp_path, port, SEEDED) as (lines, token):
        first = ask(port, token, query)
        assert any(line.startswith("seeded demo data") for line in lines)
        assert f"GraphiQL: http://127.0.0.1:{port}/graphql" in lines
        invoices_then = invoice_count(port, token)

    # started again 40 days later: the data is kept, and the engine issues what fell due
    with serving(tmp_path, port, FORTY_DAYS_LATER) as (lines, token_again):
        second = ask(port, token_again, query)
        assert not any(line.startswith("seeded demo data") for line in lines)
        deadline = time.monotonic() + 30
        while invoice_count(port, token_again) == invoices_then:
            assert time.monotonic() < deadline, "the engine issued nothing in 30 s"
            time.sleep(0.5)

    assert first == {"viewer": {"role": "CUSTOMER", "accountCount": 1}}
    assert second == first
    assert (tmp_path / "pg" / "PG_VERSION").exists()


def test_serve_starts_quietly_and_stops_its_embedded_postgresql(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, port, SEEDED, stop=signal.SIGTERM):  # what docker and systemd send
        pid_file = tmp_path / "pg" / "postmaster.pid"
        postmaster = int(pid_file.read_text().splitlines()[0])
        assert _running(postmaster)

    assert not _running(postmaster)  # stopped by serve on its way out, not left behind
    lines = (tmp_path / "serve.log").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # one format: JSON lines only
    # quiet: none of pgserver's INFO chatter (a failure to stop would still be shown)
    assert not [r for r in records if r["logger"].startswith("pgserver") and r["level"] == "INFO"]
    assert len(records) < 15, lines


def _running(pid: int) -> bool:
    """Alive, and not a zombie waiting for a container's init to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
