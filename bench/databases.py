"""Where the benchmarks run: the server named by --database-url or BENCH_DATABASE_URL,
else the embedded PostgreSQL in .data/bench; and databases on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_embedded: list[Any] = []  # pgserver stops the server when its handle is collected


def server_dsn(explicit: str | None) -> str:
    found = explicit or os.environ.get("BENCH_DATABASE_URL")
    if found:
        return found
    from gateway import embedded

    _embedded.append(embedded.start(Path(".data/bench")))
    return str(embedded.dsn(_embedded[-1]))


def with_database(dsn: str, name: str) -> str:
    """The same server, another database."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


def database_name(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/")
