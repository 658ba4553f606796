"""Gaps in the delivered sequence: still-stored messages are uploaded in place, evicted ones counted as drops.

With an ack-all consumer a later ack covers every earlier message, so a message whose delivery was lost (e.g. in
a reconnect) must not be skipped: the outbox reads it from the stream by sequence. These tests drive the
outbox's record step with deliveries removed, against a real nats-server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.sync.messaging import OutboxConnection
from edgewatch.sync.outbox import ClassOutbox
from edgewatch.sync.sinks import make_sink
from edgewatch.sync.streams import consumer_name, ensure_streams
from edgewatch.sync.telemetry import SyncTelemetry
from edgewatch.sync.uplink import Uplink
from edgewatch.syncwire.batch import DataClass
from tests.support.nats_server import NatsServer
from tests.sync.loadgen import message
from tests.sync.support import sync_settings


@pytest.fixture
async def pulled(nats_server: NatsServer, bus: NatsBus, tmp_path: Path) -> AsyncIterator[tuple[ClassOutbox, list[Msg]]]:
    """A score outbox on a real server, and its first pull: 10 messages of pump-1, stream sequences 1..10."""
    settings = sync_settings(nats_server, "http://127.0.0.1:9", tmp_path)
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
    try:
        await outbox.open()
        for seq in range(1, 11):
            subject, payload, headers = message(DataClass.SCORE, "pump-1", seq)
            await bus.js.publish(subject, payload, headers=headers)
        msgs = await outbox._next_batch()
        assert len(msgs) == 10
        yield outbox, msgs
    finally:
        await conn.close()


async def test_a_lost_delivery_is_read_from_the_stream_and_uploaded_in_order(
    pulled: tuple[ClassOutbox, list[Msg]],
) -> None:
    outbox, msgs = pulled
    delivered = [m for i, m in enumerate(msgs) if i not in (2, 3, 4)]  # deliveries of seq 3..5 lost
    records = await outbox._records(delivered)
    assert [r.stream_seq for r in records] == list(range(1, 11))
    assert [r.seq for r in records] == list(range(1, 11))  # the producer's per-device sequence header too
    assert [r.payload for r in records[2:5]] == [m.data for m in msgs[2:5]]
    assert outbox.telemetry.progress[DataClass.SCORE].dropped_messages == 0
    # A later redelivery of the filled messages is recognised and skipped.
    assert await outbox._records(msgs[2:5]) == []


async def test_evicted_messages_in_a_gap_are_counted_as_drops_and_stored_ones_kept(
    pulled: tuple[ClassOutbox, list[Msg]], bus: NatsBus
) -> None:
    outbox, msgs = pulled
    for seq in (3, 5):
        await bus.js.delete_msg(outbox.stream, seq)  # gone from the store, as an eviction leaves it
    records = await outbox._records([m for i, m in enumerate(msgs) if i not in (2, 3, 4)])
    assert [r.stream_seq for r in records] == [1, 2, 4, 6, 7, 8, 9, 10]
    assert outbox.telemetry.progress[DataClass.SCORE].dropped_messages == 2


async def test_an_acknowledged_batch_is_purged_from_the_stream(
    pulled: tuple[ClassOutbox, list[Msg]], bus: NatsBus
) -> None:
    outbox, msgs = pulled
    assert await outbox._ack_batch(msgs[:6])
    info = await bus.js.stream_info(outbox.stream)
    assert (info.state.messages, info.state.first_seq) == (4, 7)
    consumer = await bus.js.consumer_info(outbox.stream, consumer_name(outbox.settings, outbox.cls))
    assert consumer.ack_floor.stream_seq == 6 and consumer.num_ack_pending == 4
