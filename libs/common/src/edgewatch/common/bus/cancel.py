"""cancel_and_wait: stop background tasks for sure, even when one cancel is swallowed.

On CPython 3.11 a single ``task.cancel()`` can be lost: ``asyncio.wait_for`` returns the inner result instead of
raising ``CancelledError`` when the awaited future completes in the same loop turn as the cancel (gh-86296, fixed
by the 3.12 rewrite of ``wait_for``). nats-py's ``request()`` awaits its reply through ``wait_for``, so a loop
cancelled while a bus reply lands carries on to its next ``sleep`` as if nothing happened, and ``await task``
then waits forever (a CI run saw sync's backlog monitor hang a service's shutdown that way). This helper repeats
the cancel until each task has ended; a task that still runs after ``limit`` seconds is logged and left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

__all__ = ["cancel_and_wait"]

log = logging.getLogger(__name__)


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any] | None], *, every: float = 1.0, limit: float = 30.0
) -> list[asyncio.Task[Any]]:
    """Cancel ``tasks`` and wait until they end, re-cancelling each one still running every ``every`` seconds.

    ``every`` leaves a task's own cleanup (an unsubscribe in a ``finally``) time to finish before a repeated cancel
    would cut it short; a swallowed cancel costs that much shutdown time. Returns the tasks still running after
    ``limit`` seconds (normally none). Errors of ended tasks are retrieved (not re-raised): the caller is stopping
    them. Cancelling the caller stops the wait, not the cancels.
    """
    pending = {t for t in tasks if t is not None and not t.done()}
    ended: set[asyncio.Task[Any]] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while pending:
        for t in pending:
            t.cancel()
        done, pending = await asyncio.wait(pending, timeout=max(0.0, min(every, deadline - loop.time())))
        ended |= done
        if pending and loop.time() >= deadline:
            log.error("tasks did not stop", extra={"tasks": sorted(t.get_name() for t in pending), "after_s": limit})
            break
    for t in ended:
        if not t.cancelled():
            with contextlib.suppress(BaseException):
                t.result()
    return sorted(pending, key=lambda t: t.get_name())
