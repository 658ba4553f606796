"""Gaps in the delivered sequence: still-stored messages are uploaded in place, evicted ones counted as drops.

With an ack-all consumer a later ack covers every earlier message, so a message whose delivery was lost (e.g. in
a reconnect) must not be skipped: the outbox reads it from the stream by sequence. These tests drive the
outbox's record step with deliveries removed, against a real nats-server.
"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts.sync import DataClass
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.sync.connection import OutboxConnection
from edgewatch.sync.outbox import ClassOutbox
from edgewatch.sync.service import make_sink
from edgewatch.sync.streams import ensure_streams
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import Uplink
from tests.support.nats_server import NatsServer
from tests.sync.loadgen import message
from tests.sync.support import sync_settings


async def _outbox(nats_server: NatsServer, bus: NatsBus, tmp: Path) -> tuple[ClassOutbox, OutboxConnection]:
    settings = sync_settings(nats_server, "http://127.0.0.1:9", tmp)
    await ensure_streams(bus.js, settings)
    telemetry = SyncTelemetry(ServiceMetrics("edgewatch-sync-test"), {c: c.value for c in DataClass})
    conn = OutboxConnection(settings.message_bus, "gap-test")
    await conn.open()
    outbox = ClassOutbox(
        DataClass.SCORE,
        lambda: conn.nc,
        lambda: conn.nc.jetstream(),
        settings,
        Uplink(make_sink(settings, bus), settings.sync, telemetry),
        telemetry,
    )
    await outbox.open()
    return outbox, conn


async def _publish(bus: NatsBus, n: int) -> None:
    for seq in range(1, n + 1):
        subject, payload, headers = message(DataClass.SCORE, "pump-1", seq)
        await bus.js.publish(subject, payload, headers=headers)


async def test_a_lost_delivery_is_read_from_the_stream_and_uploaded_in_order(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    outbox, conn = await _outbox(nats_server, bus, tmp_path)
    try:
        await _publish(bus, 10)
        msgs = await outbox._next_batch()
        assert len(msgs) == 10
        delivered = [m for i, m in enumerate(msgs) if i not in (2, 3, 4)]  # deliveries of seq 3..5 lost
        records = await outbox._records(delivered)
        assert [r.stream_seq for r in records] == list(range(1, 11))
        assert [r.seq for r in records] == list(range(1, 11))  # the producer's per-device sequence header too
        assert [r.payload for r in records[2:5]] == [m.data for m in msgs[2:5]]
        assert outbox.telemetry.progress[DataClass.SCORE].dropped_messages == 0
        # A later redelivery of the filled messages is recognised and skipped.
        assert await outbox._records(msgs[2:5]) == []
    finally:
        await conn.close()


async def test_evicted_messages_in_a_gap_are_counted_as_drops_and_stored_ones_kept(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    outbox, conn = await _outbox(nats_server, bus, tmp_path)
    try:
        await _publish(bus, 10)
        msgs = await outbox._next_batch()
        for seq in (3, 5):
            await bus.js.delete_msg(outbox.stream, seq)  # gone from the store, as an eviction leaves it
        records = await outbox._records([m for i, m in enumerate(msgs) if i not in (2, 3, 4)])
        assert [r.stream_seq for r in records] == [1, 2, 4, 6, 7, 8, 9, 10]
        assert outbox.telemetry.progress[DataClass.SCORE].dropped_messages == 2
    finally:
        await conn.close()


async def test_an_acknowledged_batch_is_purged_from_the_stream(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    outbox, conn = await _outbox(nats_server, bus, tmp_path)
    try:
        await _publish(bus, 10)
        msgs = await outbox._next_batch()
        assert await outbox._ack_batch(msgs[:6])
        info = await bus.js.stream_info(outbox.stream)
        assert (info.state.messages, info.state.first_seq) == (4, 7)
        consumer = await bus.js.consumer_info(outbox.stream, f"{outbox.stream}_UPLOADER")
        assert consumer.ack_floor.stream_seq == 6 and consumer.num_ack_pending == 4
    finally:
        await conn.close()
