"""Running a validated operation — the gate has already parsed, limited, validated and
costed the document — by one of two executors:

- the planned executor (gateway/planned.py), which answers queries from cached plans;
- graphql-core's executor over strawberry's schema (strawberry's resolvers and field
  rules are part of that schema): the reference, and the fallback for what plans do
  not cover (mutations, introspection).

`BILLING_EXECUTOR` chooses: `planned` (default: the planned one, else the reference),
`reference` (graphql-core only), or `compare` (dev and tests: both, on contexts of their
own, and a difference in data or errors fails the request — the test suite runs so)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any, Final

import strawberry
from graphql import DocumentNode, ExecutionResult, execute
from graphql.utilities import get_operation_ast
from strawberry.execution import optimized_is_awaitable

from gateway import cost, metrics
from gateway.errors import format_error
from gateway.plan import NotPlanned
from gateway.planned import PlannedExecutor

MODES: Final = ("planned", "reference", "compare")
Twin = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass(frozen=True)
class Operation:
    query: str
    document: DocumentNode
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None
    scopes: frozenset[str]


@dataclass(frozen=True)
class Executed:
    result: ExecutionResult
    cost: int | None  # the actual cost when the planned executor counted it


class ExecutorDiffers(AssertionError):
    """compare mode: the two executors answered differently."""


class Executor:
    def __init__(self, schema: strawberry.Schema, mode: str = "planned") -> None:
        if mode not in MODES:
            raise ValueError(f"executor must be one of {', '.join(MODES)}, not {mode!r}")
        self.schema, self.mode = schema, mode
        self.planned = PlannedExecutor(schema)

    async def run(self, op: Operation, context: Any, twin: Twin) -> Executed:
        """`twin` opens another context of the same request (compare mode)."""
        if self.mode != "reference":
            try:
                answer = await self.planned.run(
                    op.query, op.document, op.operation_name, op.variables, context, op.scopes
                )
            except NotPlanned:
                pass
            else:
                result = ExecutionResult(answer.data, answer.errors or None)
                metrics.EXECUTIONS.labels(executor="planned").inc()
                if self.mode == "compare":
                    await self._compare(result, answer.cost, op, twin)
                return Executed(result, answer.cost)
        metrics.EXECUTIONS.labels(executor="reference").inc()
        result = await run(
            self.schema, op.document, context, op.variables, op.operation_name, op.extensions
        )
        return Executed(result, None)

    async def _compare(
        self, planned: ExecutionResult, spent: int, op: Operation, twin: Twin
    ) -> None:
        async with twin() as other:
            reference = await run(
                self.schema, op.document, other, op.variables, op.operation_name, op.extensions
            )
        if _shown(planned) != _shown(reference):
            raise ExecutorDiffers(
                f"planned {_shown(planned)} != reference {_shown(reference)} for {op.query}"
            )
        operation = get_operation_ast(op.document, op.operation_name)
        assert operation is not None
        walked = cost.actual(self.schema._schema, op.document, operation, reference.data)
        if spent != walked:
            raise ExecutorDiffers(f"planned cost {spent} != walked cost {walked} for {op.query}")


def _shown(result: ExecutionResult) -> tuple[Any, list[dict[str, Any]]]:
    errors = [format_error(e, "-")[0] for e in result.errors or ()]
    return result.data, sorted(errors, key=lambda e: (str(e.get("path")), e["message"]))


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
