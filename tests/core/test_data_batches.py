"""core-data stores bus events in JetStream atomic batches: boundaries, order, invalid events, restart, retention,
back-pressure, and a REST POST still stored (and queryable) before its 201."""

from __future__ import annotations

import json
import time
from typing import Any

from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from tests.core.conftest import Core, core_settings, start_core, stop_core
from tests.core.helpers import event_doc
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until

STREAM = "EDGEWATCH_CORE_EVENTS"


def _settings(server: NatsServer, **retention: Any) -> Any:
    return core_settings(server, Core={"Retention": retention})


async def _publish(bus: NatsBus, evs: list[dict[str, Any]], *, raw: bytes | None = None) -> None:
    for ev in evs:
        body, headers = encode_envelope(new_envelope(json.dumps({"apiVersion": "v3", "event": ev}).encode()), "nats")
        await bus.publish(topics.device_event("ds", "P", ev["deviceName"], "t"), body, headers)
    await bus.nc.flush()


def _events(n: int, device: str = "d1", start: int = 0) -> list[dict[str, Any]]:
    base = time.time_ns()
    return [event_doc(device=device, origin=base + i, value=f"{start + i}e+00") for i in range(n)]


async def _count(c: Core) -> int:
    return int((await c.data.get("/event/count")).json()["count"])


async def _received(c: Core) -> float:
    value = c.host.metrics.registry.get_sample_value("core_data_events_received_total", {"via": "bus"})
    return value or 0.0


async def _stored(bus: NatsBus) -> list[tuple[int, str, dict[str, str]]]:
    """(sequence, event id, headers) of every message in the event stream, in stream order."""
    info = await bus.js.stream_info(STREAM)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        m = await bus.js.get_msg(STREAM, seq)
        out.append((seq, json.loads(m.data or b"{}")["event"]["id"], dict(m.headers or {})))
    return out


async def test_bus_events_are_stored_in_batches_of_at_most_batch_max_events_in_arrival_order(
    nats_server: NatsServer, bus: NatsBus
) -> None:
    dead: list[Msg] = []

    async def on_dead(msg: Msg) -> None:
        dead.append(msg)

    await bus.nc.subscribe(topics.dead_letter("edgewatch-core"), cb=on_dead)
    # a window far longer than publishing 12 events takes, even on a loaded CI machine (0.05 s closed the first
    # batch after 3 events there): only BatchMaxEvents closes the first two batches, the window the last
    _host, c = await start_core(_settings(nats_server, BatchMaxEvents=5, BatchWindow=1.0))
    try:
        evs = _events(12)
        await _publish(bus, evs[:3])
        # an invalid event inside a batch: dead-lettered, the batch goes on without it
        await bus.publish(topics.device_event("ds", "P", "d1", "t"), b"{garbage", {"Content-Type": "application/json"})
        await _publish(bus, evs[3:])
        await wait_until(lambda: _equals(_count(c), 12), message="12 bus events queryable")
        await wait_until(lambda: dead, message="the invalid one dead-lettered")
        assert dead[0].data == b"{garbage"
        stored = await _stored(bus)
        assert [i for _s, i, _h in stored] == [e["id"] for e in evs]  # stream order = arrival order
        batches: dict[str, list[int]] = {}
        for _seq, _id, h in stored:
            batches.setdefault(h["Nats-Batch-Id"], []).append(int(h["Nats-Batch-Sequence"]))
            assert h["Nats-Msg-Id"] == _id
        sizes = [len(b) for b in batches.values()]
        assert sum(sizes) == 12 and max(sizes) == 5 and sizes[:2] == [5, 5]  # the 2 left: flushed by the window
        assert all(b == list(range(1, len(b) + 1)) for b in batches.values())
        assert [h.get("Nats-Batch-Commit") for _s, _i, h in stored].count("1") == len(batches)
        page = (await c.data.get("/event/all", params={"limit": 20})).json()["events"]
        assert [e["id"] for e in page] == [e["id"] for e in reversed(evs)]  # origin descending
    finally:
        await stop_core(c)


