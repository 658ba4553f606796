"""The metadata KV watch decodes a large value written by another writer in a parse worker, in bucket order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.contracts.profile import DeviceProfile
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import ServiceSection
from edgewatch.common.service.worker import INLINE_BYTES, ParseWorkers
from edgewatch.core.metadata.store import EntityStore, kv_key
from tests.conftest import bus_settings
from tests.core.helpers import profile_doc
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until


def _big_profile(name: str) -> DeviceProfile:
    resources = [
        {"name": f"r{i}", "properties": {"valueType": "Float32", "readWrite": "RW", "units": "C"}} for i in range(1500)
    ]
    return DeviceProfile.model_validate(profile_doc(name, deviceResources=resources, deviceCommands=[]))


@pytest.fixture
async def workers() -> AsyncIterator[ParseWorkers]:
    section = ServiceSection.model_validate({"ParseTimeout": 30.0})
    pool = ParseWorkers(lambda: section, ServiceMetrics("test"))
    try:
        yield pool
    finally:
        await pool.close()


async def _store(bus: NatsBus, workers: ParseWorkers | None) -> EntityStore[DeviceProfile]:
    s = EntityStore(bus, "test-watch-profiles", DeviceProfile, "device profile", lambda e: e.name, workers)
    await s.start()
    return s


async def test_a_large_profile_from_another_writer_is_decoded_in_a_parse_worker(
    bus: NatsBus, workers: ParseWorkers
) -> None:
    writer = await _store(bus, None)
    reader = await _store(bus, workers)
    try:
        small = DeviceProfile.model_validate(profile_doc("small"))
        big = _big_profile("big")
        assert len(big.model_dump_json(by_alias=True)) > INLINE_BYTES
        await writer.put(big)
        await writer.put(small)

        async def both_seen() -> bool:
            return set(reader.items) == {"big", "small"}

        await wait_until(both_seen, message="the reader's watch applies both profiles")
        assert reader.get("big") == big and reader.get("small") == small
        assert len(workers._idle) == 1  # the large value went through a worker; the small one did not need one

        changed = big.model_copy(update={"description": "changed"})
        await writer.put(changed)
        await writer.delete("small")

        async def applied_in_order() -> bool:
            return set(reader.items) == {"big"} and reader.get("big").description == "changed"

        await wait_until(applied_in_order, message="the change and the delete are applied")
    finally:
        await reader.stop()
        await writer.stop()


async def test_an_unreadable_large_value_is_ignored_and_the_watch_goes_on(bus: NatsBus, workers: ParseWorkers) -> None:
    reader = await _store(bus, workers)
    try:
        await reader.kv.put(kv_key("junk"), b'{"name": "junk", "deviceResources": "' + b"x" * INLINE_BYTES + b'"}')
        await reader.kv.put(
            kv_key("small"), DeviceProfile.model_validate(profile_doc("small")).model_dump_json().encode()
        )

        async def small_seen() -> bool:
            return "small" in reader.items

        await wait_until(small_seen, message="the watch applies the entry after the unreadable one")
        assert set(reader.items) == {"small"}
        assert len(workers._idle) == 1  # the unreadable value was refused by the worker, which stays usable
    finally:
        await reader.stop()


async def test_a_reader_keeps_following_the_bucket_across_a_nats_server_restart(
    bus: NatsBus, nats_server: NatsServer
) -> None:
    """core-command and rules' replica check commands against what their watch last applied: a watch that stayed
    silent after a restart would let a device locked afterwards be commanded."""
    writer = await _store(bus, None)
    reader_bus = NatsBus(bus_settings(nats_server), "test-reader", ServiceMetrics("test-reader"))
    await reader_bus.connect()
    reader = await _store(reader_bus, None)
    try:
        await writer.put(DeviceProfile.model_validate(profile_doc("before")))
        await wait_until(lambda: _has(reader, "before"), message="the reader sees a write before the restart")
        nats_server.restart()

        async def written_after() -> bool:
            try:
                await writer.put(DeviceProfile.model_validate(profile_doc("after")))
            except Exception:
                return False  # the bus is still reconnecting
            return True

        await wait_until(written_after, timeout=20, message="the writer writes again after the restart")
        # re-synced on the reconnect itself; nats-py's ordered consumer alone noticed the restarted server only after
        # its missed heartbeats, about 15 s after the write here (this wait failed on that code)
        await wait_until(lambda: _has(reader, "after"), timeout=8, message="the reader's watch applies it")
        assert set(reader.items) == {"before", "after"}
    finally:
        await reader.stop()
        await writer.stop()
        await reader_bus.drain()


async def _has(store: EntityStore[DeviceProfile], name: str) -> bool:
    return name in store.items
