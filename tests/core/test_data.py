"""core-data: POST events (JSON, CBOR), events from the bus, queries with paging / counts / ranges, deletes."""

from __future__ import annotations

import json
import time
from typing import Any

import cbor2
import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope, encode_envelope, new_envelope
from edgewatch.common.contracts import topics
from tests.core.conftest import Core, core_settings, start_core
from tests.core.helpers import event_doc
from tests.support.nats_server import NatsServer
from tests.support.waiting import wait_until


def _req(ev: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v3", "event": ev}


async def test_data_post_json_event_is_201_with_id_and_republished_on_core_topic(core: Core, bus: NatsBus) -> None:
    got: list[Msg] = []

    async def on(msg: Msg) -> None:
        got.append(msg)

    await bus.nc.subscribe(topics.events_all(), cb=on)
    await bus.nc.flush()
    ev = event_doc()
    r = await core.data.post("/event/svc/P/d1/t", json=_req(ev))
    assert r.status_code == 201
    assert r.json() == {"apiVersion": "v3", "statusCode": 201, "id": ev["id"]}
    await wait_until(lambda: got, message="re-published event")
    assert got[0].subject == "edgex.events.core.svc.P.d1.t"
    assert json.loads(decode_envelope(got[0]).payload)["event"]["id"] == ev["id"]
    assert (await core.data.post("/event/svc/P/d1/t", json=_req(ev))).status_code == 409


async def test_data_post_cbor_event_is_stored(core: Core) -> None:
    ev = event_doc()
    r = await core.data.post(
        "/event/svc/P/d1/t", content=cbor2.dumps(_req(ev)), headers={"Content-Type": "application/cbor"}
    )
    assert r.status_code == 201, r.text
    assert (await core.data.get(f"/event/id/{ev['id']}")).json()["event"]["deviceName"] == "d1"


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("/event/svc/X/d1/t", _req(event_doc()), "profileName"),
        ("/event/svc/P/other/t", _req(event_doc()), "deviceName"),
        ("/event/svc/P/d1/zz", _req(event_doc()), "sourceName"),
        ("/event/svc/P/d1/t", {"apiVersion": "v3", "event": {**event_doc(), "readings": []}}, "readings"),
        ("/event/svc/P/d1/t", {"apiVersion": "v3", "event": {**event_doc(), "id": "nope"}}, "id"),
        ("/event/svc/P/d1/t", "{not json", "JSON"),
    ],
)
async def test_data_post_bad_event_is_400_naming_the_field(core: Core, path: str, body: Any, needle: str) -> None:
    if isinstance(body, str):
        r = await core.data.post(path, content=body, headers={"Content-Type": "application/json"})
    else:
        r = await core.data.post(path, json=body)
    assert r.status_code == 400
    assert needle in r.json()["message"]


async def test_data_post_larger_than_max_event_size_is_413(nats_server: NatsServer) -> None:
    host, c = await start_core(core_settings(nats_server, Writable={"MaxEventSize": 1}))
    try:
        ev = event_doc(value="x" * 2000)
        ev["readings"][0]["valueType"] = "String"
        assert (await c.data.post("/event/svc/P/d1/t", json=_req(ev))).status_code == 413
    finally:
        await host.__aexit__(None, None, None)


async def test_data_keeps_events_from_the_bus_in_both_edgex_formats(core: Core, bus: NatsBus) -> None:
    dead: list[Msg] = []

    async def on_dead(msg: Msg) -> None:
        dead.append(msg)

    await bus.nc.subscribe(topics.dead_letter("edgewatch-core"), cb=on_dead)
    await bus.nc.flush()
    for i, fmt in enumerate(("nats", "json")):
        ev = event_doc(device=f"bus{i}")
        body, headers = encode_envelope(new_envelope(json.dumps(_req(ev)).encode()), fmt)  # type: ignore[arg-type]
        await bus.publish(topics.device_event("ds", "P", f"bus{i}", "t"), body, headers)
    cbor_ev = event_doc(device="bus2")
    env = new_envelope(cbor2.dumps(_req(cbor_ev)), content_type="application/cbor")
    body, headers = encode_envelope(env, "nats")
    await bus.publish(topics.device_event("ds", "P", "bus2", "t"), body, headers)
    await bus.publish(topics.device_event("ds", "P", "junk", "t"), b"{garbage", {"Content-Type": "application/json"})

    async def three() -> bool:
        return (await core.data.get("/event/count")).json()["count"] == 3

    await wait_until(three, message="three bus events stored")
    await wait_until(lambda: dead, message="malformed event dead-lettered")
    assert dead[0].data == b"{garbage"
    assert (await core.data.get("/event/count/device/name/bus2")).json()["count"] == 1


