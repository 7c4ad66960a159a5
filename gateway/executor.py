"""Running a validated operation: graphql-core's executor over strawberry's schema
(strawberry's resolvers and field rules are part of that schema), without
strawberry's view or schema extensions — the gate has already parsed, limited,
validated and costed the document. A faster planned executor can replace this
one function."""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

import strawberry
from graphql import DocumentNode, ExecutionResult, execute
from strawberry.execution import optimized_is_awaitable


async def run(
    schema: strawberry.Schema,
    document: DocumentNode,
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    extensions: dict[str, Any] | None = None,
) -> ExecutionResult:
    result = execute(
        schema._schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        executor_class=schema.execution_context_class,
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        hide_suggestions=True,
        operation_extensions=extensions,
    )
    if isawaitable(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    return result
