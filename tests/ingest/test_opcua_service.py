"""edgewatch-ingest with OPC UA end to end: EdgeX device-opc-ua's profile and device file (unchanged but for the
Endpoint) loaded from the definition folders, polled and commanded over REST, a subscribing device publishing
EdgeX events on NATS, and refusals answered as EdgeX error bodies that name the resource."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from edgewatch.common.bus.envelope import decode_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, EventResponse
from edgewatch.ingest.app import build_app
from edgewatch.ingest.config import DeviceSection, IngestSettings, OpcUaSection
from tests.conftest import bus_settings
from tests.support.opcua_sim import EDGEX_FIXTURES, make_profile, start_opcua_sim
from tests.support.waiting import wait_until

MIXER_ROWS = [
    ("Speed", "Float64", {"nodeId": "ns=2;s=Mixer1.Speed"}, {}),
    ("Ghost", "Float64", {"nodeId": "ns=2;s=Mixer1.NoSuchNode"}, {}),
    ("SetpointText", "String", {"nodeId": "ns=2;s=Mixer1.SpeedSetpoint"}, {}),
]


def _definitions(tmp: Path, endpoint: str) -> DeviceSection:
    profiles, devices = tmp / "profiles", tmp / "devices"
    profiles.mkdir()
    devices.mkdir()
    shutil.copy(EDGEX_FIXTURES / "OpcUaServer.yaml", profiles)
    edgex = yaml.safe_load((EDGEX_FIXTURES / "Simple-Devices.yaml").read_text())
    edgex["deviceList"][0]["protocols"]["opcua"]["Endpoint"] = endpoint  # the deployment's one edit
    (devices / "Simple-Devices.yaml").write_text(yaml.safe_dump(edgex))
    mixer = make_profile("mixer", MIXER_ROWS).to_dict()
    (profiles / "mixer.yaml").write_text(yaml.safe_dump(mixer))
    device = {
        "name": "mixer-1",
        "profileName": "mixer",
        "protocols": {"opcua": {"Endpoint": endpoint, "Subscribe": "Speed", "PublishingInterval": "100ms"}},
    }
    (devices / "mixer.yaml").write_text(yaml.safe_dump({"deviceList": [device]}))
    return DeviceSection(profiles_dir=str(profiles), devices_dir=str(devices), backoff_max=0.3)


@pytest.fixture
async def stack(nats_server, bus, tmp_path):  # type: ignore[no-untyped-def]
    sim = await start_opcua_sim(plant=True)
    settings = IngestSettings(
        message_bus=bus_settings(nats_server),
        device=_definitions(tmp_path, sim.endpoint),
        opcua=OpcUaSection(pki_dir=str(tmp_path / "pki"), secrets_dir=str(tmp_path / "secrets")),
        data_dir=str(tmp_path / "data"),
    )
    host = build_app(settings)
    events: list[AddEventRequest] = []

    async def on_event(msg):  # type: ignore[no-untyped-def]
        events.append(AddEventRequest.model_validate(decode_envelope(msg).payload_json()))

    await bus.subscribe(topics.device_events_all(), on_event)
    async with host:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(host.app), base_url="http://ingest") as http:
            yield sim, http, events
    await sim.close()


async def test_edgex_device_opc_ua_files_poll_and_command_unchanged(stack) -> None:  # type: ignore[no-untyped-def]
    sim, http, events = stack
    await sim.set_value("Counter", 17)
    await wait_until(lambda: any(e.event.source_name == "Counter" for e in events), 10, message="autoEvent Counter")
    counter = next(e.event for e in events if e.event.source_name == "Counter")
    assert counter.device_name == "SimulationServer" and counter.profile_name == "OPCUA-Server"
    (reading,) = counter.readings
    assert (reading.value_type, reading.value, reading.tags["opcuaStatus"]) == ("Int32", "17", "Good")

    sim.reads.clear()
    r = await http.get("/api/v3/device/name/SimulationServer/Waves")
    assert r.status_code == 200, r.text
    waves = EventResponse.model_validate(r.json()).event
    assert [x.resource_name for x in waves.readings] == ["Sawtooth", "Sinusoid", "Square", "Triangle"]
    assert 4 in sim.reads  # one Read request for the command's four nodes

    r = await http.get("/api/v3/device/name/SimulationServer/SetSpeed")  # EdgeX method: inputMap ["1500"]
    assert r.status_code == 200, r.text
    assert EventResponse.model_validate(r.json()).event.readings[0].value == "1.5e+03"
    assert sim.calls[-1] == ("Mixer1.SetSpeed", [1500.0])  # typed Double from the method's InputArguments

    r = await http.put("/api/v3/device/name/SimulationServer/Constant", json={"Constant": "2"})
    assert r.status_code == 405 and r.json()["statusCode"] == 405


async def test_subscribed_device_publishes_edgex_events_on_the_bus(stack) -> None:  # type: ignore[no-untyped-def]
    sim, _http, events = stack
    await sim.set_value("Mixer1.Speed", 1234.5)
    await wait_until(
        lambda: any(e.event.source_name == "Speed" and e.event.readings[0].value == "1.2345e+03" for e in events),
        10,
        message="pushed Speed",
    )
    pushed = next(
        e.event for e in events if e.event.source_name == "Speed" and e.event.readings[0].value == "1.2345e+03"
    )
    assert pushed.device_name == "mixer-1" and pushed.origin == pushed.readings[0].origin


REFUSALS = [
    ("GET", "Ghost", None, 404, "node ns=2;s=Mixer1.NoSuchNode: BadNodeIdUnknown"),
    ("PUT", "Ghost", {"Ghost": "1"}, 404, "BadNodeIdUnknown"),
    ("PUT", "Speed", {"Speed": "5"}, 403, "write to node ns=2;s=Mixer1.Speed: BadUserAccessDenied"),
    ("PUT", "SetpointText", {"SetpointText": "fast"}, 400, "does not fit the node's DataType Double"),
]


async def test_refusals_are_edgex_errors_naming_the_resource(stack) -> None:  # type: ignore[no-untyped-def]
    _sim, http, _events = stack
    for method, command, body, status, names in REFUSALS:
        r = await http.request(method, f"/api/v3/device/name/mixer-1/{command}", json=body)
        assert r.status_code == status, r.text
        doc = r.json()
        assert doc["apiVersion"] == "v3" and doc["statusCode"] == status
        assert doc["message"].startswith(f"mixer-1/{command}: ") and names in doc["message"]
