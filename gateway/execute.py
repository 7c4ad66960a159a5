"""Running a plan (gateway/plan.py): level by level, every field of a level started
together so the dataloaders still batch, the response built as plain dicts.

It keeps the GraphQL semantics strawberry's executor has: resolvers are the same
functions (strawberry's own resolvers and type classes, called directly), values are
serialized by the schema's scalar and enum types, a field error nulls its field and
records the error with its path and locations, a null in a non-null position nulls the
nearest nullable parent, and a forbidden field is null with FORBIDDEN. The differential
tests run every document of the suite through both executors and compare.

What can be decided once per plan is decided there (`FieldPlan.shape`, the resolver,
whether the field is async), so the per-field work here is a few dict and attribute
operations. The executor also counts the response's actual cost (gateway/cost.py's
rule: an object costs 1, a value object such as `Money` 0) as it builds the objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from inspect import isawaitable, iscoroutine
from typing import Any

from graphql import GraphQLError, GraphQLSchema
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.schema.schema_converter import get_arguments

from gateway.plan import LEAF, LIST, NON_NULL, OBJECT, TYPENAME, FieldPlan, Inline, Plan
from resolvers.errors import Forbidden


@dataclass(slots=True)
class Slot:
    """Where a value goes: `container[key]`, and where the container itself sits."""

    container: Any  # dict[str, Any] | list[Any]
    key: Any  # str | int
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


@dataclass(slots=True)
class Job:
    plan: FieldPlan
    source: Any
    slot: Slot
    path: tuple[str | int, ...]


@dataclass(slots=True)
class Fields:
    """An object whose selected fields the next level resolves."""

    plans: list[FieldPlan]
    source: Any
    obj: dict[str, Any]
    slot: Slot  # where the object sits
    path: tuple[str | int, ...]


@dataclass
class Info:
    """What resolvers read of strawberry's Info: the request context, and the names of
    the fields selected on the field's value (a connection counts its list only when
    `totalCount` is one of them)."""

    context: Any
    selected_names: frozenset[str] = frozenset()


class NullInNonNull(Exception):
    """A non-null position resolved to null."""


@dataclass
class Execution:
    schema: GraphQLSchema
    strawberry_schema: Any  # strawberry.Schema: config and scalar registry for arguments
    variables: VariableValues
    context: Any
    errors: list[GraphQLError] = field(default_factory=list)
    cost: int = 0  # the actual cost of the objects built
    _kwargs: dict[int, Any] = field(default_factory=dict)
    _nulled: bool = False  # once a value was nulled, jobs check their ancestors

    async def run(self, plan: Plan) -> dict[str, Any] | None:
        root: dict[str, Any] = dict.fromkeys(f.key for f in plan.fields)
        holder: list[Any] = [root]
        level = [Fields(plan.fields, None, root, Slot(holder, 0, True, None), ())]
        while level:
            level = await self._level(level)
        data: dict[str, Any] | None = holder[0]
        return data

    async def _level(self, objects: list[Fields]) -> list[Fields]:
        following: list[Fields] = []
        pending: list[tuple[Job, Step]] = []
        for fields in objects:
            if self._nulled and not fields.slot.alive():
                continue
            source, obj = fields.source, fields.obj
            for plan in fields.plans:
                serialize = plan.leaf
                if serialize is not None:
                    # The common case, a plain attribute of a scalar: no job, no slot.
                    # Anything unusual (null, an error) takes the general path below.
                    try:
                        value = getattr(source, plan.python_name)
                        if value is not None:
                            obj[plan.key] = serialize(value)
                            continue
                        if plan.nullable:
                            continue
                    except Exception:  # noqa: S110 - the general path reports it
                        pass
                elif plan.typename is not None:
                    obj[plan.key] = plan.typename
                    continue
                elif plan.inline_one is not None:
                    # Likewise an attribute holding an object of plain attributes.
                    try:
                        value = getattr(source, plan.python_name)
                        if value is not None:
                            built = _built(plan.inline_one, value)
                            if built is not None:
                                obj[plan.key] = built
                                self.cost += plan.inline_cost
                                continue
                        elif plan.nullable:
                            continue
                    except Exception:  # noqa: S110 - the general path reports it
                        pass
                slot = Slot(obj, plan.key, plan.nullable, fields.slot)
                self._start(Job(plan, source, slot, (*fields.path, plan.key)), pending, following)
                if self._nulled and not fields.slot.alive():
                    break  # a non-null field failed: its siblings are not resolved
        if pending:
            await _drive([step for _, step in pending if not step.done])
            # Outcomes are taken in the level's order, as strawberry's executor does.
            for job, step in pending:
                result = step.outcome
                if self._nulled and not job.slot.alive():
                    continue  # a sibling's null took its object away meanwhile
                if isinstance(result, BaseException):
                    if not isinstance(result, Exception):
                        raise result
                    self._fail(job, result)
                else:
                    self._complete_field(job, result, following)
        return following

    def _start(
        self,
        job: Job,
        pending: list[tuple[Job, Step]],
        following: list[Fields],
    ) -> None:
        try:
            value = self._resolve(job)
        except Exception as exc:  # a resolver's error is the field's error
            self._fail(job, exc)
            return
        if iscoroutine(value) and job.plan.forbidden is None:
            pending.append((job, _eager(value)))
        elif job.plan.is_async or (job.plan.resolver is not None and isawaitable(value)):
            pending.append((job, _later(value)))  # (a plain function may return a future)
        else:
            self._complete_field(job, value, following)

    # --- resolving ---------------------------------------------------------------

    def _resolve(self, job: Job) -> Any:
        plan = job.plan
        if plan.forbidden is not None:
            # An async field fails when awaited, as strawberry's permission extension does:
            # a sibling that fails at once may null the parent first, and then this
            # field's error is not reported.
            error = Forbidden(plan.forbidden)
            if plan.is_async:
                return _raising(error)
            raise error
        resolver = plan.resolver
        if resolver is None:
            if plan.name == TYPENAME:
                return plan.parent_type.name
            return getattr(job.source, plan.python_name)
        kwargs = self._arguments(plan)
        if plan.self_parameter:
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
                info=Info(self.context, plan.selected_names),  # type: ignore[arg-type]
                kwargs=raw,
                config=self.strawberry_schema.config,
                scalar_registry=self.strawberry_schema.schema_converter.scalar_registry,
            )
            self._kwargs[id(plan)] = cached
        return cached  # (read only: `**` hands each call a copy)

    # --- completing ----------------------------------------------------------------

    def _complete_field(self, job: Job, value: Any, following: list[Fields]) -> None:
        plan = job.plan
        try:
            self._complete(plan, plan.shape, value, job.slot, job.path, following)
        except NullInNonNull:
            self._error(_null_error(plan, job.path), job.slot)
        except Exception as exc:  # a serializer's error is the field's error
            self._fail(job, exc)

    def _complete(
        self,
        plan: FieldPlan,
        shape: tuple[Any, ...],
        value: Any,
        slot: Slot,
        path: tuple[str | int, ...],
        following: list[Fields],
    ) -> None:
        if isinstance(value, Exception):
            raise value  # a resolver may return an error as a value (a list item's)
        kind = shape[0]
        if kind is NON_NULL:
            if value is None:
                raise NullInNonNull
            self._complete(plan, shape[1], value, slot, path, following)
        elif value is None:
            slot.container[slot.key] = None
        elif kind is LEAF:
            slot.container[slot.key] = shape[1](value)
        elif kind is LIST:
            self._complete_list(plan, shape[1], value, slot, path, following)
        else:
            assert kind is OBJECT
            self._complete_object(plan, value, slot, path, following)

    def _complete_list(
        self,
        plan: FieldPlan,
        item_shape: tuple[Any, ...],
        values: Any,
        slot: Slot,
        path: tuple[str | int, ...],
        following: list[Fields],
    ) -> None:
        items: list[Any] = [None] * len(values)
        slot.container[slot.key] = items
        nullable = item_shape[0] is not NON_NULL
        for n, value in enumerate(values):
            item_slot = Slot(items, n, nullable, slot)
            try:
                self._complete(plan, item_shape, value, item_slot, (*path, n), following)
            except NullInNonNull:
                self._error(_null_error(plan, (*path, n)), item_slot)
            except Exception as exc:  # the item's error
                self._error(_located(exc, plan, (*path, n)), item_slot)

    def _complete_object(
        self,
        plan: FieldPlan,
        value: Any,
        slot: Slot,
        path: tuple[str | int, ...],
        following: list[Fields],
    ) -> None:
        type_name = plan.object_type or value.__strawberry_definition__.name
        self.cost += plan.object_costs[type_name]
        inline = plan.inline.get(type_name)
        if inline is not None:
            built = _built(inline, value)
            if built is not None:
                slot.container[slot.key] = built
                return
        obj: dict[str, Any] = dict.fromkeys(plan.child_keys[type_name])
        slot.container[slot.key] = obj
        following.append(Fields(plan.children[type_name], value, obj, slot, path))

    # --- errors and nulls ------------------------------------------------------------

    def _fail(self, job: Job, exc: Exception) -> None:
        self._error(_located(exc, job.plan, job.path), job.slot)

    def _error(self, error: GraphQLError, slot: Slot) -> None:
        """Record the error and null its field, or the nearest nullable parent."""
        self.errors.append(error)
        target: Slot | None = slot
        while target is not None and not target.nullable:
            target = target.parent
        if target is not None:
            target.container[target.key] = None
            target.dead = True
            self._nulled = True


@dataclass(slots=True)
class Step:
    """An async field's progress: its coroutine and what that waits on (a future, or
    None for a bare yield), until it is `done` with its `outcome` (its value, or what
    it raised). `coro` None: the field's value is the awaitable `waiting_on` itself."""

    coro: Coroutine[Any, Any, Any] | None
    waiting_on: Any = None
    outcome: Any = None
    done: bool = False
    started: bool = False


