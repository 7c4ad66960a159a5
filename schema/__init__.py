"""The composition root of the graph: one Query and one Mutation merged from the
domain modules. The schema carries no limits of its own: the gateway's gate
(gateway/gate.py) parses, limits, validates and costs every document before it is
executed. Building it checks the scope rule (schema/domains.py), so a schema that
breaks it never serves."""

from __future__ import annotations

from typing import Any, Final

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema import (
    accounts,
    catalog,
    domains,
    entitlement_mutations,
    nodes,
    subscription_mutations,
    usage_mutations,
    viewer,
)
from schema.scalars import SCALARS


def merge(name: str, description: str, parts: tuple[type, ...]) -> Any:
    """One root type made of the domain modules' pieces."""
    return strawberry.type(type(name, parts, {}), description=description)


Query = merge(
    "Query",
    "Reads. Every field needs a valid token; fields leading into a domain need its scope.",
    (viewer.Query, accounts.Query, nodes.Query, catalog.Query),
)

Mutation = merge(
    "Mutation",
    "Writes. Each declares its write scope; see docs/writes.md.",
    (subscription_mutations.Mutation, usage_mutations.Mutation, entitlement_mutations.Mutation),
)


class GatewaySchema(strawberry.Schema):
    def as_str(self) -> str:
        """The SDL, opening with the schema block: the billing type named Subscription
        would otherwise be taken for the subscription root by graphql-js and codegen."""
        printed = super().as_str()
        if printed.startswith("schema "):
            return printed
        roots = [("query", self._schema.query_type), ("mutation", self._schema.mutation_type)]
        lines = [f"  {op}: {root.name}" for op, root in roots if root is not None]
        return "schema {\n" + "\n".join(lines) + "\n}\n\n" + printed


def build(query: type = Query, mutation: type | None = Mutation) -> GatewaySchema:
    built = GatewaySchema(
        query=query,
        mutation=mutation,
        config=StrawberryConfig(disable_field_suggestions=True, scalar_map=SCALARS),
    )
    domains.check(built._schema)
    return built


schema: Final = build()
