"""A missing read scope nulls exactly the fields it guards (docs/scopes.md): for any set
of read scopes a token lacks, one query over every field of the read graph answers as
it does for a token with every scope, with exactly the fields those scopes guard
nulled, each with one FORBIDDEN at its path; no parent is ever nulled by it."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from conftest import Gql, make_token
from graph_walk import EVERYTHING, expected_for, fields_reachable, fields_selected
from hypothesis import given, settings
from hypothesis import strategies as st

from auth.scopes import ALL_SCOPES
from schema import schema
from schema.domains import TYPES, entry_rule
from schema.permissions import rule_of

READ = sorted(s for s in ALL_SCOPES if s.endswith(":read"))
WRITE = sorted(ALL_SCOPES - set(READ))

# An account with a partner, add-ons, invoices of its subscription with lines, usage;
# its newest ACTIVE subscription and a base plan it could change to.
WORLD = """
SELECT a.id AS account, a.partner_id AS partner, s.id AS sub, i.id AS item,
       inv.id AS invoice, l.id AS line,
       (SELECT t.id FROM plans t JOIN plans p ON p.id = s.plan_id
         WHERE t.kind = 'BASE' AND t.active AND t.id <> p.id
           AND t.currency = p.currency AND t.interval = p.interval ORDER BY t.id LIMIT 1) AS target,
       (SELECT min(id) FROM plans) AS plan, (SELECT min(id) FROM meters) AS meter,
       (SELECT min(id) FROM features) AS feature
  FROM accounts a
  JOIN subscriptions s ON s.account_id = a.id AND s.status = 'ACTIVE'
  JOIN subscription_items i ON i.subscription_id = s.id
  JOIN invoices inv ON inv.subscription_id = s.id
  JOIN invoice_lines l ON l.invoice_id = inv.id
 WHERE a.partner_id IS NOT NULL
   AND EXISTS (SELECT 1 FROM usage_hourly h WHERE h.account_id = a.id)
 ORDER BY a.created_at, s.created_at DESC, inv.created_at DESC, l.position
 LIMIT 1"""


@pytest.fixture(scope="module")
async def world(seeded_pool: asyncpg.Pool) -> dict[str, Any]:
    row = await seeded_pool.fetchrow(WORLD)
    assert row is not None
    ids = [row[k] for k in ("account", "partner", "plan", "sub", "item", "invoice", "line")]
    return {**dict(row), "ids": [*ids, row["meter"], row["feature"]]}


def token(world: dict[str, Any], scopes: set[str]) -> str:
    return make_token("partner", partner=world["partner"], scopes=sorted(scopes))


@pytest.fixture(scope="module")
async def full(gql: Gql, world: dict[str, Any]) -> dict[str, Any]:
    """The answer to a token with every scope: complete, without errors."""
    body = (await gql(EVERYTHING, token(world, set(ALL_SCOPES)), world)).json()
    assert "errors" not in body, body["errors"]
    return dict(body["data"])


def test_the_query_selects_every_field_of_the_read_graph() -> None:
    missing = fields_reachable(schema._schema) - fields_selected(schema._schema, EVERYTHING)
    assert missing == set()


def test_the_full_answer_reaches_every_guarded_field(full: dict[str, Any]) -> None:
    # Lacking some one read scope nulls each guarded field (and a node of each guarded
    # type) somewhere in the full answer: the property below is vacuous for none of them.
    nulled = {
        what
        for scope in READ
        for what in expected_for(schema._schema, EVERYTHING, full, {scope})[1].values()
    }
    guarded = {
        name
        for name in fields_reachable(schema._schema)
        if (rule := _rule(name)) is not None and rule.scope is not None
    }
    guarded_types = {f"node:{t}" for t in TYPES if entry_rule(t).scope and _is_node(t)}
    assert guarded | guarded_types <= nulled


async def assert_lacking(
    gql: Gql, world: dict[str, Any], full: dict[str, Any], lacks: set[str], extra: set[str]
) -> None:
    held = (set(READ) - lacks) | extra
    body = (await gql(EVERYTHING, token(world, held), world)).json()

    data, nulled = expected_for(schema._schema, EVERYTHING, full, lacks)
    data["viewer"] = {**data["viewer"], "scopes": sorted(held)}  # the token's own, by design
    assert body["data"] == data
    errors = body.get("errors", [])
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"] * len(errors)
    assert sorted(tuple(e["path"]) for e in errors) == sorted(nulled)


@pytest.mark.parametrize("scope", READ)
async def test_lacking_one_read_scope_nulls_exactly_what_it_guards(
    gql: Gql, world: dict[str, Any], full: dict[str, Any], scope: str
) -> None:
    await assert_lacking(gql, world, full, {scope}, set(WRITE))


@settings(max_examples=20, deadline=None)
@given(lacks=st.sets(st.sampled_from(READ)), writes=st.sets(st.sampled_from(WRITE)))
async def test_any_missing_read_scopes_null_exactly_what_they_guard(
    gql: Gql, world: dict[str, Any], full: dict[str, Any], lacks: set[str], writes: set[str]
) -> None:
    await assert_lacking(gql, world, full, lacks, writes)


def _rule(coordinate: str) -> Any:
    type_name, field_name = coordinate.split(".")
    field = schema._schema.get_type(type_name).fields[field_name]  # type: ignore[union-attr]
    return rule_of(field.extensions["strawberry-definition"].extensions)


def _is_node(type_name: str) -> bool:
    node = schema._schema.get_type("Node")
    return any(t.name == type_name for t in schema._schema.get_possible_types(node))  # type: ignore[arg-type]
