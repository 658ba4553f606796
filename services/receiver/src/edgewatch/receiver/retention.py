"""Retention: a periodic sweep deleting what the receiver got more than ``Receiver.RetentionDays`` ago."""

from __future__ import annotations

import asyncio
import logging
import time

from edgewatch.common.bus.cancel import cancel_and_wait
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.receiver.config import ReceiverSection
from edgewatch.receiver.store import RecordStore

__all__ = ["RetentionSweeper"]

log = logging.getLogger(__name__)

_DAY_NS = 86_400 * 1_000_000_000


class RetentionSweeper:
    """Sweeps at start and every ``Receiver.RetentionInterval`` seconds; does nothing when RetentionDays is 0.

    Age is by arrival at the receiver (``received_ns``), not by the data's origin: data that arrives late after
    a long outage is kept for the full period, and a batch re-sent within it is still recognised as a duplicate.
    """

    def __init__(self, store: RecordStore, settings: ReceiverSection, metrics: ServiceMetrics) -> None:
        self.store = store
        self.settings = settings
        self.deleted = metrics.counter("edgewatch_receiver_retention_deleted_records", "Records deleted by retention")
        self._task: asyncio.Task[None] | None = None

    async def sweep(self, now_ns: int | None = None) -> int:
        """Delete everything received before ``now - RetentionDays`` (no-op at 0); return the records deleted."""
        days = self.settings.retention_days
        if days <= 0:
            return 0
        cutoff = (now_ns if now_ns is not None else time.time_ns()) - int(days * _DAY_NS)
        n = await self.store.prune(cutoff)
        self.deleted.inc(n)
        if n:
            log.info("retention deleted records", extra={"count": n, "days": days})
        return n

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("retention sweep failed; retrying at the next interval")
            await asyncio.sleep(self.settings.retention_interval)

    async def start(self) -> None:
        """Start sweeping (only when a retention is configured)."""
        if self.settings.retention_days > 0:
            self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        """Stop sweeping."""
        await cancel_and_wait([self._task])
        self._task = None
