"""Configuration, read from the environment only (README.md, Configuration)."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Final

from auth.tokens import AuthSettings
from gateway.clock import Clock, ShiftedClock, SystemClock, parse_instant
from gateway.limits import Limits

ENVIRONMENTS: Final = ("dev", "prod")
MIN_PROD_SECRET_BYTES: Final = 32
PROD_METRICS_PORT: Final = 9100
# Each static limit and its variable (docs/operations.md lists them all).
LIMIT_VARIABLES: Final = {
    "max_depth": "BILLING_MAX_DEPTH",
    "max_aliases": "BILLING_MAX_ALIASES",
    "max_tokens": "BILLING_MAX_TOKENS",
    "max_fields": "BILLING_MAX_FIELDS",
    "max_query_chars": "BILLING_MAX_QUERY_CHARS",
    "max_body_bytes": "BILLING_MAX_BODY_BYTES",
    "max_auth_bytes": "BILLING_MAX_AUTH_BYTES",
    "max_errors": "BILLING_MAX_ERRORS",
    "max_cost": "BILLING_MAX_COST",
}
# Dev and tests only: a fixed secret so `token` and `serve` agree without set-up.
DEV_SECRET: Final = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 (public by design)


class ConfigError(Exception):
    """A setting is missing or unsafe; the message is shown to the operator as is."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds. Every wait of a request is bounded by one of these."""

    body: float = 5.0  # BILLING_BODY_TIMEOUT: the whole request body must arrive within it
    request: float = 10.0  # BILLING_REQUEST_TIMEOUT: past it a request answers TIMEOUT
    acquire: float = 2.0  # BILLING_DB_ACQUIRE_TIMEOUT: waiting for a pooled connection
    statement: float = 5.0  # BILLING_STATEMENT_TIMEOUT: PostgreSQL's statement_timeout
    ready: float = 2.0  # BILLING_READY_TIMEOUT: /readyz answers within it
    shutdown: float = 15.0  # BILLING_SHUTDOWN_TIMEOUT: draining in-flight requests
    start: float = 60.0  # BILLING_WORKER_START_TIMEOUT: a worker of `serve` must be ready


TIMEOUT_VARIABLES: Final = {
    "body": "BILLING_BODY_TIMEOUT",
    "request": "BILLING_REQUEST_TIMEOUT",
    "acquire": "BILLING_DB_ACQUIRE_TIMEOUT",
    "statement": "BILLING_STATEMENT_TIMEOUT",
    "ready": "BILLING_READY_TIMEOUT",
    "shutdown": "BILLING_SHUTDOWN_TIMEOUT",
    "start": "BILLING_WORKER_START_TIMEOUT",
}


CACHE_BACKENDS: Final = ("off", "memory", "redis")
CLOCK_TTL: Final = "BILLING_RESPONSE_CACHE_CLOCK_TTL"


@dataclass(frozen=True)
class ResponseCacheSettings:
    """The response cache of reads (gateway/response_cache.py)."""

    backend: str = "memory"  # BILLING_RESPONSE_CACHE: off, memory or redis
    entries: int = 10_000  # BILLING_RESPONSE_CACHE_SIZE: the memory backend's bound
    memory_bytes: int = 67_108_864  # BILLING_RESPONSE_CACHE_MEMORY_BYTES: and its bytes
    max_bytes: int = 262_144  # BILLING_RESPONSE_CACHE_MAX_BYTES: bigger bodies are not kept
    ttl: int = 300  # BILLING_RESPONSE_CACHE_TTL: seconds an entry lives in Redis
    clock_ttl: float = 0.0  # BILLING_RESPONSE_CACHE_CLOCK_TTL: 0 = never keep clock readers


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str | None
    redis_url: str | None
    data_dir: Path
    jwt_secret: str | None
    jwks_url: str | None
    jwt_issuer: str
    jwt_audience: str
    cursor_secret: bytes = b""
    limits: Limits = field(default_factory=Limits)
    timeouts: Timeouts = field(default_factory=Timeouts)
    pool_size: int = 10
    rate_capacity: int = 10_000
    rate_restore: float = 500.0
    cors_origins: tuple[str, ...] = ()
    metrics_port: int | None = None
    persisted_queries_dir: Path | None = None
    redis_prefix: str = "billing:"
    # BILLING_NOW (dev only): billing time starts at this instant and runs on.
    pinned_now: datetime | None = None
    # BILLING_EXECUTOR: planned (default), reference or compare (gateway/executor.py).
    executor: str = "planned"
    response_cache: ResponseCacheSettings = field(default_factory=ResponseCacheSettings)

    @property
    def dev(self) -> bool:
        return self.env == "dev"

    def clock(self) -> Clock:
        return SystemClock() if self.pinned_now is None else ShiftedClock(self.pinned_now)

    def auth(self) -> AuthSettings:
        return AuthSettings(
            secret=self.jwt_secret,
            jwks_url=self.jwks_url,
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
            strict_key_length=not self.dev,
        )


