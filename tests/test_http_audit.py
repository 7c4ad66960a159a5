"""GraphQL over HTTP conformance (issue acceptance 7): the npm `graphql-http`
package's serverAudits run against the real server, and every MUST and SHOULD
passes. The audit's own dependencies are pinned in tests/http_audit (package.json
and its lock) and installed with `npm ci` on first use."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import make_token
from servers import gateway

AUDIT = Path(__file__).parent / "http_audit"


def installed() -> bool:
    if (AUDIT / "node_modules" / "graphql-http").is_dir():
        return True
    npm = shutil.which("npm")
    if npm is None:
        return False
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=AUDIT,
        check=True,
        timeout=300,
    )
    return True


def test_graphql_over_http_audit_passes_every_must_and_should(
    database_url: str, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None or not installed():
        pytest.skip("node and npm are needed to run graphql-http's audit")
    env = {"DATABASE_URL": database_url, "BILLING_ENV": "dev"}
    with gateway(env, tmp_path / "gateway.log") as server:
        result = subprocess.run(
            [node, "audit.mjs", server.url + "/graphql"],
            cwd=AUDIT,
            env={"AUDIT_TOKEN": make_token("customer"), "PATH": _path()},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    audits = json.loads(result.stdout)

    required = [a for a in audits if a["name"].startswith(("MUST", "SHOULD"))]
    failed = [f"{a['id']} {a['name']}: {a['reason']}" for a in required if a["status"] != "ok"]
    assert len(required) >= 36
    assert failed == []
    optional = [
        f"{a['id']} {a['name']}" for a in audits if a not in required and a["status"] != "ok"
    ]
    assert optional == []  # the MAYs pass too


def _path() -> str:
    import os

    return os.environ["PATH"]
