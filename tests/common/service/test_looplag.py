"""Loop lag and hold: a callback that computes on the loop counts as hold; a stall without CPU use (the process
not scheduled, here a blocking sleep) counts as lag only."""

from __future__ import annotations

import asyncio
import time

from edgewatch.common.service.looplag import LoopLagMonitor
from edgewatch.common.service.metrics import ServiceMetrics


def _over(metrics: ServiceMetrics, name: str, seconds: float) -> float:
    """Samples of ``name`` above ``seconds``."""
    reg = metrics.registry
    total = reg.get_sample_value(f"{name}_count") or 0.0
    below = reg.get_sample_value(f"{name}_bucket", {"le": str(seconds)}) or 0.0
    return total - below


async def _with_monitor(block: object) -> ServiceMetrics:
    metrics = ServiceMetrics("svc")
    task = asyncio.create_task(LoopLagMonitor(metrics, interval=0.005).run())
    await asyncio.sleep(0.05)
    block()  # type: ignore[operator]
    await asyncio.sleep(0.05)
    task.cancel()
    return metrics


def _spin() -> None:
    """Compute on the loop for 0.15 s of this thread's CPU time (wall time alone would depend on machine load)."""
    end = time.thread_time() + 0.15
    while time.thread_time() < end:
        pass


async def test_computing_on_the_loop_is_a_hold() -> None:
    metrics = await _with_monitor(_spin)
    assert _over(metrics, "edgewatch_event_loop_lag_seconds", 0.1) == 1
    assert _over(metrics, "edgewatch_event_loop_hold_seconds", 0.1) == 1


async def test_a_stall_without_cpu_is_lag_but_no_hold() -> None:
    metrics = await _with_monitor(lambda: time.sleep(0.15))
    assert _over(metrics, "edgewatch_event_loop_lag_seconds", 0.1) == 1
    assert _over(metrics, "edgewatch_event_loop_hold_seconds", 0.02) == 0
