"""The `billing-gateway` command: serve, worker, migrate, seed, token, schema.

Nothing here imports prometheus_client at module level: `serve` must point
PROMETHEUS_MULTIPROC_DIR at its metrics folder before the first import, so that
every process of the server (workers and the engine thread's) writes there."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import asyncpg

from auth.scopes import ALL_SCOPES
from gateway import embedded, logs, migrate
from gateway.clock import Clock
from gateway.settings import ConfigError, Settings, load

T = TypeVar("T")
UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class CliError(Exception):
    """Ends the command with its message on one line and exit status 2."""


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    logs.setup()
    try:
        args.run(args, load())
    except (CliError, ConfigError, migrate.MigrationError) as exc:
        print(f"billing-gateway: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr and exit 2, like every other."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    about = "The billing gateway: serve it, run its engine, prepare its database, mint tokens."
    p = Parser(prog="billing-gateway", description=about, formatter_class=Help)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(required=True, metavar="COMMAND", parser_class=Parser)
    _serve_parser(sub)
    _worker_parser(sub)
    command(sub, "migrate", cmd_migrate, "apply pending migrations to DATABASE_URL (idempotent)")
    _seed_parser(sub)
    _token_parser(sub)
    command(sub, "schema", cmd_schema, "print the SDL of the whole schema")
    return p


class Help(argparse.RawDescriptionHelpFormatter):
    """Each option's default beside it (when it has one); descriptions as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or action.required:
            return text
        return f"{text} (default: {action.default})"


def command(sub: Any, name: str, run: Callable[..., None], summary: str, details: str = "") -> Any:
    description = f"{summary[0].upper()}{summary[1:]}.{details}"
    c = sub.add_parser(name, help=summary, description=description, formatter_class=Help)
    c.set_defaults(run=run)
    return c


def _serve_parser(sub: Any) -> None:
    s = command(sub, "serve", cmd_serve, "run the gateway",
                "\nWithout DATABASE_URL: an embedded PostgreSQL in BILLING_DATA_DIR, migrated,"
                " demo data seeded once, the billing engine in-process.")  # fmt: skip
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--port", type=_port, default=8000, help="port to listen on (1-65535)")
    s.add_argument("--workers", type=_positive, default=1, help="worker processes")
    s.add_argument(
        "--worker",
        action="store_true",
        help="also run the billing engine in this process (always on with the embedded database)",
    )


def _worker_parser(sub: Any) -> None:
    w = command(sub, "worker", cmd_worker, "run the billing engine against DATABASE_URL",
                "\nPeriod boundaries, trial ends, scheduled cancels and grant expiries, each"
                " exactly once however many workers run.")  # fmt: skip
    w.add_argument("--once", action="store_true", help="catch up to now, then exit 0")
    w.add_argument(
        # The default is resolved when the worker runs: importing the engine here would
        # import prometheus_client before `serve` set its metrics folder.
        "--interval",
        type=_positive_seconds,
        default=None,
        help="seconds between runs (30)",
    )


def _seed_parser(sub: Any) -> None:
    d = command(sub, "seed", cmd_seed, "load deterministic demo data into an empty database",
                "\nSame flags, same data.")  # fmt: skip
    d.add_argument("--accounts", type=_positive, default=50, help="how many accounts (at least 1)")
    d.add_argument("--seed", type=int, default=1, help="the random seed")
    d.add_argument(
        "--as-of",
        type=_utc_date,
        default=None,
        help="day the data ends (YYYY-MM-DD; default: today)",
    )


def _token_parser(sub: Any) -> None:
    t = command(sub, "token", cmd_token, "mint an HS256 token from BILLING_JWT_SECRET",
                "\nPrints the JWT alone on stdout. A customer names its accounts, a partner"
                " its partner id, an admin neither.")  # fmt: skip
    t.add_argument("--role", choices=("customer", "partner", "admin"), required=True, help="role")
    t.add_argument(
        "--account", action="append", default=[], help="a customer's account (repeatable)"
    )
    t.add_argument("--partner", help="a partner's id")
    t.add_argument("--scope", default=" ".join(sorted(ALL_SCOPES)), help="space-separated scopes")
    t.add_argument("--ttl", type=_positive, default=3600, help="seconds until it expires")