async def test_stop_writes_the_open_batch_and_a_restart_stores_nothing_twice(
    nats_server: NatsServer, bus: NatsBus
) -> None:
    # a window far longer than the test: only stop() can write these events
    settings = _settings(nats_server, BatchMaxEvents=100, BatchWindow=1.0)
    _host, c = await start_core(settings)
    evs = _events(7)
    try:
        await _publish(bus, evs)
        await wait_until(lambda: _equals(_received(c), 7), message="the 7 events received")
    finally:
        await stop_core(c)
    assert [i for _s, i, _h in await _stored(bus)] == [e["id"] for e in evs]

    _host, c = await start_core(_settings(nats_server, BatchMaxEvents=100, BatchWindow=0.05))
    try:
        assert await _count(c) == 7  # replayed from the stream into the index
        await _publish(bus, evs[:3] + _events(2, start=7))  # a device service sends 3 of them again, and 2 new
        await wait_until(lambda: _equals(_count(c), 9), message="the 2 new events stored")
        await wait_until(lambda: _equals(_received(c), 5), message="the 5 events received")
        stored = [i for _s, i, _h in await _stored(bus)]
        assert len(stored) == len(set(stored)) == 9  # the batch holding duplicates was refused, then de-duplicated
    finally:
        await stop_core(c)


async def test_max_events_retention_keeps_the_newest_events_of_batches(nats_server: NatsServer, bus: NatsBus) -> None:
    _host, c = await start_core(
        _settings(nats_server, MaxEvents=7, IndexSyncInterval=0.1, BatchMaxEvents=5, BatchWindow=0.05)
    )
    try:
        evs = _events(23)
        await _publish(bus, evs)
        await wait_until(lambda: _equals(_received(c), 23), message="23 events received")
        await wait_until(lambda: _equals(_count(c), 7), message="the index holds only the kept events")
        assert (await bus.js.stream_info(STREAM)).state.messages == 7
        kept = (await c.data.get("/event/all", params={"limit": 100})).json()["events"]
        assert [e["id"] for e in kept] == [e["id"] for e in reversed(evs[-7:])]
    finally:
        await stop_core(c)


async def test_a_burst_larger_than_the_batches_in_flight_is_stored_whole(nats_server: NatsServer, bus: NatsBus) -> None:
    _host, c = await start_core(_settings(nats_server, BatchMaxEvents=2, BatchWindow=0.05))
    try:
        evs = _events(60)  # 30 batches: the subscription waits for free batch slots (4) and catches up
        await _publish(bus, evs)
        await wait_until(lambda: _equals(_count(c), 60), timeout=30, message="the burst stored")
        assert not c.host.metrics.registry.get_sample_value("core_data_store_failures_total")
        info = (await bus.js.stream_info(STREAM)).state
        assert info.messages == 60 and info.last_seq == 60
        first, last = await bus.js.get_msg(STREAM, 1), await bus.js.get_msg(STREAM, 60)
        assert (first.headers or {})["Nats-Msg-Id"] == evs[0]["id"]
        assert (last.headers or {})["Nats-Msg-Id"] == evs[-1]["id"]
    finally:
        await stop_core(c)


async def test_rest_post_is_queryable_when_answered_while_a_bus_batch_is_open(
    nats_server: NatsServer, bus: NatsBus
) -> None:
    _host, c = await start_core(_settings(nats_server, BatchMaxEvents=100, BatchWindow=1.0))
    try:
        await _publish(bus, _events(3, device="bus"))
        await wait_until(lambda: _equals(_received(c), 3), message="3 bus events received (their batch open)")
        ev = event_doc(device="rest")
        r = await c.data.post("/event/svc/P/rest/t", json={"apiVersion": "v3", "event": ev})
        assert r.status_code == 201
        assert (await c.data.get(f"/event/id/{ev['id']}")).json()["event"]["deviceName"] == "rest"
        assert (await c.data.get("/event/count/device/name/rest")).json()["count"] == 1
    finally:
        await stop_core(c)


async def _equals(value: Any, expected: float) -> bool:
    return bool(await value == expected)


async def test_a_stream_made_before_batches_is_updated_and_its_events_kept(
    nats_server: NatsServer, bus: NatsBus
) -> None:
    old = event_doc(device="old")
    await bus.js.add_stream(name=STREAM, subjects=["edgewatch.core.events.>"], max_msgs=100_000)  # no allow_atomic
    await bus.js.publish("edgewatch.core.events.b2xk", json.dumps({"apiVersion": "v3", "event": old}).encode())
    _host, c = await start_core(_settings(nats_server, BatchWindow=0.05))
    try:
        assert (await bus.js.stream_info(STREAM)).config.allow_atomic is True
        assert (await c.data.get(f"/event/id/{old['id']}")).json()["event"]["deviceName"] == "old"
        evs = _events(3)
        await _publish(bus, evs)
        await wait_until(lambda: _equals(_count(c), 4), message="the old event and 3 new ones")
        assert "Nats-Batch-Id" in ((await bus.js.get_msg(STREAM, 4)).headers or {})
    finally:
        await stop_core(c)
