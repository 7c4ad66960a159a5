"""The committed SDL (schema/schema.graphql) is the schema the code builds; it opens with
its schema block, documents every type, field, argument and enum value, names the
specifications of its scalars, and CI refuses breaking changes to it
(schema/compat.py, .ci/schema-compat)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
    specified_scalar_types,
)

from schema import compat, schema


def test_committed_sdl_matches_the_code(repo_root: Path) -> None:
    committed = (repo_root / "schema" / "schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", (
        "schema changed: run `.ci/dev billing-gateway schema > schema/schema.graphql` "
        "and review the diff for breaking changes"
    )


def test_the_sdl_opens_with_its_schema_block() -> None:
    # the billing type named Subscription must not be taken for the subscription root
    roots = ["  query: Query"]
    if schema._schema.mutation_type is not None:
        roots.append("  mutation: Mutation")
    assert schema.as_str().startswith("schema {\n" + "\n".join(roots) + "\n}\n\n")
    read_back = build_schema(schema.as_str())
    assert read_back.subscription_type is None
    assert read_back.get_type("Subscription") is not None


def test_custom_scalars_name_their_specification() -> None:
    sdl = schema.as_str()
    assert 'scalar DateTime @specifiedBy(url: "https://datatracker.ietf.org/doc/html/rfc3339' in sdl
    assert 'scalar Decimal @specifiedBy(url: "' in sdl


def undocumented(built: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field and enum value without a description."""
    missing = []
    for name, graphql_type in built.type_map.items():
        if name.startswith("__") or name in specified_scalar_types:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in graphql_type.fields.items():
                missing += [f"{name}.{field_name}"] * (not field.description)
                missing += [
                    f"{name}.{field_name}({a})"
                    for a, arg in field.args.items()
                    if not arg.description
                ]
        if isinstance(graphql_type, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, v in graphql_type.fields.items() if not v.description]
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [
                f"{name}.{v}" for v, value in graphql_type.values.items() if not value.description
            ]
    return sorted(missing)


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    assert undocumented(schema._schema) == []


def test_the_description_walk_finds_what_is_missing() -> None:
    bare = build_schema(
        '"Q" type Query { "f" f(a: Int): E  g: Int }  enum E { "x" X Y }  input I { i: Int }'
        ' "Ok" scalar S  type T { "t" t: S } "I2" input J { "j" j: I }'
    )
    assert undocumented(bare) == ["E", "E.Y", "I", "I.i", "Query.f(a)", "Query.g", "T"]
    assert isinstance(bare.get_type("S"), GraphQLScalarType)


# --- the breaking-change check ---------------------------------------------------------

OLD = """
type Query {
  kept: Int
  gone: String
  retyped: Int!
  soonGone: String @deprecated(reason: "use kept")
  soonRetyped: Int! @deprecated(reason: "use kept")
  plain(a: Int): Int
  status: Status
}
enum Status { ON OFF LEGACY @deprecated(reason: "unused") }
"""
NEW = """
type Query {
  kept: Int
  retyped: Int
  soonRetyped: String
  plain(a: Int, b: Int!, c: Int): Int
  status: Status
  added: Int
}
enum Status { ON }
"""


def test_removed_or_retyped_fields_break_unless_deprecated_first() -> None:
    assert sorted(compat.breaking_changes(OLD, NEW)) == sorted([
        "Field Query.gone was removed.",
        "Field Query.retyped changed type from Int! to Int.",
        "A required argument Query.plain(b:) was added.",
        "Enum value Status.OFF was removed.",
    ])  # fmt: skip


def test_an_accepted_change_passes_and_the_rest_still_fail() -> None:
    accepted = "# made on purpose\nField Query.gone was removed.  # nobody read it\n"
    assert compat.unaccepted(OLD, NEW, accepted) == [
        c for c in compat.breaking_changes(OLD, NEW) if c != "Field Query.gone was removed."
    ]


def test_the_check_exits_non_zero_and_says_how_to_accept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.graphql", tmp_path / "new.graphql"
    old.write_text(OLD)
    new.write_text(NEW)

    assert compat.main([str(old), str(new)]) == 1
    err = capsys.readouterr().err
    assert "breaking: Field Query.gone was removed." in err
    assert "accepted-breaking-changes.txt" in err
    assert compat.main([str(old), str(old)]) == 0


def test_ci_runs_the_check(repo_root: Path) -> None:
    assert ".ci/schema-compat" in (repo_root / ".ci" / "run").read_text()
