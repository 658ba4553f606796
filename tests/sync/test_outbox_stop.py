"""Stopping an outbox always stops it, even when the batch in flight fails as it is cut short.

A child of the outbox's TaskGroup that fails while the outbox task is being cancelled makes the group raise that
error instead of ``CancelledError`` (CPython gh-95704); the outbox must not take it for a bus error and upload
on, or sync's stop() (``ClassOutbox.stop`` and a cancel) waits forever. The sink here is a stand-in for a client
library that turns the cancellation of a request into an ``OSError`` as it closes its socket; the bus and the
stream are a real nats-server's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from edgewatch.common.bus import NatsBus
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.sync.messaging import OutboxConnection
from edgewatch.sync.outbox import ClassOutbox
from edgewatch.sync.streams import ensure_streams
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import Uplink
from edgewatch.syncwire.batch import BatchAck, BatchHeader, DataClass, RecordRow
from tests.support.nats_server import NatsServer
from tests.sync.loadgen import message
from tests.sync.support import sync_settings


class CutShortSink:
    """Holds every batch until cancelled, then fails with OSError (as a socket closed mid-request would)."""

    name = "cut-short"

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.sends = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, header: BatchHeader, records: list[RecordRow], body: bytes) -> BatchAck:
        self.sends += 1
        self.sending.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise OSError("connection closed while the request was cancelled") from None
        raise AssertionError("unreachable")


async def test_cancelling_the_outbox_while_its_batch_fails_stops_it(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    settings = sync_settings(nats_server, "http://127.0.0.1:9", tmp_path)
    await ensure_streams(bus.js, settings)
    telemetry = SyncTelemetry(ServiceMetrics("edgewatch-sync-test"), {c: c.value for c in DataClass})
    conn = OutboxConnection(settings.message_bus, "stop-test")
    await conn.open()
    sink = CutShortSink()
    outbox = ClassOutbox(
        DataClass.SCORE,
        lambda: conn.nc,
        lambda: conn.nc.jetstream(),
        settings,
        Uplink(sink, settings.sync, telemetry),
        telemetry,
    )
    task = asyncio.create_task(outbox.run())
    try:
        subject, payload, headers = message(DataClass.SCORE, "pump-1", 1)
        await bus.js.publish(subject, payload, headers=headers)
        await asyncio.wait_for(sink.sending.wait(), 20)
        outbox.stop()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        assert task in done, "the outbox kept running after it was cancelled"
        sends = sink.sends
        await asyncio.sleep(0.5)
        assert sink.sends == sends  # nothing more was attempted after the stop
    finally:
        # a regression must fail the test, not hang it: cancel once more, close the outbox's connection, and wait
        # a bounded time (a runaway loop is left to the event loop's close)
        task.cancel()
        await conn.close()
        await asyncio.wait({task}, timeout=5)
