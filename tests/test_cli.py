"""The CLI's `token` and `schema` commands, and the 401's log line."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Gql

from auth.tokens import AuthSettings, TokenVerifier, mint
from gateway.settings import DEV_SECRET

CLI = str(Path(sys.executable).parent / "billing-gateway")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, check=False)


def test_token_prints_only_a_jwt_with_the_asked_claims() -> None:
    result = run("token", "--role", "customer", "--account", "acct_a", "--account", "acct_b",
                 "--scope", "invoices:read usage:read", "--ttl", "120")  # fmt: skip

    assert result.returncode == 0
    assert result.stdout.count("\n") == 1
    principal = TokenVerifier(AuthSettings(secret=DEV_SECRET, jwks_url=None)).verify(
        result.stdout.strip()
    )
    assert principal.accounts == ("acct_a", "acct_b")
    assert principal.scopes == frozenset({"invoices:read", "usage:read"})
    assert 100 <= (principal.expires_at - datetime.now(UTC)).total_seconds() <= 121


def test_partner_token_needs_a_partner() -> None:
    result = run("token", "--role", "partner")
    assert result.returncode == 2
    assert result.stderr.strip() == "billing-gateway: --role partner needs --partner ID"


def test_schema_prints_the_committed_sdl(repo_root: Path) -> None:
    result = run("schema")
    assert result.returncode == 0
    assert result.stdout == (repo_root / "schema" / "schema.graphql").read_text()


async def test_a_refused_token_is_logged_with_its_reason_and_the_client_is_not_told(
    gql: Gql, caplog: pytest.LogCaptureFixture
) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    expired = mint(DEV_SECRET, role="admin", ttl_seconds=60, now=an_hour_ago)
    with caplog.at_level(logging.INFO, logger="billing.request"):
        response = await gql("{ viewer { role } }", expired)

    assert response.status_code == 401
    assert "expired" not in response.text.lower()
    request_id = response.headers["x-request-id"]
    assert any(request_id in r.message and "expired" in r.message.lower() for r in caplog.records)
