"""core-metadata devices: per-item check order, force / bypassValidation, PATCH pointer semantics, system events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope
from edgewatch.common.bus.requestreply import edgex_respond
from edgewatch.common.contracts import topics
from tests.core.conftest import Core
from tests.core.helpers import device_doc, device_req, profile_req, service_req
from tests.support.shared import shared_files, shared_mark
from tests.support.waiting import wait_until


async def _setup(core: Core) -> None:
    await core.meta.post("/deviceservice", json=[service_req("svc")])
    await core.meta.post("/deviceprofile", json=[profile_req("P")])


async def _validator(bus: NatsBus, service: str, reject: set[str]) -> list[dict[str, Any]]:
    """A device service's validation responder on the real bus; rejects device names in ``reject``."""
    seen: list[dict[str, Any]] = []

    async def on(msg: Msg) -> None:
        env = decode_envelope(msg)
        doc = json.loads(env.payload)
        seen.append(doc)
        name = doc["device"]["name"]
        await edgex_respond(bus, env, responder=service, error=f"bad {name}" if name in reject else None)

    await bus.nc.subscribe(topics.device_validation(service), cb=on)
    await bus.nc.flush()
    return seen


@pytest.mark.parametrize(
    ("device", "status", "needle"),
    [
        (device_doc(service="nosvc", profile="noprof"), 400, "device service 'nosvc'"),
        (device_doc(profile="noprof"), 400, "device profile 'noprof'"),
        (device_doc(autoEvents=[{"interval": "1s", "sourceName": "zz"}]), 400, "autoEvents[0].sourceName 'zz'"),
    ],
)
async def test_device_add_checks_run_in_edgex_order(core: Core, device: dict, status: int, needle: str) -> None:
    await _setup(core)
    r = await core.meta.post("/device", json=[{"apiVersion": "v3", "device": device}])
    assert r.status_code == 207
    (item,) = r.json()
    assert item["statusCode"] == status and needle in item["message"]


async def test_device_autoevent_source_may_be_resource_command_or_regex(core: Core, bus: NatsBus) -> None:
    await _setup(core)
    for i, src in enumerate(["t", "Both", "s.*"]):
        d = device_req(f"d{i}", autoEvents=[{"interval": "500ms", "sourceName": src}])
        r = await core.meta.post("/device?bypassValidation=true", json=[d])
        assert r.json()[0]["statusCode"] == 201, r.text


async def test_device_add_without_a_device_service_answer_is_503(core: Core) -> None:
    await _setup(core)
    r = await core.meta.post("/device", json=[device_req("d1")])
    assert r.json()[0]["statusCode"] == 503
    assert (await core.meta.get("/device/name/d1")).status_code == 404


async def test_device_add_asks_the_device_service_and_a_rejection_is_500(core: Core, bus: NatsBus) -> None:
    await _setup(core)
    seen = await _validator(bus, "svc", reject={"bad"})
    r = await core.meta.post("/device", json=[device_req("good"), device_req("bad"), device_req("good")])
    items = r.json()
    assert [i["statusCode"] for i in items] == [201, 500, 409], items
    assert "bad bad" in items[1]["message"]
    assert [d["device"]["name"] for d in seen] == ["good", "bad"]


async def test_device_force_updates_an_existing_device_instead_of_409(core: Core) -> None:
    await _setup(core)
    await core.meta.post("/device?bypassValidation=true", json=[device_req("d1")])
    first = (await core.meta.get("/device/name/d1")).json()["device"]
    r = await core.meta.post("/device?force=true", json=[device_req("d1", description="forced")])
    assert r.json()[0]["statusCode"] == 201 and r.json()[0]["id"] == first["id"]
    assert (await core.meta.get("/device/name/d1")).json()["device"]["description"] == "forced"
    assert (await core.meta.post("/device?force=maybe", json=[device_req("d1")])).status_code == 400


async def test_device_patch_keeps_absent_fields(core: Core) -> None:
    await _setup(core)
    await core.meta.post("/device?bypassValidation=true", json=[device_req("d1", labels=["x"])])
    r = await core.meta.patch(
        "/device?bypassValidation=true",
        json=[
            {"apiVersion": "v3", "device": {"name": "d1", "adminState": "LOCKED"}},
            {"apiVersion": "v3", "device": {"name": "ghost", "adminState": "LOCKED"}},
            {"apiVersion": "v3", "device": {"name": "d1", "serviceName": "nosvc"}},
        ],
    )
    assert [i["statusCode"] for i in r.json()] == [200, 404, 400]
    d = (await core.meta.get("/device/name/d1")).json()["device"]
    assert d["adminState"] == "LOCKED" and d["labels"] == ["x"] and d["protocols"]["modbus-tcp"]["Port"] == 502


async def test_device_patch_without_id_or_name_fails_whole_request(core: Core) -> None:
    r = await core.meta.patch("/device", json=[{"apiVersion": "v3", "device": {"adminState": "LOCKED"}}])
    assert r.status_code == 400 and "id or name" in r.json()["message"]


