"""Facts about the run: when, which code, on what machine, how busy it was."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.dataset import ROOT
from gateway.clock import SystemClock


def _first(path: str, key: str) -> str:
    for line in Path(path).read_text().splitlines():
        if line.startswith(key):
            return line.split(":", 1)[1].strip()
    return "?"


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).split("[")[0].strip()


def facts(wrk: str, postgres: str) -> dict[str, Any]:
    mem_kib = int(_first("/proc/meminfo", "MemTotal").split()[0])
    return {
        "date": SystemClock().now().strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": postgres,
        "wrk": _wrk_version(wrk),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }


def load_now() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
