"""kill -9 of nats-server and a restart on the same port and store: the bus rejoins without a service restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, StorageType, StreamConfig

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.jetstream import ensure_kv, ensure_stream
from edgewatch.common.bus.pullconsumer import DurablePullConsumer
from edgewatch.common.contracts.codec import pack, unpack
from edgewatch.common.service.metrics import ServiceMetrics
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until


@pytest.fixture
async def producer(nats_server: NatsServer) -> AsyncIterator[NatsBus]:
    """A second service's bus on the same server."""
    b = NatsBus(bus_settings(nats_server), "producer", ServiceMetrics("producer"))
    await b.connect()
    try:
        yield b
    finally:
        await b.drain()


async def _kill_and_restart(server: NatsServer, *buses: NatsBus) -> None:
    server.kill()
    await wait_until(lambda: not any(b.connected for b in buses), message="buses notice the server is gone")
    await asyncio.to_thread(server.start)
    await wait_until(lambda: all(b.connected for b in buses), timeout=20, message="buses reconnect")
    for b in buses:
        await b.nc.flush(timeout=5)


async def test_core_subscription_resumes_and_publishes_flow_after_kill_9(
    nats_server: NatsServer, bus: NatsBus, producer: NatsBus
) -> None:
    got: list[int] = []

    async def handler(msg: Msg) -> None:
        got.append(unpack(msg.data)["n"])

    await bus.subscribe("edgewatch.features.vector.>", handler)
    await bus.nc.flush()
    await producer.publish("edgewatch.features.vector.pump-1", pack({"n": 0}))
    await wait_until(lambda: got == [0])
    await _kill_and_restart(nats_server, bus, producer)
    assert bus.metrics.bus_reconnects._value.get() >= 1
    for n in range(1, 11):
        await producer.publish("edgewatch.features.vector.pump-1", pack({"n": n}))
    await wait_until(lambda: got == list(range(11)), message="flow resumed after restart")


async def test_jetstream_pull_consumer_resumes_and_loses_nothing_after_kill_9(
    nats_server: NatsServer, bus: NatsBus, producer: NatsBus
) -> None:
    stream = StreamConfig(name="EVENTS", subjects=["ev.>"], storage=StorageType.FILE)
    await ensure_stream(producer.js, stream)
    seen: set[int] = set()
    gate = asyncio.Event()

    async def handler(msg: Msg) -> None:
        n = unpack(msg.data)["n"]
        if n >= 5:
            await gate.wait()  # hold the first batch unacked across the kill
        seen.add(n)

    pc = DurablePullConsumer(
        bus,
        stream,
        ConsumerConfig(durable_name="sync", ack_wait=1),
        handler,
        batch=4,
        fetch_timeout=0.3,
        retry_delay=0.1,
    )
    pc.start()
    try:
        for n in range(20):
            await producer.js.publish("ev.a", pack({"n": n}))  # stored and acked by the server
        await wait_until(lambda: {0, 1, 2, 3, 4} <= seen)
        await _kill_and_restart(nats_server, bus, producer)
        gate.set()
        for n in range(20, 30):
            ack = await producer.js.publish("ev.a", pack({"n": n}), timeout=5)
            assert ack.stream == "EVENTS"
        await wait_until(lambda: seen == set(range(30)), timeout=30, message="every stored message consumed")
    finally:
        await pc.stop()
    info = await bus.js.stream_info("EVENTS")
    assert info.state.messages == 30  # the file store survived kill -9


async def test_kv_is_intact_after_kill_9(nats_server: NatsServer, bus: NatsBus) -> None:
    kv = await ensure_kv(bus.js, "state", history=3)
    for i in range(3):
        await kv.put("cursor", str(i).encode())
    await kv.put("other", b"x")
    await _kill_and_restart(nats_server, bus)
    kv = await ensure_kv(bus.js, "state", history=3)
    assert (await kv.get("cursor")).value == b"2"
    assert [e.value for e in await kv.history("cursor")] == [b"0", b"1", b"2"]
    assert (await kv.get("other")).value == b"x"
    await kv.put("cursor", b"3")
    assert (await kv.get("cursor")).value == b"3"


async def test_a_first_connect_to_a_down_server_logs_a_warning_and_connects_when_it_is_up(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A service started before its bus (or with a name that does not resolve) says so while it retries, instead of
    waiting mute; it connects once the server is up."""
    nats_server.kill()
    b = NatsBus(bus_settings(nats_server), "late", ServiceMetrics("late"))
    caplog.set_level("WARNING", logger="edgewatch.common.bus.client")
    task = asyncio.create_task(b.connect())
    try:
        await wait_until(
            lambda: any(r.getMessage() == "bus connect failed; retrying" for r in caplog.records),
            message="a warning while the first connect fails",
        )
        assert not task.done() and not b.connected
        record = next(r for r in caplog.records if r.getMessage() == "bus connect failed; retrying")
        assert str(nats_server.port) in record.servers and record.attempts >= 1  # type: ignore[attr-defined]
        await asyncio.to_thread(nats_server.start)
        await asyncio.wait_for(task, 20)
        assert b.connected
    finally:
        task.cancel()
        if b.connected:
            await b.drain()
