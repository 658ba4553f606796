"""Run a simulator until interrupted: what every ``python -m edgewatch.sim.<protocol>`` does after parsing its args."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

__all__ = ["Closable", "serve_until_interrupted"]


class Closable(Protocol):
    """A running simulator."""

    async def close(self) -> None:
        """Stop serving."""
        ...


S = TypeVar("S", bound=Closable)


def serve_until_interrupted(start: Callable[[], Awaitable[S]], announce: Callable[[S], None]) -> None:
    """Start the simulator, ``announce`` it (a log line), serve until Ctrl-C or cancellation, then close it."""

    async def run() -> None:
        sim = await start()
        announce(sim)
        try:
            await asyncio.Event().wait()
        finally:
            await sim.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
