"""Uplink pieces: the priority gate, the bandwidth cap, backoff bounds and outage detection through a real sink."""

from __future__ import annotations

import asyncio
import time

import pytest

from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.sync.config import SinkSection, SyncSection
from edgewatch.sync.sinks.receiver import ReceiverSink
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import PriorityGate, TokenBucket, Uplink, backoff_delay
from edgewatch.syncwire.batch import BatchHeader, DataClass
from tests.support.ports import free_port
from tests.support.waiting import wait_until


async def test_gate_grants_waiters_by_priority_then_arrival() -> None:
    gate = PriorityGate()
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with gate.slot(3):
            await release.wait()

    async def waiter(name: str, prio: int) -> None:
        async with gate.slot(prio):
            order.append(name)

    h = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(waiter(n, p)) for n, p in (("event", 3), ("score", 1), ("alert", 0), ("score2", 1))]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(h, *tasks)
    assert order == ["alert", "score", "score2", "event"]


async def test_gate_survives_a_cancelled_waiter() -> None:
    gate = PriorityGate()
    async with gate.slot(0):
        w = asyncio.create_task(_enter(gate))
        await asyncio.sleep(0)
        w.cancel()
    async with asyncio.timeout(2):
        async with gate.slot(0):
            pass


async def _enter(gate: PriorityGate) -> None:
    async with gate.slot(1):
        pass


async def test_bandwidth_cap_holds_the_average_rate() -> None:
    bucket = TokenBucket(kbps=80)  # 10 000 bytes/s, one second of burst
    start = time.monotonic()
    for _ in range(13):
        await bucket.take(1000)
    assert time.monotonic() - start >= 0.25  # 13 000 bytes: 10 000 of burst + 3 000 at 10 kB/s


@pytest.mark.parametrize("attempt", [0, 3, 10, 60])
def test_backoff_is_jittered_and_capped(attempt: int) -> None:
    delays = [backoff_delay(attempt, 0.2, 30.0) for _ in range(200)]
    assert all(0 <= d <= min(30.0, 0.2 * 2**attempt) for d in delays)
    assert len(set(delays)) > 1


async def test_uplink_reports_an_outage_and_keeps_retrying_until_the_cloud_answers() -> None:
    metrics = ServiceMetrics("t")
    telemetry = SyncTelemetry(metrics, {c: c.value for c in DataClass})
    sink = ReceiverSink(SinkSection(url=f"http://127.0.0.1:{free_port()}", timeout=0.5))
    await sink.start()
    uplink = Uplink(sink, SyncSection(retry_initial=0.01, retry_max=0.05, outage_after=2), telemetry)
    header = BatchHeader(batch_id="b", gateway="g", data_class=DataClass.ALERT, stream="S")
    task = asyncio.create_task(uplink.deliver(header, [], b""))
    try:
        await wait_until(lambda: not uplink.up, 10, message="uplink reported down")
        assert not task.done()  # still retrying: a failed upload is never given up
        assert b"edgewatch_sync_uplink_up 0.0" in metrics.render()
    finally:
        task.cancel()
        await sink.close()
