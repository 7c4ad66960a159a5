"""The embedded PostgreSQL used when no DATABASE_URL is set (dev only; the
`embedded` extra, pgserver, is not part of the production image)."""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path
from typing import Any

from gateway.settings import ConfigError


def start(data_dir: Path) -> Any:
    """Start (or reuse) the server whose data lives in data_dir/pg; returns the handle.

    The handle must stay referenced and be given to `stop` at the end: pgserver
    would otherwise leave the server running after the process that started it.
    """
    # pgserver logs every initdb/pg_ctl command it runs at INFO.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # pgserver asks platformdirs for XDG_RUNTIME_DIR, unset on servers and CI.
        warnings.simplefilter("ignore")
        try:
            import pgserver
        except ImportError:
            raise ConfigError(
                "no DATABASE_URL and no embedded PostgreSQL (install billing-gateway[embedded])"
            ) from None

        pgdata = data_dir / "pg"
        pgdata.mkdir(parents=True, exist_ok=True)
        return pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]


def stop(server: Any) -> None:
    with contextlib.suppress(Exception):  # already stopped, or its folder gone
        server.cleanup()


def dsn(server: Any) -> str:
    return str(server.get_uri())
