"""NATS-to-NATS sink: the edge nats-server holds a leafnode link to a "cloud" nats-server; sync publishes each
record into the cloud's JetStream domain, deduplicated by Nats-Msg-Id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.sync.app import build_app
from edgewatch.sync.config import SinkSection, SyncSettings
from edgewatch.sync.sinks.leafnode import LeafnodeSink
from edgewatch.syncwire.batch import MSG_ID_HEADER, SEQ_HEADER, BatchHeader, DataClass, RecordRow
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until
from tests.sync.loadgen import message
from tests.sync.support import sync_settings


@pytest.fixture
def cloud_and_edge() -> Iterator[tuple[NatsServer, NatsServer]]:
    leaf_port = free_port()
    hub = NatsServer(jetstream_domain="cloud", extra_config=f'leafnodes {{ listen: "127.0.0.1:{leaf_port}" }}')
    edge = NatsServer(
        jetstream_domain="edge",
        extra_config=f'leafnodes {{ remotes: [ {{ url: "nats-leaf://127.0.0.1:{leaf_port}" }} ] }}',
    )
    hub.start()
    edge.start()
    try:
        yield hub, edge
    finally:
        edge.cleanup()
        hub.cleanup()


def _nats_sink(settings: SyncSettings) -> SyncSettings:
    data = settings.model_dump(by_alias=True)
    data["Sink"] = {"Kind": "nats", "NatsDomain": "cloud", "Timeout": 3.0}
    return SyncSettings.model_validate(data)


async def test_leafnode_sink_lands_every_record_in_the_cloud_stream_in_order(
    cloud_and_edge: tuple[NatsServer, NatsServer], tmp_path: Path
) -> None:
    hub, edge = cloud_and_edge
    bus = NatsBus(bus_settings(edge), "test-client", ServiceMetrics("test-client"))
    await bus.connect()
    host = build_app(_nats_sink(sync_settings(edge, "", tmp_path, batch_max_msgs=40)))
    cloud = await nats.connect(hub.url)
    try:
        async with host:
            for seq in range(1, 101):
                for cls in (DataClass.EVENT, DataClass.ALERT):
                    await bus.publish(*message(cls, "pump-7", seq))
            await bus.nc.flush()
            cjs = cloud.jetstream()

            async def landed() -> bool:
                try:
                    return (await cjs.stream_info("EDGEWATCH_CLOUD")).state.messages == 200
                except nats.js.errors.NotFoundError:
                    return False

            await wait_until(landed, 30, message="200 records in the cloud stream")
        sub = await cjs.pull_subscribe("edgewatch.cloud.alert.pump-7", stream="EDGEWATCH_CLOUD")
        msgs = await sub.fetch(100, timeout=5)
        assert [int(m.headers[SEQ_HEADER]) for m in msgs] == list(range(1, 101))
        assert msgs[0].headers[MSG_ID_HEADER].startswith("gw-test/EW_SYNC_ALERT@")

        # Re-sending a batch (a crash between the cloud's ack and the local ack) stores nothing twice.
        sink = LeafnodeSink(SinkSection(kind="nats", nats_domain="cloud", timeout=3.0), lambda: bus.nc)
        header = BatchHeader(batch_id="b1", gateway="gw-test", data_class=DataClass.ALERT, stream="EW_SYNC_ALERT")
        rows = [
            RecordRow(m.headers[MSG_ID_HEADER], "pump-7", i + 1, m.subject, i + 1, 1, "", m.data)
            for i, m in enumerate(msgs[:5])
        ]
        ack = await sink.send(header, rows, b"")
        assert (ack.accepted, ack.duplicates) == (0, 5)
        assert (await cjs.stream_info("EDGEWATCH_CLOUD")).state.messages == 200
    finally:
        await cloud.close()
        await bus.drain()
