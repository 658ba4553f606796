"""edgewatch-ingest end to end with real parts: nats-server, the simulator built from EdgeX's own Modbus test
profile (unchanged), the service app, its REST API and its bus command/validation responders."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from edgewatch.common.bus.envelope import decode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_request
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, EventResponse
from edgewatch.common.contracts.ids import event_id_for, reading_id_for, request_id_for
from edgewatch.ingest.app import SERVICE_NAME, build_app
from edgewatch.ingest.config import DeviceSection, IngestSettings
from tests.conftest import bus_settings
from tests.support.modbus_sim import EDGEX_MODBUS_PROFILE, EDGEX_MODBUS_PROFILE_PARTS, start_modbus_sim
from tests.support.shared import shared_mark
from tests.support.waiting import wait_until

pytestmark = shared_mark(*EDGEX_MODBUS_PROFILE_PARTS)

DEV = "hvac-1"


def _write_defs(tmp: Path, port: int) -> DeviceSection:
    profiles, devices = tmp / "profiles", tmp / "devices"
    profiles.mkdir()
    devices.mkdir()
    shutil.copy(EDGEX_MODBUS_PROFILE, profiles / EDGEX_MODBUS_PROFILE.name)
    proto = {"modbus-tcp": {"Address": "127.0.0.1", "Port": str(port), "UnitID": "1", "Timeout": "1s"}}
    doc = {
        "deviceList": [
            {
                "name": DEV,
                "profileName": "Test-Device-Modbus-Profile",
                "protocols": proto,
                "autoEvents": [
                    {"interval": "100ms", "sourceName": "Values"},
                    {"interval": "100ms", "sourceName": "RoomTemperature"},
                ],
            },
            {
                "name": "locked-1",
                "profileName": "Test-Device-Modbus-Profile",
                "adminState": "LOCKED",
                "protocols": proto,
            },
        ]
    }
    (devices / "devices.yaml").write_text(yaml.safe_dump(doc))
    return DeviceSection(profiles_dir=str(profiles), devices_dir=str(devices), backoff_max=0.3)


@pytest.fixture
async def stack(nats_server, bus, tmp_path):
    sim = await start_modbus_sim(
        EDGEX_MODBUS_PROFILE,
        values={"RoomTemperature": 21.5, "Temperature": 19.0, "OperationMode": 2, "FanSpeed": 3, "SwitchA": True},
    )
    settings = IngestSettings(message_bus=bus_settings(nats_server), device=_write_defs(tmp_path, sim.port))
    host = build_app(settings)
    events: list[AddEventRequest] = []

    async def on_event(msg):
        events.append(AddEventRequest.model_validate(decode_envelope(msg).payload_json()))

    await bus.subscribe(topics.device_events_all(), on_event)
    async with host:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://ingest") as http:
            yield sim, host, http, events
    await sim.close()


async def test_service_publishes_edgex_events_from_the_edgex_test_profile(stack):
    _sim, _host, _http, events = stack
    await wait_until(lambda: {e.event.source_name for e in events} >= {"Values", "RoomTemperature"}, 10)
    values = next(e.event for e in events if e.event.source_name == "Values")
    assert values.device_name == DEV and values.profile_name == "Test-Device-Modbus-Profile"
    got = {r.resource_name: r.value for r in values.readings}
    # A command source applies the command's mappings, as the device SDK does for GET.
    assert got == {"SwitchA": "ON", "OperationMode": "Auto", "FanSpeed": "Auto", "Temperature": "1.9e+01"}
    room = next(e.event for e in events if e.event.source_name == "RoomTemperature")
    assert [(r.value_type, r.value) for r in room.readings] == [("Float32", "2.15e+01")]
    # Ids are name-based (contracts.ids): derived from device/source/origin, which sync's event codec exploits.
    for req in events:
        e = req.event
        assert e.id == event_id_for(e.device_name, e.source_name, e.origin)
        assert [r.id for r in e.readings] == [reading_id_for(e.id, i) for i in range(len(e.readings))]
        assert req.request_id == request_id_for(e.id)


async def test_service_rest_get_applies_mappings_and_set_writes_the_device(stack):
    sim, _host, http, _events = stack
    r = await http.get(f"/api/v3/device/name/{DEV}/Values")
    assert r.status_code == 200, r.text
    ev = EventResponse.model_validate(r.json()).event
    shown = {x.resource_name: (x.value_type, x.value) for x in ev.readings}
    assert shown["SwitchA"] == ("String", "ON") and shown["OperationMode"] == ("String", "Auto")
    assert shown["Temperature"] == ("Float32", "1.9e+01")

    r = await http.put(f"/api/v3/device/name/{DEV}/HVACValues", json={"OperationMode": "Heat", "Temperature": "23.5"})
    assert r.status_code == 200, r.text
    assert sim.get_value("OperationMode") == 1 and sim.get_value("Temperature") == 23.5
    assert (await http.get(f"/api/v3/device/name/{DEV}/FanSpeed", params={"ds-returnevent": "false"})).content == b""


async def test_service_get_command_name_may_be_a_resource_regex(stack):
    _sim, _host, http, _events = stack
    r = await http.get(f"/api/v3/device/name/{DEV}/.*Temperature")
    assert r.status_code == 200, r.text
    names = [x.resource_name for x in EventResponse.model_validate(r.json()).event.readings]
    assert names == ["RoomTemperature", "Temperature"]
    r = await http.get(f"/api/v3/device/name/{DEV}/.*Temperature", params={"ds-regexcmd": "false"})
    assert r.status_code == 404


async def test_service_get_with_ds_pushevent_publishes_the_event(stack):
    _sim, _host, http, events = stack
    r = await http.get(f"/api/v3/device/name/{DEV}/HVACValues", params={"ds-pushevent": "true"})
    assert r.status_code == 200
    sent = EventResponse.model_validate(r.json()).event
    await wait_until(lambda: any(e.event.id == sent.id for e in events), 10, message="pushed event on the bus")
    pushed = next(e.event for e in events if e.event.id == sent.id)
    assert pushed.source_name == "HVACValues" and len(pushed.readings) == 3


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/v3/device/name/nope/Values", None, 404),
        ("GET", f"/api/v3/device/name/{DEV}/Nope", None, 404),
        ("PUT", f"/api/v3/device/name/{DEV}/RoomTemperature", {"RoomTemperature": "1"}, 405),
        ("PUT", f"/api/v3/device/name/{DEV}/OperationMode", {"OperationMode": "12"}, 400),
        ("PUT", f"/api/v3/device/name/{DEV}/OperationMode", {"OperationMode": "x"}, 400),
        ("PUT", f"/api/v3/device/name/{DEV}/OperationMode", [1], 400),
        ("GET", "/api/v3/device/name/locked-1/Values", None, 423),
        ("GET", f"/api/v3/device/name/{DEV}/Values?ds-pushevent=maybe", None, 400),
    ],
)
async def test_service_rest_errors_are_edgex_shaped(stack, method, path, body, status):
    _sim, _host, http, _events = stack
    r = await http.request(method, path, json=body)
    assert r.status_code == status, r.text
    doc = r.json()
    assert doc["statusCode"] == status and doc["message"]


async def test_service_modbus_exception_and_timeout_are_clear_and_counted(stack):
    sim, _host, http, _events = stack
    sim.exception_code = 2
    r = await http.get(f"/api/v3/device/name/{DEV}/RoomTemperature")
    assert r.status_code == 502 and "ILLEGAL_DATA_ADDRESS" in r.json()["message"] and DEV in r.json()["message"]
    sim.exception_code = None
    sim.unresponsive = True
    r = await http.get(f"/api/v3/device/name/{DEV}/RoomTemperature")
    assert r.status_code in (423, 503), r.text  # 503 timeout, or 423 once the poller marked the device DOWN
    metrics = (await http.get("/metrics")).text
    assert 'edgewatch_ingest_device_errors_total{device="hvac-1",kind="ModbusExceptionError"}' in metrics
    sim.unresponsive = False


async def test_service_marks_device_down_and_answers_423_then_recovers(stack):
    sim, host, http, _events = stack
    await sim.stop()
    registry = host.app.state.registry
    await wait_until(lambda: registry.pollers[DEV].state == "DOWN", 10, message="DOWN")
    assert (await http.get(f"/api/v3/device/name/{DEV}/Values")).status_code == 423
    metrics = (await http.get("/metrics")).text
    assert 'edgewatch_ingest_device_up{device="hvac-1"} 0.0' in metrics
    await sim.restart()
    await wait_until(lambda: registry.pollers[DEV].state == "UP", 10, message="UP")
    assert (await http.get(f"/api/v3/device/name/{DEV}/Values")).status_code == 200


async def test_service_bus_commands_get_and_set(stack, bus):
    sim, _host, _http, _events = stack
    env = new_envelope(b"", query_params={"ds-pushevent": "false", "ds-returnevent": "true"})
    subject = topics.device_command_request(SERVICE_NAME, DEV, "RoomTemperature", "get")
    resp = await edgex_request(bus, subject, env, responder=SERVICE_NAME, timeout=5)
    assert resp.error_code == 0
    ev = EventResponse.model_validate(resp.payload_json()).event
    assert [r.value for r in ev.readings] == ["2.15e+01"]

    set_env = new_envelope(json.dumps({"SwitchA": "OFF", "SwitchB": "ON"}).encode())
    subject = topics.device_command_request(SERVICE_NAME, DEV, "Switch", "set")
    resp = await edgex_request(bus, subject, set_env, responder=SERVICE_NAME, timeout=5)
    assert resp.error_code == 0, resp.payload
    assert (sim.get_value("SwitchA"), sim.get_value("SwitchB")) == (False, True)

    bad = new_envelope(json.dumps({"OperationMode": "99"}).encode())
    subject = topics.device_command_request(SERVICE_NAME, DEV, "OperationMode", "set")
    resp = await edgex_request(bus, subject, bad, responder=SERVICE_NAME, timeout=5)
    assert resp.error_code == 1 and b"maximum" in resp.payload


async def test_service_validates_devices_for_core_metadata(stack, bus):
    good = {
        "name": "x",
        "serviceName": SERVICE_NAME,
        "profileName": "Test-Device-Modbus-Profile",
        "adminState": "UNLOCKED",
        "operatingState": "UP",
        "protocols": {"modbus-tcp": {"Address": "10.0.0.5", "Port": "502", "UnitID": "3"}},
    }
    bad = {**good, "protocols": {"modbus-tcp": {"Port": "502"}}}
    subject = topics.device_validation(SERVICE_NAME)
    ok = await edgex_request(
        bus,
        subject,
        new_envelope(json.dumps({"apiVersion": "v3", "device": good}).encode()),
        responder=SERVICE_NAME,
        timeout=5,
    )
    assert ok.error_code == 0
    no = await edgex_request(
        bus,
        subject,
        new_envelope(json.dumps({"apiVersion": "v3", "device": bad}).encode()),
        responder=SERVICE_NAME,
        timeout=5,
    )
    assert no.error_code == 1 and b"Address" in no.payload


async def test_service_malformed_command_is_dead_lettered_and_service_keeps_serving(stack, bus):
    dead: list[str] = []

    async def on_dead(msg):
        dead.append(msg.headers.get("Edgewatch-Reason", ""))

    await bus.subscribe(topics.dead_letter(SERVICE_NAME), on_dead)
    subject = topics.device_command_request(SERVICE_NAME, DEV, "Switch", "set")
    await bus.publish(subject, b"{not an envelope", {"Content-Type": "application/json"})
    await wait_until(lambda: dead, 10, message="dead letter")
    env = new_envelope(b"", query_params={"ds-returnevent": "true"})
    get = topics.device_command_request(SERVICE_NAME, DEV, "RoomTemperature", "get")
    resp = await edgex_request(bus, get, env, responder=SERVICE_NAME, timeout=5)
    assert resp.error_code == 0


async def test_service_set_bodies_nested_too_deep_are_refused_on_rest_and_bus(stack, bus):
    _sim, host, http, _events = stack
    deep = b'{"OperationMode": ' + b"[" * 2000 + b"]" * 2000 + b"}"
    for ct in ("application/json", "text/plain"):  # text/plain skips the middleware: the route checks itself
        r = await http.put(f"/api/v3/device/name/{DEV}/OperationMode", content=deep, headers={"content-type": ct})
        assert r.status_code == 400 and "MaxDocumentDepth" in r.json()["message"], r.text
    subject = topics.device_command_request(SERVICE_NAME, DEV, "OperationMode", "set")
    resp = await edgex_request(bus, subject, new_envelope(deep), responder=SERVICE_NAME, timeout=5)
    assert resp.error_code == 1 and b"MaxDocumentDepth" in resp.payload
    refused = host.metrics.registry.get_sample_value("edgewatch_limit_refusals_total", {"limit": "MaxDocumentDepth"})
    assert refused == 3


async def test_service_a_slow_device_does_not_hold_another_devices_bus_command(stack, bus):
    sim, _host, _http, _events = stack
    done: list[str] = []

    async def get(device: str) -> None:
        env = new_envelope(b"", query_params={"ds-returnevent": "true"})
        subject = topics.device_command_request(SERVICE_NAME, device, "RoomTemperature", "get")
        await edgex_request(bus, subject, env, responder=SERVICE_NAME, timeout=10)
        done.append(device)

    sim.unresponsive = True  # hvac-1's read now waits for its 1 s timeout; locked-1 is answered (423) without I/O
    try:
        slow = asyncio.create_task(get(DEV))
        await asyncio.sleep(0.05)
        await get("locked-1")
        await slow
    finally:
        sim.unresponsive = False
    assert done == ["locked-1", DEV]
