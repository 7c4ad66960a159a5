"""What the kernel knows about a server's processes: CPU time, memory, connections.

Linux /proc only. CPU time is utime + stime in clock ticks; memory is VmRSS (now) and
VmHWM (peak) in MiB; connections are the ESTABLISHED TCP sockets a process holds whose
local port is the server's, found by matching socket inodes with /proc/net/tcp{,6}.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path
from typing import Final

PROC: Final = Path("/proc")
TICK: Final = os.sysconf("SC_CLK_TCK")
ESTABLISHED: Final = "01"


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    text = (PROC / str(pid) / "stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def exists(pid: int) -> bool:
    return (PROC / str(pid)).exists()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far; 0 once it is gone."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    """Direct children of `pid`, in pid order."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            with suppress(FileNotFoundError, ProcessLookupError, ValueError):
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB; zeros once the process is gone."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    with suppress(FileNotFoundError, ProcessLookupError):
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def _established_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        with suppress(FileNotFoundError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                cols = line.split()
                local_port = int(cols[1].rsplit(":", 1)[1], 16)
                if local_port == port and cols[3] == ESTABLISHED:
                    inodes.add(cols[9])
    return inodes


def connections(pids: list[int], port: int) -> dict[int, int]:
    """Accepted client connections on `port` held by each process."""
    inodes = _established_inodes(port)
    held = {}
    for pid in pids:
        count = 0
        with suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            for fd in (PROC / str(pid) / "fd").iterdir():
                with suppress(FileNotFoundError):
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        count += 1
        held[pid] = count
    return held
