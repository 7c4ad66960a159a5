"""The composition root of the graph: one Query and one Mutation merged from the
domain modules, with the server's limits configured deliberately (PITFALLS.md)."""

from __future__ import annotations

from typing import Final

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema import (
    accounts,
    catalog,
    entitlement_mutations,
    nodes,
    subscription_mutations,
    usage_mutations,
    viewer,
)
from schema.limits import IntrospectionByContext
from schema.scalars import SCALARS

MAX_DEPTH: Final = 12
MAX_ALIASES: Final = 30
MAX_TOKENS: Final = 5_000
CACHE_SIZE: Final = 512

Query = merge_types("Query", (viewer.Query, accounts.Query, nodes.Query, catalog.Query))
Mutation = merge_types(
    "Mutation",
    (subscription_mutations.Mutation, usage_mutations.Mutation, entitlement_mutations.Mutation),
)


def build() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(disable_field_suggestions=True, scalar_map=SCALARS),
        extensions=[
            IntrospectionByContext,
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
        ],
    )


schema: Final = build()
