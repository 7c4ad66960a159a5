"""Running a plan (gateway/plan.py): level by level, every field of a level started
together so the dataloaders still batch, the response built as plain dicts.

It keeps the GraphQL semantics strawberry's executor has: resolvers are the same
functions (strawberry's own resolvers and type classes, called directly), values are
serialized by the schema's scalar and enum types, a field error nulls its field and
records the error with its path and locations, a null in a non-null position nulls the
nearest nullable parent, and a forbidden field is null with FORBIDDEN. The differential
tests run every document of the suite through both executors and compare.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.schema.schema_converter import get_arguments

from gateway.plan import TYPENAME, FieldPlan, Plan
from resolvers.errors import Forbidden


@dataclass
class Slot:
    """Where a value goes: `container[key]`, and where the container itself sits."""

    container: dict[str, Any] | list[Any]
    key: str | int
    nullable: bool
    parent: Slot | None
    dead: bool = False

    def alive(self) -> bool:
        slot: Slot | None = self
        while slot is not None:
            if slot.dead:
                return False
            slot = slot.parent
        return True


@dataclass
class Job:
    plan: FieldPlan
    source: Any
    slot: Slot
    path: tuple[str | int, ...]


@dataclass
class Info:
    """What resolvers read of strawberry's Info: the request context."""

    context: Any


class NullInNonNull(Exception):
    """A non-null position resolved to null."""


