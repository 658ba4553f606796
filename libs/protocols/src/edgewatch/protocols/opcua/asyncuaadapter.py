"""Every asyncua internal edgewatch relies on, in one place, checked when imported against the pinned asyncua.

- ``UaSession._publish_loop``: ingest runs extra copies of asyncua's own publish loop so that several
  subscriptions on one session each have a PublishRequest in flight (asyncua keeps one; OPC UA Part 4 recommends
  several, and with one per session a late subscription's queue overflows and loses values).
- ``InternalServer.time_task``: the simulator cancels asyncua's clock task on stop (asyncua's own stop waits up to
  1 s for it to notice).

A missing or reshaped hook raises ImportError naming the installed version and the attribute, instead of failing
quietly at run time.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from asyncua.client.ua_client import UaSession
from asyncua.server.internal_server import InternalServer

__all__ = ["PINNED", "check", "clock_task", "publish_loop"]

PINNED = "2.1.0"


def check(session_cls: type[Any] = UaSession, server_cls: type[Any] = InternalServer) -> None:
    """Raise ImportError when a hooked asyncua attribute is missing or reshaped."""
    version = importlib.metadata.version("asyncua")
    loop = getattr(session_cls, "_publish_loop", None)
    if loop is None or not inspect.iscoroutinefunction(loop) or len(inspect.signature(loop).parameters) != 1:
        raise ImportError(
            f"asyncua {version} (edgewatch is pinned to {PINNED}): {session_cls.__name__}._publish_loop(self) "
            "is missing or reshaped; ingest's extra publish loops need it"
        )
    if "time_task" not in inspect.getsource(server_cls.__init__):
        raise ImportError(
            f"asyncua {version} (edgewatch is pinned to {PINNED}): {server_cls.__name__}.time_task is gone; "
            "the simulator's fast stop needs it"
        )


check()


def publish_loop(session: Any) -> Callable[[], Coroutine[Any, Any, None]]:
    """The session's own publish loop (a coroutine function to run as an extra task)."""
    loop: Callable[[], Coroutine[Any, Any, None]] = session._publish_loop
    return loop


def clock_task(internal_server: Any) -> Any:
    """asyncua's clock task of a server (``asyncio.Task`` or ``None``)."""
    return internal_server.time_task
