"""MicroBatcher: hands queued items to an async processor in batches bounded by size and by a deadline.

A batch starts when ``max_batch`` items are waiting or when its oldest item has waited ``deadline_s`` (0: on the
next loop turn, so only what arrived meanwhile joins it). One batch is processed at a time, in arrival order;
items that arrive while one is processed queue for the next (Triton's dynamic batcher, ``max_queue_delay``,
without its priorities: every vector is the same kind of work here).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["MicroBatcher"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class MicroBatcher(Generic[T]):
    """Batches items for ``process``; ``stop()`` processes what is still queued."""

    def __init__(self, process: Callable[[list[T]], Awaitable[None]], max_batch: int, deadline_s: float) -> None:
        if max_batch < 1 or deadline_s < 0:
            raise ValueError(f"max_batch ({max_batch}) must be >= 1 and deadline_s ({deadline_s}) >= 0")
        self.process = process
        self.max_batch = max_batch
        self.deadline_s = deadline_s
        self._items: deque[tuple[float, T]] = deque()
        self._ready = asyncio.Event()  # something is queued
        self._full = asyncio.Event()  # a whole batch is queued (or we are stopping)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.batches = 0

    def put(self, item: T) -> None:
        """Queue one item (never blocks)."""
        self._items.append((asyncio.get_running_loop().time(), item))
        self._ready.set()
        if len(self._items) >= self.max_batch:
            self._full.set()

    def pending(self) -> int:
        """Items queued and not yet handed to ``process``."""
        return len(self._items)

    def start(self) -> None:
        """Start the batching task."""
        self._task = asyncio.create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        """Process everything queued, then end the task."""
        self._stopping = True
        self._ready.set()
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._ready.wait()
            if not self._items:
                if self._stopping:
                    return
                self._ready.clear()
                continue
            wait = self._items[0][0] + self.deadline_s - loop.time()
            if wait > 0 and len(self._items) < self.max_batch and not self._stopping:
                self._full.clear()
                try:
                    await asyncio.wait_for(self._full.wait(), wait)
                except TimeoutError:
                    pass
            n = min(self.max_batch, len(self._items))
            batch = [self._items.popleft()[1] for _ in range(n)]
            if len(self._items) < self.max_batch:
                self._full.clear()
            self.batches += 1
            try:
                await self.process(batch)
            except Exception:
                log.exception("batch processing failed", extra={"items": len(batch)})
