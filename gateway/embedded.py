"""The embedded PostgreSQL used when no DATABASE_URL is set."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def start(data_dir: Path) -> Any:
    """Start (or reuse) the server whose data lives in data_dir/pg; returns the handle.

    The handle must stay referenced: pgserver stops the server when its last user
    process exits, and the data folder survives for the next start.
    """
    with warnings.catch_warnings():
        # pgserver asks platformdirs for XDG_RUNTIME_DIR, unset on servers and CI.
        warnings.simplefilter("ignore")
        import pgserver

        pgdata = data_dir / "pg"
        pgdata.mkdir(parents=True, exist_ok=True)
        return pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]


def dsn(server: Any) -> str:
    return str(server.get_uri())
