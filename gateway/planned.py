"""The planned path end to end: an operation of a parsed, validated document in, the
result's data and errors out — or `NotPlanned`, and strawberry's executor answers.

Plans are cached per (query text, operation name, scope set, and the values of the
variables that @skip/@include read); a plan holds no request data, so one serves every
request that shares its key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Final

from graphql import DocumentNode, FragmentDefinitionNode, GraphQLError, OperationDefinitionNode
from graphql.execution.values import VariableValues, get_variable_values
from graphql.utilities import get_operation_ast

from gateway.execute import Execution
from gateway.plan import NotPlanned, Plan, Planner

PLAN_CACHE_SIZE: Final = 512


@dataclass(frozen=True)
class Answer:
    data: dict[str, Any] | None
    errors: list[GraphQLError]
    cost: int  # the actual cost, counted while the response was built


class PlannedExecutor:
    def __init__(self, strawberry_schema: Any, cache_size: int = PLAN_CACHE_SIZE) -> None:
        self.strawberry_schema = strawberry_schema
        self.schema = strawberry_schema._schema
        self._plans: OrderedDict[Hashable, Plan | NotPlanned] = OrderedDict()
        self._size = cache_size

    async def run(
        self,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        scopes: frozenset[str],
    ) -> Answer:
        """Raises NotPlanned when strawberry's executor must answer instead."""
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            raise NotPlanned("no such operation")
        definitions = operation.variable_definitions or ()
        coerced = get_variable_values(self.schema, definitions, variables or {})
        if isinstance(coerced, list):
            raise NotPlanned("variables do not coerce")
        plan = self._plan(query, document, operation, coerced, scopes)
        execution = Execution(self.schema, self.strawberry_schema, coerced, context)
        data = await execution.run(plan)
        return Answer(data, execution.errors, execution.cost if data is not None else 0)

    def _plan(
        self,
        query: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        scopes: frozenset[str],
    ) -> Plan:
        key = (
            query,
            operation.name.value if operation.name else None,
            scopes,
            _conditions(query, variables),
        )
        plan = self._plans.get(key)
        if plan is None:
            plan = self._compile(document, operation, variables, scopes)
            self._plans[key] = plan
            if len(self._plans) > self._size:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        if isinstance(plan, NotPlanned):
            raise plan
        return plan

    def _compile(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        scopes: frozenset[str],
    ) -> Plan | NotPlanned:
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        try:
            return Planner(self.schema, fragments, variables, scopes).plan(operation)
        except NotPlanned as refusal:
            return refusal


def _conditions(query: str, variables: VariableValues) -> Hashable:
    """The variable values a plan depends on: all of them when @skip/@include appear."""
    if "@skip" not in query and "@include" not in query:
        return None
    return tuple(sorted((k, repr(v)) for k, v in variables.coerced.items()))
