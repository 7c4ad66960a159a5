"""README and docs/operations.md list every variable the code reads, every limit
with its default, and every port (issue acceptance 9)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from gateway.limits import Limits
from gateway.settings import LIMIT_VARIABLES, PROD_METRICS_PORT, TIMEOUT_VARIABLES, Timeouts

VARIABLE = re.compile(
    r'"((?:BILLING|OTEL)_[A-Z_]+|DATABASE_URL|REDIS_URL|PROMETHEUS_MULTIPROC_DIR)"'
)
DOCS = ("README.md", "docs/operations.md")


def variables_read(repo_root: Path) -> set[str]:
    found: set[str] = set()
    for path in (repo_root / "gateway").rglob("*.py"):
        found |= set(VARIABLE.findall(path.read_text()))
    return found


def row(text: str, variable: str) -> str:
    """The table rows that name this variable, joined."""
    return "\n".join(line for line in text.splitlines() if f"`{variable}`" in line)


@pytest.mark.parametrize("doc", DOCS)
def test_every_variable_is_documented(repo_root: Path, doc: str) -> None:
    text = (repo_root / doc).read_text()
    found = variables_read(repo_root)
    assert len(found) >= 30
    assert sorted(v for v in found if f"`{v}`" not in text) == []


@pytest.mark.parametrize("doc", DOCS)
def test_every_limit_and_timeout_is_documented_with_its_default(repo_root: Path, doc: str) -> None:
    text = (repo_root / doc).read_text()
    defaults = {LIMIT_VARIABLES[f.name]: getattr(Limits(), f.name) for f in fields(Limits)}
    defaults |= {TIMEOUT_VARIABLES[f.name]: getattr(Timeouts(), f.name) for f in fields(Timeouts)}
    for variable, default in defaults.items():
        value = f"{default:g}" if isinstance(default, float) else str(default)
        assert f"`{value}`" in row(text, variable), (doc, variable, value)


@pytest.mark.parametrize("doc", DOCS)
def test_every_port_is_documented(repo_root: Path, doc: str) -> None:
    text = (repo_root / doc).read_text()
    for port in ("8000", str(PROD_METRICS_PORT), "5432", "6379"):
        assert port in text, (doc, port)


def test_the_readme_links_to_the_operations_guide(repo_root: Path) -> None:
    assert "(docs/operations.md)" in (repo_root / "README.md").read_text()