def _eager(coro: Coroutine[Any, Any, Any]) -> Step:
    """Run the coroutine to its first suspension now. Most resolvers of a level finish
    without suspending (the catalog is in memory), and then they are done already."""
    step = Step(coro)
    _advance(step)
    return step


def _later(value: Awaitable[Any]) -> Step:
    """An awaitable not to start yet (a forbidden field fails only when awaited)."""
    if iscoroutine(value):
        return Step(value)
    if isinstance(value, asyncio.Future):
        return Step(None, value, started=True)
    return Step(_awaited(value))


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


async def _drive(steps: list[Step]) -> None:
    """Bring every step to its end as a task per coroutine would — each resumed once
    what it waits on is done, a failed future raised inside it — but with no task per
    coroutine: the level's own coroutine waits for the futures and resumes the
    coroutines whose futures are done (a level's loads are answered together, by
    one statement each). Cancelling the level closes the coroutines it holds."""
    try:
        while waiting := [s for s in steps if not s.done]:
            ready = [s for s in waiting if s.waiting_on is None or s.waiting_on.done()]
            if not ready:
                futures = {s.waiting_on for s in waiting}
                await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
                continue
            if any(s.started and s.waiting_on is None for s in ready):
                await asyncio.sleep(0)  # a bare yield gives the loop one turn, as in a task
            for step in ready:
                _advance(step)
    finally:
        for step in steps:
            if not step.done and step.coro is not None:
                step.coro.close()


