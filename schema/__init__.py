"""The composition root of the graph: one Query and one Mutation merged from the
domain modules. The schema carries no limits of its own: the gateway's gate
(gateway/gate.py) parses, limits, validates and costs every document before
graphql-core executes it."""

from __future__ import annotations

from typing import Final

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema import accounts, catalog, nodes, viewer
from schema.scalars import SCALARS

Query = merge_types("Query", (viewer.Query, accounts.Query, nodes.Query, catalog.Query))


def build() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        config=StrawberryConfig(disable_field_suggestions=True, scalar_map=SCALARS),
    )


schema: Final = build()
