"""LiveHub: wakes live-stream subscribers after each committed batch (they then read from the store)."""

from __future__ import annotations

import asyncio

__all__ = ["LiveHub"]


class LiveHub:
    """A generation counter with a condition; subscribers wait for a generation newer than theirs."""

    def __init__(self) -> None:
        self.generation = 0
        self._cond = asyncio.Condition()

    async def notify(self) -> None:
        """Called after a commit."""
        async with self._cond:
            self.generation += 1
            self._cond.notify_all()

    async def wait_newer(self, seen: int, timeout: float) -> int:
        """Wait until the generation passes ``seen`` (or ``timeout``); return the current generation."""
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(lambda: self.generation > seen), timeout)
            except TimeoutError:
                pass
            return self.generation