async def test_device_add_missing_admin_state_is_400(core: Core) -> None:
    doc = device_doc()
    del doc["adminState"]
    r = await core.meta.post("/device", json=[{"apiVersion": "v3", "device": doc}])
    assert r.status_code == 400 and "adminState" in r.json()["message"]


async def test_device_queries_and_delete(core: Core) -> None:
    await _setup(core)
    await core.meta.post("/deviceprofile", json=[profile_req("Q")])
    await core.meta.post(
        "/device?bypassValidation=true",
        json=[device_req("a", labels=["l1"]), device_req("b", profile="Q"), device_req("c", parent="a")],
    )
    assert (await core.meta.get("/device/all")).json()["totalCount"] == 3
    assert [d["name"] for d in (await core.meta.get("/device/all?labels=l1")).json()["devices"]] == ["a"]
    assert (await core.meta.get("/device/profile/name/Q")).json()["totalCount"] == 1
    assert (await core.meta.get("/device/service/name/svc")).json()["totalCount"] == 3
    assert [d["name"] for d in (await core.meta.get("/device/all?descendantsOf=a")).json()["devices"]] == ["c"]
    assert (await core.meta.get("/device/check/name/a")).status_code == 200
    assert (await core.meta.get("/device/check/name/zz")).status_code == 404
    dev_id = (await core.meta.get("/device/name/b")).json()["device"]["id"]
    assert (await core.meta.get(f"/device/id/{dev_id}")).json()["device"]["name"] == "b"
    assert (await core.meta.delete("/device/name/a")).status_code == 409
    assert (await core.meta.delete("/device/name/c")).status_code == 200
    assert (await core.meta.delete("/device/name/a")).status_code == 200
    assert (await core.meta.delete("/deviceservice/name/svc")).status_code == 409


async def test_device_changes_publish_edgex_system_events(core: Core, bus: NatsBus) -> None:
    got: list[tuple[str, dict[str, Any]]] = []

    async def on(msg: Msg) -> None:
        got.append((msg.subject, json.loads(decode_envelope(msg).payload)))

    await bus.nc.subscribe(topics.system_events_all(), cb=on)
    await bus.nc.flush()
    await _setup(core)
    await core.meta.post("/device?bypassValidation=true", json=[device_req("d1")])
    await core.meta.patch(
        "/device?bypassValidation=true", json=[{"apiVersion": "v3", "device": {"name": "d1", "description": "x"}}]
    )
    await core.meta.delete("/device/name/d1")
    await wait_until(lambda: len(got) >= 5, message="5 system events")
    subjects = [s for s, _ in got]
    assert subjects == [
        "edgex.system-events.core-metadata.deviceservice.add.core-metadata.svc",
        "edgex.system-events.core-metadata.deviceprofile.add.core-metadata.P",
        "edgex.system-events.core-metadata.device.add.svc.P",
        "edgex.system-events.core-metadata.device.update.svc.P",
        "edgex.system-events.core-metadata.device.delete.svc.P",
    ]
    ev = got[2][1]
    assert ev["type"] == "device" and ev["action"] == "add" and ev["source"] == "core-metadata" and ev["owner"] == "svc"
    assert ev["details"]["name"] == "d1" and ev["timestamp"] > 0


DEVICE_FILES = shared_files("edgex", "devices")


@shared_mark("edgex", "devices")
async def test_device_definition_files_load_at_start_once_their_service_exists(nats_server, tmp_path) -> None:
    from tests.core.conftest import core_settings, start_core

    profiles = tmp_path / "profiles"
    devices = tmp_path / "devices"
    profiles.mkdir()
    devices.mkdir()
    for p in shared_files("edgex", "profiles"):
        (profiles / p.name).write_bytes(p.read_bytes())
    for p in DEVICE_FILES:
        (devices / p.name).write_bytes(p.read_bytes())
    (devices / "extra.json").write_text(json.dumps([device_doc("json-dev", service="svc", profile="")]))
    settings = core_settings(
        nats_server, Core={"ProfilesDir": str(profiles), "DevicesDir": str(devices), "DefaultDeviceService": "svc"}
    )
    host, c = await start_core(settings)
    try:
        assert (await c.meta.get("/deviceprofile/all")).json()["totalCount"] == len(shared_files("edgex", "profiles"))
        assert (await c.meta.get("/device/all")).json()["totalCount"] == 0
        await c.meta.post("/deviceservice", json=[service_req("svc")])

        async def loaded() -> bool:
            return (await c.meta.get("/device/all")).json()["totalCount"] == 3

        await wait_until(loaded, message="file devices added once svc registered")
        d = (await c.meta.get("/device/name/Simple-Device01")).json()["device"]
        assert d["protocols"]["other"] == {"Address": "simple01", "Port": 300}
        assert d["autoEvents"][0] == {"interval": "10s", "onChange": False, "sourceName": "Switch"}
    finally:
        await host.__aexit__(None, None, None)
