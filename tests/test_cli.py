"""The CLI: `token` and `schema`, every refusal one line on stderr with exit 2, help that
describes each command and its defaults, `--version`; and the 401's log line."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Gql

from auth.tokens import AuthSettings, TokenVerifier, mint
from gateway.cli import main, parser
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


# --- every error is one line on stderr and exit 2 ---------------------------------------

REFUSED = {
    "token --role customer --account a --ttl 0": "--ttl",
    "token --role customer --account a --ttl -60": "--ttl",
    "token --role customer --partner x": "--role customer needs at least one --account",
    "token --role customer": "--role customer needs at least one --account",
    "token --role admin --account x": "--account is for --role customer",
    "token --role partner --partner p --account x": "--account is for --role customer",
    "token --role admin --partner x": "--partner is for --role partner",
    "token --role admin --scope bogus:scope": "unknown scope bogus:scope",
    "token --role admin --scope invoices:read,usage:read": "unknown scope invoices:read,usage:read",
    "token --role emperor": "--role",
    "seed --accounts 0": "--accounts",
    "seed --accounts many": "--accounts",
    "seed --as-of 2026-02-30": "--as-of",
    "seed --as-of yesterday": "--as-of",
    "serve --port 70000": "--port",
    "serve --workers 0": "--workers",
    "worker --interval -1": "--interval",
    "launch": "invalid choice",
}


@pytest.mark.parametrize("command", list(REFUSED))
def test_a_refused_command_is_one_line_on_stderr_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(command.split())

    assert ended.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("billing-gateway")
    assert REFUSED[command] in err


def test_a_refused_command_prints_no_traceback_from_the_real_process() -> None:
    result = run("token", "--role", "admin", "--ttl", "0")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["serve", "worker", "migrate", "seed", "token", "schema"])
def test_every_command_describes_itself_and_its_defaults(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        parser().parse_args([command, "--help"])

    assert ended.value.code == 0
    text = capsys.readouterr().out
    summary = text.split("\n\n")[1]
    assert len(summary) > 20  # a sentence, not just the usage line
    for action in parser()._subparsers._group_actions[0].choices[command]._actions:  # type: ignore[union-attr]
        if action.default not in (None, False, [], "==SUPPRESS==") and action.option_strings:
            assert f"(default: {action.default})" in " ".join(text.split()), action.dest


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--version"])
    assert ended.value.code == 0
    assert capsys.readouterr().out.strip() == "billing-gateway 0.1.0"
