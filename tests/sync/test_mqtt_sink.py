"""The MQTT sink against a real broker (Debian's mosquitto, started here): topics, payload bytes, the record
header in MQTT 5 user properties, and a batch the broker refuses (PUBACK reason code) kept until it accepts it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgewatch.common.bus import NatsBus
from edgewatch.common.contracts.eventcodec import CONTENT_CBOR
from edgewatch.sync.app import build_app
from edgewatch.sync.config import SyncSettings
from edgewatch.sync.sinks.mqtt import (
    CLASS_PROPERTY,
    DEVICE_PROPERTY,
    GATEWAY_PROPERTY,
    KEY_PROPERTY,
    SEQ_PROPERTY,
    STREAM_SEQ_PROPERTY,
    SUBJECT_PROPERTY,
)
from edgewatch.syncwire.batch import DataClass
from tests.support.mosquitto import Mosquitto
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until
from tests.sync.loadgen import message
from tests.sync.mqttconsumer import MqttConsumer
from tests.sync.support import sync_settings


def mqtt_sync_settings(server: NatsServer, broker_url: str, tmp: Path, **sync: Any) -> SyncSettings:
    """Sync on ``server`` with the MQTT sink on ``broker_url`` (fast retries)."""
    base = sync_settings(server, broker_url, tmp, **sync).model_dump(by_alias=True)
    base["Sink"] = {"Kind": "mqtt", "Url": broker_url, "Timeout": 5.0}
    return SyncSettings.model_validate(base)


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    b = Mosquitto()
    b.start()
    try:
        yield b
    finally:
        b.cleanup()


async def _consumer(port: int) -> MqttConsumer:
    c = MqttConsumer(port)
    c.start()
    await wait_until(c.subscribed.is_set, 10, message="consumer subscribed")
    return c


async def test_mqtt_sink_publishes_each_record_with_its_header_as_user_properties(
    nats_server: NatsServer, bus: NatsBus, broker: Mosquitto, tmp_path: Path
) -> None:
    consumer = await _consumer(broker.port)
    sent: dict[tuple[str, str, int], tuple[str, bytes]] = {}
    try:
        async with build_app(mqtt_sync_settings(nats_server, broker.url, tmp_path)):
            for cls in DataClass:
                for seq in (1, 2, 3):
                    subject, payload, headers = message(cls, "pump-1", seq)
                    if cls is DataClass.EVENT and seq == 2:
                        headers["Content-Type"] = CONTENT_CBOR  # a content type other than the class default
                    await bus.publish(subject, payload, headers)
                    sent[(cls.value, "pump-1", seq)] = (subject, payload)
            await bus.nc.flush()
            await wait_until(lambda: len(consumer.snapshot()) >= 12, 20, message="12 records over MQTT")
    finally:
        consumer.stop()
    got = consumer.unique()
    assert len(got) == 12
    for d in got:
        cls, seq = d.props[CLASS_PROPERTY], int(d.props[SEQ_PROPERTY])
        subject, payload = sent[(cls, "pump-1", seq)]
        assert d.topic == f"edgewatch/gw-test/{cls}/pump-1"
        assert d.payload == payload  # the buffered bytes, untouched
        assert d.props[SUBJECT_PROPERTY] == subject
        assert d.props[DEVICE_PROPERTY] == "pump-1" and d.props[GATEWAY_PROPERTY] == "gw-test"
        assert d.props[KEY_PROPERTY].startswith(f"gw-test/EW_SYNC_{cls.upper()}@")
        assert d.props[KEY_PROPERTY].endswith(f"/{d.props[STREAM_SEQ_PROPERTY]}")
        expected_ct = {"event": CONTENT_CBOR if seq == 2 else "application/json"}.get(cls, "application/msgpack")
        assert d.content_type == expected_ct
    per_class = {
        c.value: [int(d.props[SEQ_PROPERTY]) for d in got if d.props[CLASS_PROPERTY] == c.value] for c in DataClass
    }
    assert per_class == {c.value: [1, 2, 3] for c in DataClass}


async def test_mqtt_sink_keeps_a_batch_the_broker_refuses_until_it_is_accepted(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    acl = tmp_path / "acl"
    acl.write_text("topic read edgewatch/#\ntopic write edgewatch/gw-test/event/#\n")  # alerts are refused
    broker = Mosquitto(extra=[f"acl_file {acl}"])
    broker.start()
    consumer = await _consumer(broker.port)
    try:
        host = build_app(mqtt_sync_settings(nats_server, broker.url, tmp_path))
        async with host, httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://sync") as api:
            for seq in range(1, 6):
                subject, payload, headers = message(DataClass.ALERT, "pump-1", seq)
                await bus.publish(subject, payload, headers)
            await bus.nc.flush()

            async def refused_and_retried() -> bool:
                body = (await api.get("/api/v3/sync/status")).json()
                metrics = (await api.get("/metrics")).text
                m = re.search(r'^edgewatch_sync_upload_retries_total\{class="alert"\} ([0-9.]+)$', metrics, re.M)
                return bool(m and float(m.group(1)) >= 2) and body["classes"]["alert"]["backlogMessages"] == 5

            await wait_until(refused_and_retried, 15, message="alert batch refused (PUBACK 0x87) and kept")
            assert consumer.snapshot() == []
            acl.write_text("topic readwrite edgewatch/#\n")
            broker.reload()

            async def drained() -> bool:
                body = (await api.get("/api/v3/sync/status")).json()
                return bool(body["classes"]["alert"]["caughtUp"])

            await wait_until(drained, 20, message="alerts delivered once the broker accepts them")
            await wait_until(lambda: len(consumer.unique()) == 5, 10, message="5 alerts at the consumer")
        assert [int(d.props[SEQ_PROPERTY]) for d in consumer.unique()] == [1, 2, 3, 4, 5]
    finally:
        consumer.stop()
        broker.cleanup()
