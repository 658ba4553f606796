"""One poll task per device; each AutoEvent source publishes one EdgeX event per cycle.

The AutoEvents due in a cycle are read together (the driver coalesces their registers into block reads).

A Modbus exception response means the device is alive: the sources are then read one by one so a refused
resource costs only its own events. A device that stops answering is marked DOWN after ``allowed_fails``
further failed cycles, publishes nothing while DOWN, is probed with exponential backoff, and is marked UP again
by the first successful read. A cycle that fails publishes nothing: readings are never fabricated or repeated
from an earlier cycle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from edgewatch.common.bus.cancel import cancel_and_wait
from edgewatch.common.contracts.event import Event
from edgewatch.ingest.errors import DeviceIOError, IngestError, ModbusExceptionError
from edgewatch.ingest.metrics import IngestMetrics
from edgewatch.ingest.runtime import AutoEventJob, DeviceRuntime, ReadResult
from edgewatch.protocols.errors import ProtocolError, TransformOverflowError

__all__ = ["DevicePoller", "PollStats", "PollerSettings"]

log = logging.getLogger(__name__)

Publish = Callable[[Event], Awaitable[None]]
StateChange = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PollerSettings:
    """Failure handling of the poll loop."""

    allowed_fails: int = 0
    backoff_max: float = 5.0


@dataclass(slots=True)
class PollStats:
    """Counters of one device's poll loop."""

    cycles: int = 0
    readings: int = 0
    events: int = 0
    failures: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)


class DevicePoller:
    """Runs one device's AutoEvents until cancelled."""

    def __init__(
        self,
        runtime: DeviceRuntime,
        publish: Publish,
        on_state: StateChange,
        settings: PollerSettings | None = None,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self.runtime = runtime
        self.publish = publish
        self.on_state = on_state
        self.settings = settings or PollerSettings()
        self.metrics = metrics
        self.stats = PollStats()
        self.state = "UP" if runtime.device.operating_state != "DOWN" else "DOWN"
        self._fails = 0
        self._backoff = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._read_at = time.perf_counter()  # when the current cycle's read started (hop ingest_read_publish)

    def start(self) -> None:
        """Start the poll task (no-op without AutoEvents)."""
        if self.runtime.jobs and self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name=f"poll {self.runtime.name}")

    async def stop(self) -> None:
        """Cancel the poll task and wait for it."""
        self._stopping = True
        task, self._task = self._task, None
        await cancel_and_wait([task], limit=5.0)  # logs the task ("poll <device>") if it does not stop

    async def run(self) -> None:
        """The loop: sleep until the next AutoEvent is due, read everything due, publish per source."""
        jobs = self.runtime.jobs
        start = time.monotonic()
        for j in jobs:
            j.next_due = start
        while not self._stopping:
            now = time.monotonic()
            due = [j for j in jobs if j.next_due <= now]
            if not due:
                await asyncio.sleep(max(0.0, min(j.next_due for j in jobs) - now))
                continue
            names = list(dict.fromkeys(n for j in due for n in j.resources))
            self._read_at = time.perf_counter()
            try:
                try:
                    got = await self.runtime.read(names)
                except ModbusExceptionError as e:
                    # The device answered, so it is up; one refused resource must not silence the other sources.
                    self._count(type(e).__name__)
                    got = await self._read_sources_separately(due)
            except (DeviceIOError, ProtocolError) as e:
                await self._failed(e, due)
                continue
            except Exception as e:  # a driver bug must not kill the loop silently
                log.exception("poll cycle crashed", extra={"device": self.runtime.name})
                await self._failed(IngestError(f"{type(e).__name__}: {e}"), due)
                continue
            await self._succeeded()
            values = got.values
            for n, err in got.errors.items():
                self._count("transform" if isinstance(err, TransformOverflowError) else type(err).__name__)
                log.warning("reading dropped", extra={"device": self.runtime.name, "resource": n, "error": err.message})
            now = time.monotonic()
            if self._stopping:  # a cancellation swallowed by a library call must still end the loop
                return
            for j in due:
                j.next_due += j.interval
                if j.next_due <= now:  # fell behind: skip missed cycles instead of bursting
                    j.next_due = now + j.interval
                mine = {n: values[n] for n in j.resources if n in values}
                if not mine or not j.changed(mine):
                    continue
                groups = [(n, {n: v}) for n, v in mine.items()] if j.per_resource else [(j.source, mine)]
                published = False
                for source, vals in groups:
                    published = await self._publish(source, vals, j, got) or published
                if published:
                    j.last = mine
            self.stats.cycles += 1  # completed cycles: read and published

    async def _publish(self, source: str, values: dict[str, Any], job: AutoEventJob, got: ReadResult) -> bool:
        event = self.runtime.event(source, values, job.ops, got.samples)
        if event is None:
            return False
        try:
            await self.publish(event)
        except Exception as e:  # the device is fine; the bus or a name is not: count, log, go on
            self._count("publish")
            log.error("event publish failed", extra={"device": self.runtime.name, "error": repr(e)[:300]})
            return False
        self.stats.events += 1
        self.stats.readings += len(event.readings)
        if self.metrics is not None:
            self.metrics.read_publish(time.perf_counter() - self._read_at)
            self.metrics.event(self.runtime.name, len(event.readings))
        return True

    async def _read_sources_separately(self, due: Sequence[AutoEventJob]) -> ReadResult:
        out = ReadResult({}, {}, {})
        for j in due:
            try:
                got = await self.runtime.read(list(j.resources))
            except ModbusExceptionError as e:
                self._count(type(e).__name__)
                log.warning("source refused by the device", extra={"device": self.runtime.name, "error": e.message})
                continue
            out.values.update(got.values)
            out.errors.update(got.errors)
            out.samples.update(got.samples)
        return out

    def _count(self, kind: str) -> None:
        self.stats.errors_by_kind[kind] = self.stats.errors_by_kind.get(kind, 0) + 1
        if self.metrics is not None:
            self.metrics.error(self.runtime.name, kind)

    async def _failed(self, e: ProtocolError, due: Sequence[AutoEventJob]) -> None:
        self.stats.failures += 1
        self._count(type(e).__name__)
        self._fails += 1
        if self.state == "UP" and self._fails > self.settings.allowed_fails:
            self.state = "DOWN"
            log.warning("device DOWN", extra={"device": self.runtime.name, "error": e.message})
            await self._notify("DOWN")
        shortest = min(j.interval for j in self.runtime.jobs)
        if self.state == "DOWN":
            self._backoff = min(self.settings.backoff_max, self._backoff * 2 if self._backoff else shortest)
            delay = max(self._backoff, shortest)
        else:
            delay = shortest
        retry = time.monotonic() + delay
        for j in self.runtime.jobs:
            j.next_due = max(j.next_due, retry) if j in due else j.next_due

    async def _succeeded(self) -> None:
        self._fails = 0
        self._backoff = 0.0
        if self.state == "DOWN":
            self.state = "UP"
            log.info("device UP", extra={"device": self.runtime.name})
            await self._notify("UP")

    async def _notify(self, state: str) -> None:
        try:
            await self.on_state(self.runtime.name, state)
        except Exception:
            log.exception("operating state update failed", extra={"device": self.runtime.name, "state": state})