def load(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    mode = env.get("BILLING_ENV", "dev")
    if mode not in ENVIRONMENTS:
        raise ConfigError(f"BILLING_ENV must be one of {', '.join(ENVIRONMENTS)}, not {mode!r}")
    secret = env.get("BILLING_JWT_SECRET") or (DEV_SECRET if mode == "dev" else None)
    settings = Settings(
        env=mode,
        database_url=env.get("DATABASE_URL") or None,
        redis_url=env.get("REDIS_URL") or None,
        data_dir=Path(env.get("BILLING_DATA_DIR", ".data")),
        jwt_secret=secret,
        jwks_url=env.get("BILLING_JWT_JWKS_URL") or None,
        jwt_issuer=env.get("BILLING_JWT_ISSUER", "billing-gateway"),
        jwt_audience=env.get("BILLING_JWT_AUDIENCE", "billing-api"),
        pinned_now=_pinned_now(env.get("BILLING_NOW")),
        executor=_choice(env, "BILLING_EXECUTOR", "planned", ("planned", "reference", "compare")),
        limits=Limits(
            **{k: _int(env, v, getattr(Limits(), k)) for k, v in LIMIT_VARIABLES.items()}
        ),
        timeouts=Timeouts(
            **{k: _number(env, v, getattr(Timeouts(), k)) for k, v in TIMEOUT_VARIABLES.items()}
        ),
        pool_size=_int(env, "BILLING_DB_POOL_SIZE", 10),
        rate_capacity=_int(env, "BILLING_RATE_LIMIT_CAPACITY", 10_000),
        rate_restore=_number(env, "BILLING_RATE_LIMIT_RESTORE", 500.0),
        cors_origins=_origins(env.get("BILLING_CORS_ORIGINS")),
        metrics_port=_metrics_port(env.get("BILLING_METRICS_PORT"), mode),
        persisted_queries_dir=_folder(env.get("BILLING_PERSISTED_QUERIES_DIR")),
        redis_prefix=env.get("BILLING_REDIS_PREFIX", "billing:"),
        response_cache=_response_cache(env),
    )
    _check_prod(settings)
    return replace(settings, cursor_secret=_cursor_secret(env.get("BILLING_CURSOR_SECRET"), secret))


def _number(env: dict[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = _number(env, name, default)
    if value != int(value):
        raise ConfigError(f"{name} must be a whole number")
    return int(value)


def _response_cache(env: dict[str, str]) -> ResponseCacheSettings:
    """Memory by default, Redis when REDIS_URL is set (replicas share entries)."""
    default = "redis" if env.get("REDIS_URL") else "memory"
    backend = _choice(env, "BILLING_RESPONSE_CACHE", default, CACHE_BACKENDS)
    if backend == "redis" and not env.get("REDIS_URL"):
        raise ConfigError("BILLING_RESPONSE_CACHE=redis needs REDIS_URL")
    base = ResponseCacheSettings()
    return ResponseCacheSettings(
        backend=backend,
        entries=_int(env, "BILLING_RESPONSE_CACHE_SIZE", base.entries),
        memory_bytes=_int(env, "BILLING_RESPONSE_CACHE_MEMORY_BYTES", base.memory_bytes),
        max_bytes=_int(env, "BILLING_RESPONSE_CACHE_MAX_BYTES", base.max_bytes),
        ttl=_int(env, "BILLING_RESPONSE_CACHE_TTL", base.ttl),
        clock_ttl=_clock_ttl(env.get(CLOCK_TTL)),
    )


def _clock_ttl(text: str | None) -> float:
    """Seconds; 0 (the default) is allowed here: it means "do not keep them"."""
    try:
        value = float(text or 0)
    except ValueError:
        raise ConfigError(f"{CLOCK_TTL} must be a number, not {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{CLOCK_TTL} must be 0 or a positive number of seconds")
    return value


def _metrics_port(text: str | None, mode: str) -> int | None:
    """Prod never serves metrics on the API port: its own port, 9100 unless set."""
    if text:
        return _int({"BILLING_METRICS_PORT": text}, "BILLING_METRICS_PORT", 0)
    return None if mode == "dev" else PROD_METRICS_PORT


def _origins(text: str | None) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in (text or "").split(",") if origin.strip())


def _folder(text: str | None) -> Path | None:
    if not text:
        return None
    path = Path(text)
    if not path.is_dir():
        raise ConfigError(f"BILLING_PERSISTED_QUERIES_DIR: {text} is not a folder")
    return path


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _pinned_now(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise ConfigError(f"BILLING_NOW: {exc}") from None


def _cursor_secret(explicit: str | None, jwt_secret: str | None) -> bytes:
    """Cursors and quotes are signed with this; replicas must share it, so it comes
    from configuration (or the shared JWT secret), random only as a last resort."""
    base = explicit or jwt_secret
    if base is None:
        return secrets.token_bytes(32)
    return hashlib.sha256(b"billing-gateway:cursor:" + base.encode()).digest()


def _check_prod(settings: Settings) -> None:
    if settings.dev:
        return
    if settings.pinned_now is not None:
        raise ConfigError(
            "BILLING_NOW pins billing time for demos and tests; prod runs on real time"
        )
    if settings.jwt_secret is None and settings.jwks_url is None:
        raise ConfigError("BILLING_ENV=prod needs BILLING_JWT_SECRET or BILLING_JWT_JWKS_URL")
    secret = settings.jwt_secret
    if secret is not None and len(secret.encode()) < MIN_PROD_SECRET_BYTES:
        raise ConfigError(
            f"BILLING_JWT_SECRET must be at least {MIN_PROD_SECRET_BYTES} bytes in prod"
        )
    if secret == DEV_SECRET:
        raise ConfigError("BILLING_JWT_SECRET is the public dev secret; set a real one in prod")
