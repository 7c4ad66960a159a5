"""The planned executor runs each async resolver to its first suspension at once and
drives the rest itself (gateway/execute.py `_eager`, `_drive`): a resolver that needs
no I/O is done without a task, and one that waits goes on exactly as if it were a task
of its own — resumed when its future is done, a failed future raised inside it,
cancellation reaching it — without the task."""

from __future__ import annotations

import asyncio

import pytest

from gateway.execute import _drive, _eager


async def test_a_resolver_that_never_waits_is_done_without_a_task() -> None:
    async def cached() -> str:
        return "plan_pro"

    async def refused() -> str:
        raise LookupError("no such plan")

    value, error = _eager(cached()), _eager(refused())

    assert value.done
    assert value.outcome == "plan_pro"
    assert error.done
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
    assert not any(s.done for s in started)
    shared.set_result("row")
    tasks_before = len(asyncio.all_tasks())

    driving = asyncio.ensure_future(_drive(started))
    assert len(asyncio.all_tasks()) == tasks_before + 1  # the driver alone
    await driving

    assert [s.outcome for s in started] == [(10, "row"), (20, "row")]


async def test_a_resolver_goes_on_while_another_still_waits() -> None:
    # The first waits on a future only the second's progress settles: each is resumed
    # as soon as its own future is done, never only when all of them are.
    handoff = asyncio.get_running_loop().create_future()

    async def waiting() -> str:
        return f"got {await handoff}"

    async def settling() -> str:
        await asyncio.sleep(0)
        handoff.set_result("it")
        return "settled"

    steps = [_eager(waiting()), _eager(settling())]
    await asyncio.wait_for(_drive(steps), timeout=5)

    assert [s.outcome for s in steps] == ["got it", "settled"]


async def test_a_failed_future_is_raised_inside_the_resolver() -> None:
    failing = asyncio.get_running_loop().create_future()

    async def resolver() -> str:
        try:
            return str(await failing)
        except ConnectionError as exc:
            return f"handled: {exc}"

    started = _eager(resolver())
    failing.set_exception(ConnectionError("database went away"))
    await _drive([started])

    assert started.outcome == "handled: database went away"


async def test_cancelling_the_request_reaches_the_waiting_resolver() -> None:
    never = asyncio.get_running_loop().create_future()
    cleaned: list[str] = []

    async def resolver() -> None:
        try:
            await never
        finally:
            cleaned.append("released")

    task = asyncio.ensure_future(_drive([_eager(resolver())]))
    await asyncio.sleep(0)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["released"]
