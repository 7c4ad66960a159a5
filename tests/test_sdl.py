"""The committed SDL (schema/schema.graphql) is the schema the code builds."""

from __future__ import annotations

from pathlib import Path

from schema import schema


def test_committed_sdl_matches_the_code(repo_root: Path) -> None:
    committed = (repo_root / "schema" / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", (
        "schema changed: run `.ci/dev billing-gateway schema > schema/schema.graphql` "
        "and review the diff for breaking changes"
    )
