"""The packages import from this repository, and imports run one way."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGES = ("gateway", "schema", "resolvers", "loaders", "auth")
# Who may import whom (README.md, Architecture): app wiring → schema → resolvers → loaders; auth is
# used by schema and the app and imports none of them.
ALLOWED = {
    "gateway": {"gateway", "schema", "resolvers", "loaders", "auth"},
    "schema": {"schema", "resolvers", "loaders", "auth"},
    "resolvers": {"resolvers", "loaders"},
    "loaders": {"loaders"},
    "auth": {"auth"},
}


@pytest.mark.parametrize("name", PACKAGES)
def test_package_imports_from_this_repository(name: str, repo_root: Path) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == repo_root / name


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_imports_run_one_way(name: str, repo_root: Path) -> None:
    offenders = {
        f"{path.relative_to(repo_root)} imports {pkg}"
        for path in (repo_root / name).rglob("*.py")
        for pkg in _imported_packages(path) - ALLOWED[name]
    }
    assert offenders == set()