def _version() -> str:
    try:
        return metadata.version("billing-gateway")
    except metadata.PackageNotFoundError:
        return "unknown"


def _positive(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def _port(text: str) -> int:
    value = _int(text)
    if not 1 <= value <= 65_535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _utc_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    # SIGTERM before uvicorn takes over (migrating, seeding) still runs the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    metrics_dir = _metrics_folder()
    server, dsn = _database(settings)
    try:
        os.environ["DATABASE_URL"] = dsn  # workers load their settings from the environment
        clock = settings.clock()
        _run(migrate.migrate(dsn), dsn)
        if server is not None:
            _run(_seed_if_empty(dsn, clock), dsn)
        _announce(args, settings, dsn)
        _serve_with_engine(args, settings, dsn, run_engine=server is not None or args.worker)
    finally:
        if server is not None:
            embedded.stop(server)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_folder() -> str | None:
    """Samples of every worker go to one folder (made here unless the operator set one)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        for stale in os.scandir(folder):
            if stale.name.endswith(".db"):
                os.unlink(stale.path)
        return None
    folder = tempfile.mkdtemp(prefix="billing-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


def _serve_with_engine(
    args: argparse.Namespace, settings: Settings, dsn: str, *, run_engine: bool
) -> None:
    from gateway.worker import EngineThread

    engine = EngineThread(dsn, settings.clock()) if run_engine else None
    if engine is not None:
        engine.start()
    try:
        if settings.metrics_port is not None:
            _metrics_server(args.host, settings.metrics_port)
        _serve(args, settings)
    finally:
        if engine is not None:
            engine.stop()


def _metrics_server(host: str, port: int) -> None:
    from prometheus_client import start_http_server

    from gateway import metrics

    start_http_server(port, addr=host, registry=metrics.registry())
    logging.getLogger("billing.metrics").info("metrics on http://%s:%d/metrics", host, port)


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    """One worker: plain uvicorn. Several: our supervisor (gateway/supervisor.py), which
    hands each connection to the least busy worker, where uvicorn's workers would leave
    the kernel to wake whichever one it likes."""
    import uvicorn

    options: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "log_config": logs.config(),
        "access_log": False,  # the gate logs one line per GraphQL request
        "timeout_graceful_shutdown": int(settings.timeouts.shutdown),
    }
    if args.workers == 1:
        uvicorn.run("gateway.asgi:app", host=args.host, port=args.port, **options)
        return
    from gateway import supervisor

    timeouts = settings.timeouts
    status = supervisor.serve(
        args.host, args.port, args.workers, options, timeouts.shutdown, timeouts.start
    )
    if status:
        raise SystemExit(status)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    from gateway.worker import DEFAULT_INTERVAL, work

    server, dsn = _database(settings)
    if server is not None:
        _run(migrate.migrate(dsn), dsn)
    else:
        _run(_require_migrated(dsn), dsn)
    interval = args.interval or DEFAULT_INTERVAL
    done = _run(work(dsn, settings.clock(), once=args.once, interval=interval), dsn)
    if args.once:
        summary = ", ".join(f"{kind} {n}" for kind, n in sorted(done.items()))
        print(f"caught up: {summary or 'nothing was due'}")


async def _require_migrated(dsn: str) -> None:
    pending = await migrate.pending(dsn)
    if pending:
        raise CliError(f"migrations pending ({', '.join(pending)}); run `billing-gateway migrate`")


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    _server, dsn = _database(settings)
    applied = _run(migrate.migrate(dsn), dsn)
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


def cmd_seed(args: argparse.Namespace, settings: Settings) -> None:
    from gateway.seed import is_empty, seed

    _server, dsn = _database(settings)
    _run(migrate.migrate(dsn), dsn)

    async def go() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            if not await is_empty(conn):
                raise CliError("the database already has accounts; seed only fills an empty one")
            as_of = args.as_of or settings.clock().now()
            summary = await seed(conn, accounts=args.accounts, seed=args.seed, as_of=as_of)
            return ", ".join(f"{k} {v}" for k, v in summary.counts.items())
        finally:
            await conn.close()

    print(f"seeded: {_run(go(), dsn)}")


def cmd_token(args: argparse.Namespace, settings: Settings) -> None:
    from auth.tokens import mint

    if settings.jwt_secret is None:
        raise CliError("BILLING_JWT_SECRET is not set")
    scopes = args.scope.split()
    _check_reach(args.role, args.account, args.partner)
    unknown = sorted(set(scopes) - ALL_SCOPES)
    if unknown:
        raise CliError(f"unknown scope {', '.join(unknown)}; known: {' '.join(sorted(ALL_SCOPES))}")
    try:
        token = mint(
            settings.jwt_secret,
            role=args.role,
            accounts=args.account,
            partner=args.partner,
            scopes=scopes,
            ttl_seconds=args.ttl,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(token)


def _check_reach(role: str, accounts: list[str], partner: str | None) -> None:
    """Each role names its reach with its own claim, and only that one."""
    if role == "customer" and not accounts:
        raise CliError("--role customer needs at least one --account ID")
    if role == "partner" and not partner:
        raise CliError("--role partner needs --partner ID")
    if role != "customer" and accounts:
        raise CliError(f"--account is for --role customer, not {role}")
    if role != "partner" and partner:
        raise CliError(f"--partner is for --role partner, not {role}")


def cmd_schema(args: argparse.Namespace, settings: Settings) -> None:
    from schema import schema

    print(schema.as_str())


def _database(settings: Settings) -> tuple[Any, str]:
    """The configured server, or the embedded one (started here) when none is."""
    if settings.database_url:
        return None, settings.database_url
    if not settings.dev:
        raise ConfigError(
            "BILLING_ENV=prod needs DATABASE_URL (the embedded PostgreSQL is for dev only)"
        )
    server = embedded.start(settings.data_dir)
    return server, embedded.dsn(server)


def _run(coro: Awaitable[T], dsn: str) -> T:
    async def wrapped() -> T:
        return await coro

    try:
        return asyncio.run(wrapped())
    except UNREACHABLE as exc:
        raise CliError(f"cannot reach the database at {_where(dsn)}: {_reason(exc)}") from None


def _where(dsn: str) -> str:
    parts = urlsplit(dsn)
    return f"{parts.hostname or 'local socket'}:{parts.port or 5432}{parts.path}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


async def _seed_if_empty(dsn: str, clock: Clock) -> None:
    from gateway.seed import is_empty, seed

    conn = await asyncpg.connect(dsn)
    try:
        if await is_empty(conn):
            summary = await seed(conn, as_of=clock.now())
            print(f"seeded demo data: {len(summary.account_ids)} accounts", flush=True)
    finally:
        await conn.close()


def _announce(args: argparse.Namespace, settings: Settings, dsn: str) -> None:
    from auth.tokens import mint
    from gateway.graphiql import DEMO_ACCOUNT

    async def demo_account() -> str | None:
        conn = await asyncpg.connect(dsn)
        try:
            value = await conn.fetchval(DEMO_ACCOUNT)
            return None if value is None else str(value)
        finally:
            await conn.close()

    account = _run(demo_account(), dsn)
    url = f"http://{args.host}:{args.port}/graphql"
    print(f"GraphiQL: {url}" if settings.dev else f"GraphQL endpoint: {url}", flush=True)
    if account and settings.jwt_secret and settings.dev:
        token = mint(settings.jwt_secret, role="customer", accounts=[account], ttl_seconds=86_400)
        print(f"demo token (customer of {account}, 24 h):\n{token}", flush=True)
