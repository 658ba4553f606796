"""The uplink: one batch on the wire at a time, granted by class priority, bandwidth-capped, retried forever.

Each class has its own outbox with at most one batch in flight, so order within a class (and so within a
device) is the stream order. Classes share this uplink: when several batches wait, the highest-priority class
(alerts) goes first, so an alert overtakes an events backlog by at most the one batch already on the wire.
A failed attempt is retried with capped exponential backoff and full jitter, without an attempt limit;
``outage_after`` consecutive failures mark the uplink down (metric, health, one log line per transition).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from edgewatch.sync.config import SyncSection
from edgewatch.sync.sinks.base import BatchRefusedError, BatchTooLargeError, Sink, SinkError
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.syncwire.batch import PRIORITY, BatchAck, BatchHeader, DataClass, RecordRow

__all__ = ["PriorityGate", "TokenBucket", "Uplink", "backoff_delay"]

log = logging.getLogger(__name__)


def backoff_delay(attempt: int, initial: float, cap: float) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, initial * 2**attempt)]."""
    return random.uniform(0, min(cap, initial * (2 ** min(attempt, 30))))


class PriorityGate:
    """A single slot handed to the waiter with the lowest priority number (FIFO within a priority)."""

    def __init__(self) -> None:
        self._busy = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def slot(self, priority: int) -> AsyncIterator[None]:
        """Hold the slot for the body of the ``async with``."""
        if self._busy or self._waiters:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (priority, next(self._order), fut))
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._release()
                else:
                    self._waiters = [w for w in self._waiters if w[2] is not fut]
                    heapq.heapify(self._waiters)
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiters:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)  # the slot passes straight to the waiter (stays busy)
                return
        self._busy = False


class TokenBucket:
    """Bandwidth cap on bytes sent (0 = unlimited); a burst of one second's worth."""

    def __init__(self, kbps: float) -> None:
        self.rate = kbps * 1000 / 8
        self._tokens = self.rate
        self._stamp = time.monotonic()

    async def take(self, nbytes: int) -> None:
        """Wait until ``nbytes`` may be sent."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        self._tokens = min(self.rate, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= nbytes
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self.rate)


class Uplink:
    """Delivers batches through a sink with priority, bandwidth cap, retries and outage detection."""

    def __init__(self, sink: Sink, settings: SyncSection, telemetry: SyncTelemetry) -> None:
        self.sink = sink
        self.settings = settings
        self.telemetry = telemetry
        self.gate = PriorityGate()
        self.bucket = TokenBucket(settings.max_bandwidth_kbps)
        self.failures = 0
        self.up = True
        self._recovered = asyncio.Event()

    async def deliver(self, header: BatchHeader, records: list[RecordRow], body: bytes) -> BatchAck:
        """Send until the far side acknowledges; only a refusal of the batch itself escapes.

        Raises:
            BatchTooLargeError: the far side refuses this batch's size (the caller splits it).
            BatchRefusedError: the far side cannot read it (the caller re-encodes or gives up on this batch).
        """
        attempt = 0
        cls = header.data_class
        while True:
            async with self.gate.slot(PRIORITY[cls]):
                await self.bucket.take(len(body))
                try:
                    ack = await self.sink.send(header, records, body)
                except (BatchTooLargeError, BatchRefusedError):
                    self._succeeded()  # the far side answered: the uplink is up
                    raise
                except SinkError as e:
                    self._failed(cls, e)
                else:
                    self._succeeded()
                    return ack
            await self._backoff(attempt)
            attempt += 1

    async def _backoff(self, attempt: int) -> None:
        """Sleep before a retry; cut short when another batch gets through (so priorities apply at once)."""
        recovered = self._recovered
        delay = backoff_delay(attempt, self.settings.retry_initial, self.settings.retry_max)
        try:
            await asyncio.wait_for(recovered.wait(), delay)
        except TimeoutError:
            pass

    def _failed(self, cls: DataClass, e: SinkError) -> None:
        self.failures += 1
        self.telemetry.retries.labels(cls.value).inc()
        if self.up and self.failures >= self.settings.outage_after:
            self.up = False
            self.telemetry.uplink_up.set(0)
            log.warning("uplink down: uploads are buffered locally", extra={"error": str(e)[:300]})
        else:
            log.debug("upload attempt failed", extra={"class": cls.value, "error": str(e)[:300]})

    def _succeeded(self) -> None:
        if self.failures:
            self._recovered.set()  # wake every class in backoff; they queue at the gate by priority
            self._recovered = asyncio.Event()
        self.failures = 0
        if not self.up:
            self.up = True
            self.telemetry.uplink_up.set(1)
            log.info("uplink restored: draining the backlog")
