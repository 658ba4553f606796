"""Class streams: idempotent provisioning, limits updated in place, the uploader resuming at the unacked head."""

from __future__ import annotations

import pytest
from nats.js.api import RetentionPolicy

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.errors import ProvisioningError
from edgewatch.common.contracts import topics
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.streams import class_subjects, ensure_streams, recreate_consumer, stream_name
from edgewatch.syncwire.batch import DataClass
from tests.support.nats_server import NatsServer


async def test_streams_are_created_once_and_their_limits_follow_the_settings(
    nats_server: NatsServer, bus: NatsBus
) -> None:
    settings = SyncSettings()
    names = await ensure_streams(bus.js, settings)
    await ensure_streams(bus.js, settings)
    info = await bus.js.stream_info(names[DataClass.ALERT])
    assert info.config.discard == "new" and info.config.retention == "limits"
    bigger = SyncSettings.model_validate({"Buffer": {"Event": {"MaxBytes": 123_456_789}}})
    await ensure_streams(bus.js, bigger)
    assert (await bus.js.stream_info(names[DataClass.EVENT])).config.max_bytes == 123_456_789


async def test_recreated_uploader_reports_the_previous_ack_floor(nats_server: NatsServer, bus: NatsBus) -> None:
    settings = SyncSettings()
    names = await ensure_streams(bus.js, settings)
    for i in range(5):
        await bus.js.publish("edgewatch.inference.score.pump-1", str(i).encode())
    assert await recreate_consumer(bus.js, settings, DataClass.SCORE) == 0
    sub = await bus.js.pull_subscribe_bind(durable=f"{names[DataClass.SCORE]}_UPLOADER", stream=names[DataClass.SCORE])
    msgs = await sub.fetch(3, timeout=2)
    for m in msgs:
        await m.ack_sync()
    await sub.unsubscribe()
    assert await recreate_consumer(bus.js, settings, DataClass.SCORE) == 3
    info = await bus.js.stream_info(names[DataClass.SCORE])
    assert (info.state.messages, info.state.first_seq) == (2, 4)


async def test_an_empty_work_queue_from_an_earlier_sync_is_replaced_a_full_one_refused(
    nats_server: NatsServer, bus: NatsBus
) -> None:
    settings = SyncSettings()
    for cls in (DataClass.SCORE, DataClass.EVENT):
        subjects = class_subjects(cls)
        await bus.js.add_stream(
            name=stream_name(settings, cls), subjects=subjects, retention=RetentionPolicy.WORK_QUEUE
        )
    for _ in range(2):  # the event stream still holds unsent messages, the score stream is empty
        await bus.js.publish(topics.device_event("edgewatch-ingest", "pump", "pump-1", "all"), b"unsent")
    with pytest.raises(ProvisioningError, match="holds 2 unsent messages"):
        await ensure_streams(bus.js, settings)
    score = await bus.js.stream_info(stream_name(settings, DataClass.SCORE))
    assert score.config.retention == "limits"
    event = await bus.js.stream_info(stream_name(settings, DataClass.EVENT))
    assert event.config.retention == "workqueue" and event.state.messages == 2
