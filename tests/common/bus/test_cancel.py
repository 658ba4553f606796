"""cancel_and_wait ends tasks that swallow a cancel (the CPython 3.11 wait_for race) and reports stubborn ones."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from edgewatch.common.bus.cancel import cancel_and_wait


async def _swallows_first_cancel(log: list[str]) -> None:
    """What a loop does when nats-py's request() eats the cancel: it carries on to its next sleep."""
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if log:
                raise
            log.append("swallowed")  # the task stays "cancelling", as after wait_for's early return


async def test_a_task_that_swallows_the_first_cancel_is_cancelled_again_and_ends() -> None:
    log: list[str] = []
    task = asyncio.create_task(_swallows_first_cancel(log), name="monitor")
    await asyncio.sleep(0)
    left = await cancel_and_wait([task], every=0.05, limit=5)
    assert left == [] and task.cancelled() and log == ["swallowed"]  # the first cancel was swallowed: it took two


async def test_a_task_that_never_ends_is_reported_after_the_limit(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    left = await cancel_and_wait([task, None], every=0.05, limit=0.3)
    assert left == [task] and not task.done()
    assert any(r.message == "tasks did not stop" and r.tasks == ["stubborn"] for r in caplog.records)  # type: ignore[attr-defined]
    release.set()
    task.cancel()
    await asyncio.wait({task}, timeout=2)
    assert task.done()


async def test_errors_of_ended_tasks_are_retrieved_not_raised() -> None:
    async def fails() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            raise RuntimeError("failed while stopping")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], every=0.05, limit=2) == []
    assert task.done() and isinstance(task.exception(), RuntimeError)
