"""A SET above a resource's maximum, through core-command to edgewatch-ingest and a real Modbus server: 400 naming
the resource, over REST and on the bus, and nothing is written to the device; a value in range is written."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import yaml

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import new_envelope
from edgewatch.common.bus.requestreply import edgex_request
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.commanderror import parse_error_text
from edgewatch.core.app import build_app as build_core
from edgewatch.core.config import CoreSettings
from edgewatch.ingest.app import build_app
from edgewatch.ingest.config import IngestSettings
from tests.conftest import bus_settings
from tests.ingest.test_core_integration import serve
from tests.support.modbus_sim import make_device, make_profile, start_modbus_sim
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until

SPEED = (
    "Speed",
    "Uint16",
    {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0},
    {"minimum": 0, "maximum": 3000},
)


async def test_set_above_maximum_is_400_naming_the_resource_and_never_reaches_the_device(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    profile = make_profile("drive", [SPEED])
    sim = await start_modbus_sim(profile, values={"Speed": 1500})
    (tmp_path / "profiles").mkdir()
    (tmp_path / "devices").mkdir()
    (tmp_path / "profiles" / "drive.yaml").write_text(yaml.safe_dump(profile.model_dump(by_alias=True, mode="json")))
    device = make_device("drive-1", "drive", sim.port).model_dump(by_alias=True, mode="json", exclude_none=True)
    (tmp_path / "devices" / "drive.yaml").write_text(yaml.safe_dump({"deviceList": [device]}))
    meta_port = free_port()
    core = build_core(
        CoreSettings.model_validate(
            {
                "MessageBus": bus_settings(nats_server).model_dump(by_alias=True),
                "Service": {"RequestTimeout": 3.0},
                "Core": {"MetadataPort": meta_port},
            }
        )
    )
    ingest = build_app(
        IngestSettings.model_validate(
            {
                "MessageBus": bus_settings(nats_server).model_dump(by_alias=True),
                "Device": {"ProfilesDir": str(tmp_path / "profiles"), "DevicesDir": str(tmp_path / "devices")},
                "Clients": {"CoreMetadata": {"Host": "127.0.0.1", "Port": meta_port}},
            }
        )
    )
    meta_app = next(a for lbl, _p, a in core.apps if lbl == "core-metadata")
    command_app = next(a for lbl, _p, a in core.apps if lbl == "core-command")
    cmd = httpx.AsyncClient(transport=httpx.ASGITransport(command_app), base_url="http://core/api/v3")
    try:
        async with core, serve(meta_app, meta_port), ingest:
            await wait_until(ingest.app.state.definitions.loaded.is_set, 20, message="drive-1 loaded")

            r = await cmd.put("/device/name/drive-1/Speed", json={"Speed": "3500"})
            assert r.status_code == 400, r.text
            assert r.json()["statusCode"] == 400
            assert "drive-1/Speed" in r.json()["message"] and "maximum 3000" in r.json()["message"]

            env = new_envelope(json.dumps({"Speed": "3500"}).encode())  # as rules sends it
            subject = topics.command_request("drive-1", "Speed", "set")
            reply = await edgex_request(bus, subject, env, responder="core-command", timeout=5)
            status, message = parse_error_text(reply.payload.decode())
            assert reply.error_code == 1 and status == 400 and "drive-1/Speed" in message

            assert sim.writes == [] and sim.get_value("Speed") == 1500  # the device was never written

            r = await cmd.put("/device/name/drive-1/Speed", json={"Speed": "2000"})
            assert r.status_code == 200, r.text
            assert sim.writes == [(1, "Speed")] and sim.get_value("Speed") == 2000
    finally:
        await cmd.aclose()
        await sim.close()