async def test_data_queries_order_by_origin_descending_with_paging_and_ranges(core: Core) -> None:
    base = time.time_ns()
    for i in range(5):
        dev = "a" if i % 2 == 0 else "b"
        ev = event_doc(device=dev, origin=base + i, value=f"{i}e+00")
        assert (await core.data.post(f"/event/svc/P/{dev}/t", json=_req(ev))).status_code == 201
    body = (await core.data.get("/event/all", params={"limit": 2, "offset": 1})).json()
    assert body["totalCount"] == 5 and [e["origin"] for e in body["events"]] == [base + 3, base + 2]
    assert (await core.data.get("/event/device/name/a")).json()["totalCount"] == 3
    r = (await core.data.get(f"/event/start/{base + 1}/end/{base + 3}")).json()
    assert [e["origin"] for e in r["events"]] == [base + 3, base + 2, base + 1]
    assert (await core.data.get(f"/event/start/{base + 3}/end/{base}")).status_code == 400
    assert (await core.data.get("/event/all", params={"offset": 6})).status_code == 416
    assert (await core.data.get("/event/id/not-a-uuid")).status_code == 400
    readings = (await core.data.get("/reading/device/name/b", params={"numeric": "true"})).json()
    assert readings["totalCount"] == 2 and [x["value"] for x in readings["readings"]] == [3.0, 1.0]
    assert (await core.data.get("/reading/count")).json()["count"] == 5
    assert (await core.data.get("/reading/count/device/name/a")).json()["count"] == 3
    assert (await core.data.get("/reading/resourceName/t")).json()["totalCount"] == 5
    assert (await core.data.get("/reading/device/name/a/resourceName/t")).json()["totalCount"] == 3
    assert (await core.data.get(f"/reading/device/name/a/start/{base}/end/{base + 1}")).json()["totalCount"] == 1
    assert (await core.data.get(f"/reading/resourceName/t/start/{base}/end/{base + 4}")).json()["totalCount"] == 5
    r = await core.data.get(f"/reading/device/name/a/resourceName/t/start/{base + 2}/end/{base + 4}")
    assert r.json()["totalCount"] == 2
    assert (await core.data.get(f"/reading/start/{base}/end/{base}")).json()["totalCount"] == 1


async def test_data_delete_by_device_by_id_and_by_age(core: Core) -> None:
    now = time.time_ns()
    old = event_doc(device="a", origin=now - 3_600 * 10**9)
    evs = [old, event_doc(device="a", origin=now), event_doc(device="b", origin=now), event_doc(device="c", origin=now)]
    for ev in evs:
        await core.data.post(f"/event/svc/P/{ev['deviceName']}/t", json=_req(ev))
    r = await core.data.delete(f"/event/age/{60 * 10**9}")
    assert r.status_code == 202 and r.json()["statusCode"] == 202
    assert (await core.data.get(f"/event/id/{old['id']}")).status_code == 404
    assert (await core.data.delete("/event/device/name/a")).status_code == 202
    assert (await core.data.get("/event/count")).json()["count"] == 2
    assert (await core.data.delete(f"/event/id/{evs[2]['id']}")).status_code == 200
    assert (await core.data.delete(f"/event/id/{evs[2]['id']}")).status_code == 404
    assert [e["deviceName"] for e in (await core.data.get("/event/all")).json()["events"]] == ["c"]


