"""Counting oracle through the MQTT sink: load on 12 (class, device) streams while the broker (a real mosquitto)
is stopped and restarted twice; the cloud consumer (persistent session, QoS 1, dedup by ``Edgewatch-Key``) must
hold exactly the expected messages: none lost, none under two keys, in order per device.

Real processes: ``python -m edgewatch.sync`` with ``Sink.Kind: mqtt`` and a real nats-server; the consumer is a
paho-mqtt client in the test. "Expected" is every message JetStream acknowledged to the load generator.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from pathlib import Path

import pytest

from edgewatch.sync.sinks.mqtt import CLASS_PROPERTY, DEVICE_PROPERTY, KEY_PROPERTY, SEQ_PROPERTY
from tests.support.mosquitto import Mosquitto
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until
from tests.sync.mqttconsumer import MqttConsumer
from tests.sync.procs import oracle_sync
from tests.sync.test_oracle import SCALE, LoadGen


@pytest.mark.timeout(int(120 * SCALE))
async def test_mqtt_oracle_expected_equals_received_through_two_broker_restarts(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    broker = Mosquitto()
    broker.start()
    consumer = MqttConsumer(broker.port)
    consumer.start()
    sync_port = free_port()
    sync = oracle_sync(nats_server.url, tmp_path, sync_port, kind="mqtt", url=broker.url)
    gen = LoadGen(nats_server.url)
    load = None
    restarts = 0
    try:
        await wait_until(consumer.subscribed.is_set, 10, message="consumer subscribed")
        await asyncio.to_thread(sync.start)
        load = asyncio.create_task(gen.run())
        total = lambda: sum(gen.acked.values())  # noqa: E731

        async def progressed(n: int) -> None:
            target = total() + int(n * SCALE)
            await wait_until(lambda: total() >= target, 30 * SCALE, message=f"{n} more messages published")

        await progressed(500)
        for _ in range(2):  # the broker goes away under load (SIGTERM) and comes back on the same port and store
            await asyncio.to_thread(broker.stop)
            await progressed(600)
            await asyncio.to_thread(broker.start)
            restarts += 1
            await progressed(500)
        gen.stop()
        await load
        expected = dict(gen.acked)
        n_expected = sum(expected.values())
        await wait_until(
            lambda: len(consumer.unique()) >= n_expected, 60 * SCALE, interval=0.5, message=f"{n_expected} records"
        )
        deliveries = consumer.snapshot()
        unique = consumer.unique()
        per: dict[tuple[str, str], list[int]] = defaultdict(list)
        for d in unique:
            per[(d.props[CLASS_PROPERTY], d.props[DEVICE_PROPERTY])].append(int(d.props[SEQ_PROPERTY]))
        records = [(cls, dev, seq) for (cls, dev), seqs in per.items() for seq in seqs]
        duplicates = len(records) - len(set(records))  # one message under two keys: the key would not dedup it
        misordered = sum(1 for seqs in per.values() for a, b in itertools.pairwise(seqs) if b <= a)
        first = {d.props[KEY_PROPERTY]: d.payload for d in unique}
        redelivered_differently = sum(1 for d in deliveries if first[d.props[KEY_PROPERTY]] != d.payload)
        report = {
            "expected": n_expected,
            "received": len(unique),
            "duplicates": duplicates,
            "misordered": misordered,
            "brokerRestarts": restarts,
            "deliveries": len(deliveries),
            "redeliveriesDroppedByKey": len(deliveries) - len(unique),
            "consumerConnects": consumer.connects,
            "publishRetries": gen.retries,
        }
        print("MQTT-ORACLE", json.dumps(report))
        assert duplicates == 0 and redelivered_differently == 0
        assert misordered == 0
        for key, last in expected.items():
            assert per[key] == list(range(1, last + 1)), key
        assert len(unique) == n_expected
    finally:
        if load is not None and not load.done():
            gen.stop()
            load.cancel()
        sync.stop()
        consumer.stop()
        broker.cleanup()
