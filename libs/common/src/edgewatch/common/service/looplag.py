"""Event-loop lag and hold: how late the loop ran a timer, and how much of that the loop itself was busy.

A task sleeps ``interval`` seconds again and again. What it wakes up late by is the lag
(``edgewatch_event_loop_lag_seconds``): a callback that held the loop (a parse, a validation, a long synchronous
step), or the process waiting for a CPU. The hold (``edgewatch_event_loop_hold_seconds``) is the lag capped by
the CPU time the loop's thread used meanwhile: on a busy machine, time the process was not scheduled is not
counted, so the hold is what this service's own work made everything else on its loop (commands, pings, bus
messages) wait.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import Histogram

from edgewatch.common.service.metrics import ServiceMetrics

__all__ = ["LAG_BUCKETS", "LoopLagMonitor"]

LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


class LoopLagMonitor:
    """Samples the loop every ``interval`` seconds while :meth:`run` runs."""

    def __init__(self, metrics: ServiceMetrics, interval: float = 0.01) -> None:
        self.interval = interval
        self.lag = Histogram(
            "edgewatch_event_loop_lag_seconds",
            "How late the event loop ran a timer",
            buckets=LAG_BUCKETS,
            registry=metrics.registry,
        )
        self.hold = Histogram(
            "edgewatch_event_loop_hold_seconds",
            "Timer lateness capped by the loop thread's CPU time meanwhile (the loop busy with this service's work)",
            buckets=LAG_BUCKETS,
            registry=metrics.registry,
        )

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            due = time.perf_counter() + self.interval
            cpu = time.thread_time()
            await asyncio.sleep(self.interval)
            late = max(0.0, time.perf_counter() - due)
            self.lag.observe(late)
            self.hold.observe(min(late, time.thread_time() - cpu))
