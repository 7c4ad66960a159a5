"""Configuration, read from the environment only (README.md, Configuration)."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Final

from auth.tokens import AuthSettings
from gateway.clock import Clock, ShiftedClock, SystemClock, parse_instant

ENVIRONMENTS: Final = ("dev", "prod")
MIN_PROD_SECRET_BYTES: Final = 32
# Dev and tests only: a fixed secret so `token` and `serve` agree without set-up.
DEV_SECRET: Final = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 (public by design)


class ConfigError(Exception):
    """A setting is missing or unsafe; the message is shown to the operator as is."""


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
    max_body_bytes: int = 1_000_000
    # BILLING_NOW (dev only): billing time starts at this instant and runs on.
    pinned_now: datetime | None = None

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
    )
    _check_prod(settings)
    return replace(settings, cursor_secret=_cursor_secret(env.get("BILLING_CURSOR_SECRET"), secret))


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