@dataclass
class Execution:
    schema: GraphQLSchema
    strawberry_schema: Any  # strawberry.Schema: config and scalar registry for arguments
    variables: VariableValues
    context: Any
    errors: list[GraphQLError] = field(default_factory=list)
    _kwargs: dict[int, Any] = field(default_factory=dict)

    async def run(self, plan: Plan) -> dict[str, Any] | None:
        root: dict[str, Any] = {f.key: None for f in plan.fields}
        holder: list[Any] = [root]
        top = Slot(holder, 0, True, None)
        level = [Job(f, None, Slot(root, f.key, True, top), (f.key,)) for f in plan.fields]
        for job in level:
            job.slot.nullable = not isinstance(job.plan.return_type, GraphQLNonNull)
        while level:
            level = await self._level(level)
        data: dict[str, Any] | None = holder[0]
        return data

    async def _level(self, jobs: list[Job]) -> list[Job]:
        following: list[Job] = []
        pending: list[tuple[Job, Awaitable[Any]]] = []
        for job in jobs:
            if not job.slot.alive():
                continue
            try:
                value = self._resolve(job)
            except Exception as exc:
                self._fail(job, exc)
                continue
            if inspect.isawaitable(value):
                pending.append((job, value))
            else:
                self._complete_field(job, value, following)
        if pending:
            results = await asyncio.gather(*(v for _, v in pending), return_exceptions=True)
            for (job, _), result in zip(pending, results, strict=True):
                if not job.slot.alive():
                    continue  # a sibling's null took its object away meanwhile
                if isinstance(result, BaseException):
                    if not isinstance(result, Exception):
                        raise result
                    self._fail(job, result)
                else:
                    self._complete_field(job, result, following)
        return following

    # --- resolving ---------------------------------------------------------------

    def _resolve(self, job: Job) -> Any:
        plan = job.plan
        if plan.name == TYPENAME:
            return plan.parent_type.name
        assert plan.strawberry_field is not None
        if plan.forbidden is not None:
            # An async field fails when awaited, as strawberry's permission extension does:
            # a sibling that fails at once may null the parent first, and then this
            # field's error is not reported.
            error = Forbidden(plan.forbidden)
            if plan.strawberry_field.is_async:
                return _raising(error)
            raise error
        resolver = plan.strawberry_field.base_resolver
        if resolver is None:
            return getattr(job.source, plan.strawberry_field.python_name)
        kwargs = self._arguments(plan)
        if resolver.self_parameter:
            return resolver(job.source, **kwargs)
        return resolver(**kwargs)

    def _arguments(self, plan: FieldPlan) -> dict[str, Any]:
        """The resolver's keyword arguments: the same for every object of one field."""
        cached = self._kwargs.get(id(plan))
        if cached is None:
            assert plan.definition is not None
            assert plan.strawberry_field is not None
            raw = get_argument_values(plan.definition, plan.node, self.variables)
            _, cached = get_arguments(
                field=plan.strawberry_field,
                source=None,
                info=Info(self.context),  # type: ignore[arg-type]
                kwargs=raw,
                config=self.strawberry_schema.config,
                scalar_registry=self.strawberry_schema.schema_converter.scalar_registry,
            )
            self._kwargs[id(plan)] = cached
        return dict(cached)

    # --- completing ----------------------------------------------------------------

    def _complete_field(self, job: Job, value: Any, following: list[Job]) -> None:
        plan = job.plan
        if plan.return_type is None:  # __typename
            self._place(job.slot, value)
            return
        try:
            self._complete(plan, plan.return_type, value, job.slot, job.path, following)
        except NullInNonNull:
            message = (
                f"Cannot return null for non-nullable field {plan.parent_type.name}.{plan.name}."
            )
            self._error(GraphQLError(message, plan.nodes, path=list(job.path)), job.slot)
        except Exception as exc:
            self._fail(job, exc)

    def _complete(
        self,
        plan: FieldPlan,
        type_: GraphQLOutputType,
        value: Any,
        slot: Slot,
        path: tuple[str | int, ...],
        following: list[Job],
    ) -> None:
        if isinstance(value, Exception):
            raise value  # a resolver may return an error as a value (a list item's)
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                raise NullInNonNull
            self._complete(plan, type_.of_type, value, slot, path, following)
        elif value is None:
            self._place(slot, None)
        elif isinstance(type_, GraphQLList):
            self._complete_list(plan, type_, value, slot, path, following)
        elif is_leaf_type(type_):
            self._place(slot, type_.serialize(value))
        else:
            self._complete_object(plan, value, slot, path, following)

    def _complete_list(
        self,
        plan: FieldPlan,
        type_: GraphQLList[Any],
        values: Any,
        slot: Slot,
        path: tuple[str | int, ...],
        following: list[Job],
    ) -> None:
        items: list[Any] = [None] * len(values)
        self._place(slot, items)
        item_type = type_.of_type
        nullable = not isinstance(item_type, GraphQLNonNull)
        for n, value in enumerate(values):
            item_slot = Slot(items, n, nullable, slot)
            try:
                self._complete(plan, item_type, value, item_slot, (*path, n), following)
            except NullInNonNull:
                name = f"{plan.parent_type.name}.{plan.name}"
                message = f"Cannot return null for non-nullable field {name}."
                self._error(GraphQLError(message, plan.nodes, path=[*path, n]), item_slot)
            except Exception as exc:
                self._error(_located(exc, plan, (*path, n)), item_slot)

    def _complete_object(
        self,
        plan: FieldPlan,
        value: Any,
        slot: Slot,
        path: tuple[str | int, ...],
        following: list[Job],
    ) -> None:
        type_name = plan.object_type or value.__strawberry_definition__.name
        children = plan.children[type_name]
        obj: dict[str, Any] = {child.key: None for child in children}
        self._place(slot, obj)
        for child in children:
            nullable = not isinstance(child.return_type, GraphQLNonNull)
            child_slot = Slot(obj, child.key, nullable, slot)
            following.append(Job(child, value, child_slot, (*path, child.key)))

    # --- errors and nulls ------------------------------------------------------------

    def _place(self, slot: Slot, value: Any) -> None:
        slot.container[slot.key] = value  # type: ignore[index]

    def _fail(self, job: Job, exc: Exception) -> None:
        self._error(_located(exc, job.plan, job.path), job.slot)

    def _error(self, error: GraphQLError, slot: Slot) -> None:
        """Record the error and null its field, or the nearest nullable parent."""
        self.errors.append(error)
        target: Slot | None = slot
        while target is not None and not target.nullable:
            target = target.parent
        if target is not None:
            target.container[target.key] = None  # type: ignore[index]
            target.dead = True


def _located(exc: Exception, plan: FieldPlan, path: tuple[str | int, ...]) -> GraphQLError:
    """The error at the field's nodes and path, as graphql-core's located_error makes it."""
    original = exc.original_error if isinstance(exc, GraphQLError) else exc
    return GraphQLError(str(exc), plan.nodes, path=list(path), original_error=original)


async def _raising(error: Exception) -> Any:
    raise error
