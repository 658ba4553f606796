"""Ordered startup and shutdown steps (the Python analogue of EdgeX's bootstrap handler list)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

__all__ = ["Lifespan", "Step"]

log = logging.getLogger(__name__)

AsyncFn = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """One named step: ``start`` runs at startup, ``stop`` (if any) at shutdown in reverse order."""

    name: str
    start: AsyncFn
    stop: AsyncFn | None = None


class Lifespan:
    """Runs steps in order; on failure or exit, stops the started ones in reverse order."""

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._started: list[Step] = []

    def add(self, name: str, start: AsyncFn, stop: AsyncFn | None = None) -> None:
        """Append a step."""
        self._steps.append(Step(name, start, stop))

    @property
    def started(self) -> list[str]:
        """Names of the steps that have started (in order)."""
        return [s.name for s in self._started]

    async def start(self) -> None:
        """Start every step in order; if one fails, stop the ones already started and re-raise."""
        for step in self._steps:
            try:
                await step.start()
            except BaseException:
                log.exception("startup step failed", extra={"step": step.name})
                await self.stop()
                raise
            self._started.append(step)
            log.debug("started", extra={"step": step.name})

    async def stop(self) -> None:
        """Stop started steps in reverse order; errors are logged and do not stop the others."""
        while self._started:
            step = self._started.pop()
            if step.stop is None:
                continue
            try:
                await step.stop()
            except Exception:
                log.exception("shutdown step failed", extra={"step": step.name})

    async def __aenter__(self) -> Lifespan:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