async def test_data_persist_data_false_republishes_without_storing(nats_server: NatsServer) -> None:
    host, c = await start_core(core_settings(nats_server, Writable={"PersistData": False}))
    try:
        assert (await c.data.post("/event/svc/P/d1/t", json=_req(event_doc()))).status_code == 201
        assert (await c.data.get("/event/count")).json()["count"] == 0
    finally:
        await host.__aexit__(None, None, None)


async def test_data_stream_limits_bound_what_is_kept(nats_server: NatsServer) -> None:
    host, c = await start_core(core_settings(nats_server, Core={"Retention": {"MaxBytes": 4096}}))
    try:
        for i in range(40):
            await c.data.post("/event/svc/P/d1/t", json=_req(event_doc(value=f"{i}e+00")))
        total = (await c.data.get("/event/all", params={"limit": 100})).json()["totalCount"]
        assert 0 < total < 40
        info = await host.bus.js.stream_info("EDGEWATCH_CORE_EVENTS")
        assert info.state.bytes <= 4096
    finally:
        await host.__aexit__(None, None, None)


async def test_data_max_events_bounds_the_stream_and_the_index_by_count(nats_server: NatsServer) -> None:
    settings = core_settings(nats_server, Core={"Retention": {"MaxEvents": 7, "IndexSyncInterval": 0.1}})
    host, c = await start_core(settings)
    try:
        for i in range(20):
            await c.data.post("/event/svc/P/d1/t", json=_req(event_doc(value=f"{i}e+00")))
        info = await host.bus.js.stream_info("EDGEWATCH_CORE_EVENTS")
        assert info.config.max_msgs == 7 and info.state.messages == 7

        async def count() -> int:
            return int((await c.data.get("/event/count")).json()["count"])

        await wait_until(lambda: _equals(count(), 7), timeout=10, message="the index holds only the kept events")
        kept = (await c.data.get("/event/all", params={"limit": 100})).json()["events"]
        assert sorted(e["readings"][0]["value"] for e in kept) == sorted(f"{i}e+00" for i in range(13, 20))
    finally:
        await host.__aexit__(None, None, None)


async def test_data_index_forgets_what_the_stream_limits_removed_without_a_query(nats_server: NatsServer) -> None:
    settings = core_settings(nats_server, Core={"Retention": {"MaxBytes": 4096, "IndexSyncInterval": 0.1}})
    host, c = await start_core(settings)
    try:
        for i in range(40):
            await c.data.post("/event/svc/P/d1/t", json=_req(event_doc(value=f"{i}e+00")))
        stored = (await host.bus.js.stream_info("EDGEWATCH_CORE_EVENTS")).state.messages
        assert 0 < stored < 40

        async def count() -> int:
            return int((await c.data.get("/event/count")).json()["count"])  # reads the index, trims nothing

        await wait_until(lambda: _equals(count(), stored), timeout=10, message="the index trimmed to the stream")
    finally:
        await host.__aexit__(None, None, None)


async def _equals(value: Any, expected: int) -> bool:
    return bool(await value == expected)


async def test_data_reading_aggregates_per_device_and_resource(core: Core) -> None:
    for dev, values in (("a", ["1e+00", "3e+00"]), ("b", ["1e+01"])):
        for v in values:
            await core.data.post(f"/event/svc/P/{dev}/t", json=_req(event_doc(device=dev, value=v)))
    body = (await core.data.get("/reading/all", params={"aggregateFunc": "avg"})).json()
    got = {r["deviceName"]: (r["value"], r["valueType"]) for r in body["readings"]}
    assert body["aggregateFunc"] == "AVG" and got == {"a": (2.0, "Float64"), "b": (10.0, "Float64")}
    body = (await core.data.get("/reading/device/name/a", params={"aggregateFunc": "COUNT"})).json()
    assert [(r["value"], r["valueType"]) for r in body["readings"]] == [(2, "Int64")]
    assert (await core.data.get("/reading/all", params={"aggregateFunc": "MEDIAN"})).status_code == 400
