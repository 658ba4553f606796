"""JetStream provisioning is idempotent and never deletes; the durable pull loop consumes, retries, dead-letters."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig

from edgewatch.common.bus import BusDecodeError, NatsBus
from edgewatch.common.bus.errors import ProvisioningError
from edgewatch.common.bus.jetstream import ensure_consumer, ensure_kv, ensure_stream
from edgewatch.common.bus.pullconsumer import DurablePullConsumer
from tests.support.waiting import wait_until


def _stream(**kw: object) -> StreamConfig:
    return StreamConfig(name="EVENTS", subjects=["ev.>"], storage=StorageType.FILE, **kw)  # type: ignore[arg-type]


async def test_ensure_stream_creates_then_is_a_no_op_when_repeated(bus: NatsBus) -> None:
    first = await ensure_stream(bus.js, _stream(max_msgs=1000))
    await bus.js.publish("ev.a", b"1")
    again = await ensure_stream(bus.js, _stream(max_msgs=1000))
    assert first.config.max_msgs == again.config.max_msgs == 1000
    assert again.state.messages == 1
    assert again.created == first.created


async def test_ensure_stream_updates_changed_limits_and_keeps_the_data(bus: NatsBus) -> None:
    await ensure_stream(bus.js, _stream(max_msgs=1000))
    for i in range(3):
        await bus.js.publish(f"ev.{i}", b"x")
    info = await ensure_stream(bus.js, StreamConfig(name="EVENTS", subjects=["ev.>", "ev2.>"], max_msgs=5000))
    assert info.config.max_msgs == 5000 and sorted(info.config.subjects or []) == ["ev.>", "ev2.>"]
    assert info.config.storage == StorageType.FILE  # not set by the caller, so kept
    assert info.state.messages == 3


async def test_ensure_stream_refuses_an_in_place_impossible_change_without_deleting(bus: NatsBus) -> None:
    await ensure_stream(bus.js, _stream())
    await bus.js.publish("ev.a", b"keep me")
    with pytest.raises(ProvisioningError) as e:
        await ensure_stream(bus.js, StreamConfig(name="EVENTS", subjects=["ev.>"], storage=StorageType.MEMORY))
    assert "storage" in e.value.diff
    info = await bus.js.stream_info("EVENTS")
    assert info.state.messages == 1 and info.config.storage == StorageType.FILE


async def test_ensure_stream_converges_when_created_concurrently_with_another_configuration(bus: NatsBus) -> None:
    results = await asyncio.gather(
        ensure_stream(bus.js, _stream(max_msgs=10)),
        ensure_stream(bus.js, _stream(max_msgs=20)),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, Exception)]
    info = await bus.js.stream_info("EVENTS")
    assert info.config.max_msgs in (10, 20)
    assert (await ensure_stream(bus.js, _stream(max_msgs=20))).config.max_msgs == 20


async def test_ensure_consumer_creates_recreates_after_deletion_and_updates_editable_fields(bus: NatsBus) -> None:
    await ensure_stream(bus.js, _stream())
    cfg = ConsumerConfig(durable_name="sync", ack_wait=10, max_deliver=5, filter_subject="ev.>")
    info = await ensure_consumer(bus.js, "EVENTS", cfg)
    assert info.config.durable_name == "sync" and info.config.ack_wait == 10
    assert (await ensure_consumer(bus.js, "EVENTS", cfg)).config.max_deliver == 5
    await bus.js.delete_consumer("EVENTS", "sync")
    assert (await ensure_consumer(bus.js, "EVENTS", cfg)).name == "sync"
    updated = await ensure_consumer(bus.js, "EVENTS", cfg.evolve(max_deliver=9))
    assert updated.config.max_deliver == 9


async def test_ensure_consumer_refuses_a_deliver_policy_change(bus: NatsBus) -> None:
    await ensure_stream(bus.js, _stream())
    await ensure_consumer(bus.js, "EVENTS", ConsumerConfig(durable_name="c1"))
    with pytest.raises(ProvisioningError, match="EVENTS/c1"):
        await ensure_consumer(bus.js, "EVENTS", ConsumerConfig(durable_name="c1", deliver_policy=DeliverPolicy.NEW))


async def test_ensure_consumer_requires_a_durable_name(bus: NatsBus) -> None:
    with pytest.raises(ValueError, match="durable"):
        await ensure_consumer(bus.js, "EVENTS", ConsumerConfig())


async def test_ensure_kv_creates_opens_and_updates_history_keeping_values(bus: NatsBus) -> None:
    kv = await ensure_kv(bus.js, "cfg", history=2, max_bytes=1 << 20)
    await kv.put("k", b"v1")
    again = await ensure_kv(bus.js, "cfg", history=2, max_bytes=1 << 20)
    assert (await again.get("k")).value == b"v1"
    await ensure_kv(bus.js, "cfg", history=5, max_bytes=1 << 21)
    info = await bus.js.stream_info("KV_cfg")
    assert info.config.max_msgs_per_subject == 5 and info.config.max_bytes == 1 << 21
    assert (await kv.get("k")).value == b"v1"
    with pytest.raises(ProvisioningError, match="storage"):
        await ensure_kv(bus.js, "cfg", history=5, max_bytes=1 << 21, storage=StorageType.MEMORY)


async def test_workqueue_stream_can_be_ensured_repeatedly(bus: NatsBus) -> None:
    cfg = StreamConfig(name="OUTBOX", subjects=["out.>"], retention=RetentionPolicy.WORK_QUEUE, max_bytes=1 << 20)
    for _ in range(3):
        info = await ensure_stream(bus.js, cfg)
    assert info.config.retention == RetentionPolicy.WORK_QUEUE


def _pull(bus: NatsBus, handler, **kw: object) -> DurablePullConsumer:  # type: ignore[no-untyped-def]
    return DurablePullConsumer(
        bus,
        _stream(),
        ConsumerConfig(durable_name="worker", ack_wait=2, filter_subject="ev.>"),
        handler,
        batch=16,
        fetch_timeout=0.3,
        retry_delay=0.1,
        **kw,  # type: ignore[arg-type]
    )


async def test_pull_consumer_acks_handled_messages_and_dead_letters_undecodable_ones(bus: NatsBus) -> None:
    got: list[bytes] = []
    dead: list[tuple[bytes, str]] = []

    async def handler(msg: Msg) -> None:
        if msg.data == b"bad":
            raise BusDecodeError("not a record")
        got.append(msg.data)

    async def on_dead(msg: Msg) -> None:
        dead.append((msg.data, msg.headers["Edgewatch-Reason"]))

    await bus.subscribe("edgewatch.test-client.deadletter", on_dead)
    pc = _pull(bus, handler)
    pc.start()
    try:
        await wait_until(lambda: pc.rebinds == 0 and pc.running)
        await ensure_stream(bus.js, _stream())
        for body in (b"1", b"bad", b"2"):
            await bus.js.publish("ev.x", body)
        await wait_until(lambda: got == [b"1", b"2"] and dead == [(b"bad", "decode: not a record")])
        info = await bus.js.consumer_info("EVENTS", "worker")
        await wait_until(lambda: pc.processed == 2)
        assert info.num_pending == 0
    finally:
        await pc.stop()
    assert not pc.running


async def test_pull_consumer_retries_a_failing_handler_then_dead_letters_it(bus: NatsBus) -> None:
    attempts: list[int] = []
    dead: list[str] = []

    async def handler(msg: Msg) -> None:
        attempts.append(msg.metadata.num_delivered)
        if msg.data == b"flaky" and len(attempts) < 2:
            raise RuntimeError("transient")
        if msg.data == b"poison":
            raise RuntimeError("always")

    async def on_dead(msg: Msg) -> None:
        dead.append(msg.headers["Edgewatch-Reason"])

    await bus.subscribe("edgewatch.test-client.deadletter", on_dead)
    pc = _pull(bus, handler, max_attempts=3)
    pc.start()
    try:
        await ensure_stream(bus.js, _stream())
        await bus.js.publish("ev.x", b"flaky")
        await wait_until(lambda: attempts == [1, 2])
        await bus.js.publish("ev.x", b"poison")
        await wait_until(lambda: dead, timeout=15)
        assert "after 3 deliveries" in dead[0] and attempts[-3:] == [1, 2, 3]
    finally:
        await pc.stop()


async def test_pull_consumer_recreates_its_consumer_when_deleted(bus: NatsBus) -> None:
    got: list[bytes] = []

    async def handler(msg: Msg) -> None:
        got.append(msg.data)

    pc = _pull(bus, handler)
    pc.start()
    try:
        await ensure_stream(bus.js, _stream())
        await bus.js.publish("ev.x", b"before")
        await wait_until(lambda: got == [b"before"])
        await bus.js.delete_consumer("EVENTS", "worker")
        await bus.js.publish("ev.x", b"after")
        await wait_until(lambda: b"after" in got, timeout=15)
    finally:
        await pc.stop()


def test_config_diff_compares_only_fields_the_caller_set() -> None:
    from edgewatch.common.bus.jetstream import config_diff

    have = StreamConfig(name="S", subjects=["b", "a"], max_msgs=-1, duplicate_window=120.0, storage=StorageType.FILE)
    assert config_diff(StreamConfig(name="S", subjects=["a", "b"]), have) == {}
    assert config_diff(StreamConfig(name="S", duplicate_window=120), have) == {}
    assert set(config_diff(StreamConfig(name="S", max_msgs=10, storage=StorageType.MEMORY), have)) == {
        "max_msgs",
        "storage",
    }
