"""Print every asyncio task's stack shortly before pytest-timeout fails a test.

pytest-timeout dumps thread stacks only; a hung async test shows its main thread idle in ``select`` and nothing
about which ``await`` never returned. This watchdog, a few seconds before the timeout, asks each running event
loop (thread-safely) to print the stack of each of its tasks into the test's captured output.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import sys
import threading
from collections.abc import Iterator

import pytest

__all__ = ["timeout_of", "watch"]

_MARGIN_S = 5.0


def timeout_of(item: pytest.Item) -> float:
    """The test's pytest-timeout limit in seconds (its marker, else the ini value), 0 when none."""
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    try:
        return float(item.config.getini("timeout") or 0)
    except (ValueError, TypeError):
        return 0.0


def _running_loops() -> list[asyncio.AbstractEventLoop]:
    return [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]


def _await_chain(task: asyncio.Task[object]) -> list[str]:
    """Where each coroutine in the task's ``await`` chain is suspended, outermost first (print_stack shows one)."""
    lines: list[str] = []
    obj: object = task.get_coro()
    while obj is not None and len(lines) < 40:
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None) or getattr(obj, "ag_frame", None)
        if frame is None:
            lines.append(repr(obj)[:200])
            break
        lines.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        obj = getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None) or getattr(obj, "ag_await", None)
    return lines


def _dump(loop: asyncio.AbstractEventLoop, name: str) -> None:
    out = io.StringIO()
    tasks = asyncio.all_tasks(loop)
    print(f"~~~~~ {len(tasks)} asyncio tasks of {name}, shortly before its timeout ~~~~~", file=out)
    for task in tasks:
        print(f"--- {task!r}", file=out)
        for line in _await_chain(task):
            print(f"    {line}", file=out)
    sys.stdout.write(out.getvalue())
    sys.stdout.flush()


@contextlib.contextmanager
def watch(item: pytest.Item) -> Iterator[None]:
    """Arm the watchdog while ``item`` runs (setup, call and teardown: pytest-timeout's limit covers all three)."""
    limit = timeout_of(item)
    if limit <= _MARGIN_S:
        yield
        return

    def fire() -> None:
        for loop in _running_loops():
            try:
                loop.call_soon_threadsafe(_dump, loop, item.nodeid)
            except RuntimeError:
                pass  # the loop closed meanwhile

    timer = threading.Timer(limit - _MARGIN_S, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
