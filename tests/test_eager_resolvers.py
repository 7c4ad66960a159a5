"""The planned executor runs each async resolver to its first suspension at once
(gateway/execute.py `_eager`): a resolver that needs no I/O costs no task, and one that
waits goes on in a task exactly as if it had been one from the start."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.execute import Settled, _eager


async def _finish(started: Any) -> Any:
    return started.outcome if isinstance(started, Settled) else await started


async def test_a_resolver_that_never_waits_is_settled_without_a_task() -> None:
    async def cached() -> str:
        return "plan_pro"

    async def refused() -> str:
        raise LookupError("no such plan")

    value, error = _eager(cached()), _eager(refused())

    assert isinstance(value, Settled)
    assert value.outcome == "plan_pro"
    assert isinstance(error, Settled)
    assert isinstance(error.outcome, LookupError)


async def test_resolvers_waiting_on_one_future_all_get_its_result() -> None:
    # Two resolvers awaiting the same loader future (one batch, one key), then a second
    # future each: the case a hand-run coroutine gets wrong if it keeps the future's
    # "blocking" mark as its own.
    shared = asyncio.get_running_loop().create_future()

    async def resolver(n: int) -> tuple[int, str]:
        first = await shared
        await asyncio.sleep(0)
        second = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(second.set_result, n * 10)
        return await second, first

    started = [_eager(resolver(1)), _eager(resolver(2))]
    assert not any(isinstance(s, Settled) for s in started)
    shared.set_result("row")

    assert await asyncio.gather(*(_finish(s) for s in started)) == [(10, "row"), (20, "row")]


async def test_a_failed_future_is_raised_inside_the_resolver() -> None:
    failing = asyncio.get_running_loop().create_future()

    async def resolver() -> str:
        try:
            return str(await failing)
        except ConnectionError as exc:
            return f"handled: {exc}"

    started = _eager(resolver())
    failing.set_exception(ConnectionError("database went away"))

    assert await _finish(started) == "handled: database went away"


async def test_cancelling_the_request_reaches_the_waiting_resolver() -> None:
    never = asyncio.get_running_loop().create_future()
    cleaned: list[str] = []

    async def resolver() -> None:
        try:
            await never
        finally:
            cleaned.append("released")

    task = asyncio.ensure_future(_finish(_eager(resolver())))
    await asyncio.sleep(0)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["released"]
