"""Breaking changes between two SDLs, for CI (.ci/schema-compat, docs/schema-changes.md).

A change that can break a client of the old SDL fails the check — a removed field,
argument, type or enum value, a retyped field or argument, a new required argument —
unless what it removes or retypes was deprecated in the old SDL, or the change is
listed in schema/accepted-breaking-changes.txt (the way to accept an intended one).

    python -m schema.compat OLD.graphql [NEW.graphql]   # NEW: the committed SDL
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Final

from graphql import (
    BreakingChange,
    BreakingChangeType,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
)

HERE: Final = Path(__file__).parent
COMMITTED: Final = HERE / "schema.graphql"
ACCEPTED: Final = HERE / "accepted-breaking-changes.txt"
COORDINATE: Final = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")
# What a deprecation lets go: the field or value itself, or its type.
AFTER_DEPRECATION: Final = (
    BreakingChangeType.FIELD_REMOVED,
    BreakingChangeType.FIELD_CHANGED_KIND,
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM,
)


def breaking_changes(old_sdl: str, new_sdl: str) -> list[str]:
    """Descriptions of the changes from old to new that break old's clients."""
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    found = [c.description for c in find_breaking_changes(old, new) if not _deprecated(old, c)]
    if old.mutation_type is not None and new.mutation_type is None:
        found.append("The Mutation root was removed.")
    return found


def accepted(text: str) -> set[str]:
    """The accepted changes: one description per line; # starts a comment."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return {line for line in lines if line}


def unaccepted(old_sdl: str, new_sdl: str, accepted_text: str) -> list[str]:
    return [c for c in breaking_changes(old_sdl, new_sdl) if c not in accepted(accepted_text)]


def _deprecated(old: GraphQLSchema, change: BreakingChange) -> bool:
    """Whether the old SDL deprecated the field or enum value the change removes or retypes."""
    coordinate = COORDINATE.search(change.description)
    if change.type not in AFTER_DEPRECATION or coordinate is None:
        return False
    parent, name = old.get_type(coordinate.group(1)), coordinate.group(2)
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return _reason(parent.fields.get(name))
    return isinstance(parent, GraphQLEnumType) and _reason(parent.values.get(name))


def _reason(element: object) -> bool:
    return getattr(element, "deprecation_reason", None) is not None


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    new = Path(argv[1]) if len(argv) == 2 else COMMITTED
    problems = unaccepted(Path(argv[0]).read_text(), new.read_text(), ACCEPTED.read_text())
    for problem in problems:
        print(f"breaking: {problem}", file=sys.stderr)
    if problems:
        print(
            "Deprecate first (@deprecated(reason:)) and remove in a later change, or accept"
            f" the change by adding its line to {ACCEPTED.relative_to(HERE.parent)}.",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
