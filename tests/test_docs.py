"""The repository documents its own API (docs/): the guide's pages exist, every relative
link of README.md and docs/ resolves inside the repository, nothing points outside it,
the table of guarded fields is the schema's, and every GraphQL example is valid."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import parse, validate

from resolvers.nodes import PREFIXES
from schema import schema
from schema.domains import guarded_table

PAGES = (
    "README", "authentication", "scopes", "ids", "pagination", "money", "billing", "errors",
    "limits", "codegen", "partner-quickstart", "schema-changes",
)  # fmt: skip
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
GRAPHQL_BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
TABLE = re.compile(r"<!-- guarded-fields:begin -->\n(.*?)<!-- guarded-fields:end -->", re.S)


def documents(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def test_the_guide_has_its_pages(repo_root: Path) -> None:
    assert {p.stem for p in (repo_root / "docs").glob("*.md")} >= set(PAGES)


def test_every_relative_link_resolves_inside_the_repository(repo_root: Path) -> None:
    broken = []
    for doc in documents(repo_root):
        for target in LINK.findall(doc.read_text()):
            if target.startswith(("http://", "https://", "mailto:", "#")):
                continue
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.exists() or not path.is_relative_to(repo_root):
                broken.append(f"{doc.relative_to(repo_root)}: {target}")
    assert broken == []


def test_the_readme_links_only_inside_the_repository(repo_root: Path) -> None:
    links = LINK.findall((repo_root / "README.md").read_text())
    assert "docs/README.md" in links
    assert [t for t in links if "://" in t or t.startswith("..")] == []


def test_nothing_in_the_repository_points_outside_it(repo_root: Path) -> None:
    # the team's shared notes live beside the repository, not in a clone of it
    outside = "|".join(
        ["\\.\\./" + "shared", "DOMAIN" + "\\.md", "CONTRACT" + "\\.md", "PITFALLS" + "\\.md"]
    )
    git = shutil.which("git")
    assert git is not None
    found = subprocess.run(
        [git, "grep", "-n", "-E", outside, "--", "."],
        cwd=repo_root, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    assert found == ""


def test_the_table_of_guarded_fields_is_the_schemas(repo_root: Path) -> None:
    doc = (repo_root / "docs" / "scopes.md").read_text()
    match = TABLE.search(doc)
    assert match is not None
    expected = guarded_table(schema._schema, PREFIXES)
    assert match.group(1) == expected, f"replace the table in docs/scopes.md with:\n{expected}"


@pytest.mark.parametrize("page", ["README.md", *(f"docs/{p}.md" for p in PAGES)])
def test_every_graphql_example_is_valid_against_the_schema(repo_root: Path, page: str) -> None:
    for block in GRAPHQL_BLOCK.findall((repo_root / page).read_text()):
        assert validate(schema._schema, parse(block)) == [], block
