"""The load generator: wrk, driven by bench/post.lua, installed when missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

LUA: Final = Path(__file__).with_name("post.lua")
INSTALL_HINT: Final = (
    "the bench needs wrk: `apt-get install wrk` (Debian, Ubuntu) or `brew install wrk`"
)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    bytes: int
    errors: int  # not HTTP 200, or GraphQL errors in the body
    socket_errors: int
    timeouts: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def failures(self) -> int:
        return self.errors + self.socket_errors + self.timeouts

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package first when missing and we are root."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing Debian's package (apt-get install wrk) ...", flush=True)
        if _apt("install", "-y", "-q", "wrk"):
            _apt("update", "-q")  # a fresh machine may have no package lists yet
            _apt("install", "-y", "-q", "wrk")
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit(INSTALL_HINT)
    return found


def _apt(*args: str) -> int:
    return subprocess.run(["apt-get", *args], stdout=subprocess.DEVNULL, check=False).returncode


def write_requests(path: Path, requests: Sequence[tuple[str, dict[str, Any]]]) -> Path:
    """One line per request: the bearer token, a tab, the JSON body (on one line)."""
    lines = [f"{token}\t{json.dumps(body, separators=(',', ':'))}" for token, body in requests]
    path.write_text("\n".join(lines) + "\n")
    return path


def start(
    wrk: str, port: int, requests: Path, connections: int, seconds: float, threads: int = 1
) -> subprocess.Popen[str]:
    command = [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "60s",
        "--latency",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}/graphql",
        "--",
        str(requests),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen[str]) -> WrkResult:
    out, _ = proc.communicate()
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK {")), None)
    if proc.returncode or line is None:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}):\n{out}")
    r = json.loads(line[4:])
    return WrkResult(
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        bytes=r["bytes"],
        errors=r["errors"],
        socket_errors=r["socket_errors"],
        timeouts=r["timeouts"],
        p50_ms=r["p50_us"] / 1000,
        p90_ms=r["p90_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        max_ms=r["max_us"] / 1000,
    )