def _advance(step: Step) -> None:
    """Resume (or start) the step's coroutine until it waits again or ends."""
    if step.coro is None:  # a bare future: its result is the outcome
        future = step.waiting_on
        if future.cancelled():
            step.outcome = asyncio.CancelledError()
        else:
            step.outcome = future.exception() or future.result()
        step.done = True
        return
    step.started = True
    try:
        waiting_on = step.coro.send(None)
    except StopIteration as finished:
        step.outcome, step.done = finished.value, True
    except BaseException as exc:  # kept, as gather(return_exceptions=True) keeps it
        step.outcome, step.done = exc, True
    else:
        # Taken as a task takes it: the future's "blocking" mark is cleared, so that
        # it can be awaited again (by other coroutines, or by this one once more).
        if waiting_on is not None:
            waiting_on._asyncio_future_blocking = False
        step.waiting_on = waiting_on


def _built(inline: tuple[Inline, ...], value: Any) -> dict[str, Any] | None:
    """The object of plain attributes at once; None when anything is unusual (a null in a
    non-null field, an error), and the general path resolves it to report that."""
    obj: dict[str, Any] = {}
    try:
        for key, attribute, serialize, nullable in inline:
            if attribute is None:
                obj[key] = serialize  # __typename
                continue
            found = getattr(value, attribute)
            if found is not None:
                obj[key] = serialize(found)
            elif nullable:
                obj[key] = None
            else:
                return None
    except Exception:  # the general path reports it
        return None
    return obj


def _null_error(plan: FieldPlan, path: tuple[str | int, ...]) -> GraphQLError:
    name = f"{plan.parent_type.name}.{plan.name}"
    message = f"Cannot return null for non-nullable field {name}."
    return GraphQLError(message, plan.nodes, path=list(path))


def _located(exc: Exception, plan: FieldPlan, path: tuple[str | int, ...]) -> GraphQLError:
    """The error at the field's nodes and path, as graphql-core's located_error makes it."""
    original = exc.original_error if isinstance(exc, GraphQLError) else exc
    return GraphQLError(str(exc), plan.nodes, path=list(path), original_error=original)


async def _raising(error: Exception) -> Any:
    raise error
