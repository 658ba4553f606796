"""System: a device added over core-metadata REST is polled by a running ingest, and a profile update applies live.

Real parts only: nats-server, core (served over HTTP), ingest (its metadata client talks HTTP to core and follows
system events on the bus), and a pymodbus simulator driven by the same profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from nats.aio.msg import Msg

from edgewatch.common.bus import NatsBus
from edgewatch.common.bus.envelope import decode_envelope
from edgewatch.common.contracts import topics
from edgewatch.common.service.host import ServiceHost
from edgewatch.core.app import build_app as build_core
from edgewatch.core.config import CoreSettings
from edgewatch.ingest.app import SERVICE_NAME as INGEST
from edgewatch.ingest.app import build_app as build_ingest
from edgewatch.ingest.config import IngestSettings
from edgewatch.sim.modbus.server import start_modbus_sim
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until


def _profile(scale: float) -> dict[str, Any]:
    return {
        "name": "LiveTank",
        "manufacturer": "edgewatch",
        "model": "sim",
        "deviceResources": [
            {
                "name": "Level",
                "attributes": {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0},
                "properties": {"valueType": "Int16", "readWrite": "RW", "scale": scale},
            }
        ],
    }


@contextlib.asynccontextmanager
async def _served(host: ServiceHost, label: str, port: int) -> AsyncIterator[None]:
    app = next(a for lbl, _p, a in host.apps if lbl == label)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server._serve())
    try:
        await wait_until(lambda: server.started, message=f"{label} listening")
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.mark.slow
async def test_core_device_added_over_rest_is_polled_live_and_profile_update_applies(
    nats_server: NatsServer, bus: NatsBus, tmp_path: Path
) -> None:
    meta_port = free_port()
    core_settings = CoreSettings.model_validate(
        {"MessageBus": bus_settings(nats_server).model_dump(by_alias=True), "Core": {"MetadataPort": meta_port}}
    )
    (tmp_path / "profiles").mkdir()
    (tmp_path / "devices").mkdir()
    ingest_settings = IngestSettings.model_validate(
        {
            "MessageBus": bus_settings(nats_server).model_dump(by_alias=True),
            "Clients": {"CoreMetadata": {"Host": "127.0.0.1", "Port": meta_port}},
            "Device": {"ProfilesDir": str(tmp_path / "profiles"), "DevicesDir": str(tmp_path / "devices")},
        }
    )
    events: list[dict[str, Any]] = []

    async def on_event(msg: Msg) -> None:
        events.append(json.loads(decode_envelope(msg).payload)["event"])

    await bus.nc.subscribe(topics.device_events_all(), cb=on_event)
    sim = await start_modbus_sim(_profile(1.0), values={"Level": 21})
    core = build_core(core_settings)
    async with core, _served(core, "core-metadata", meta_port):
        ingest = build_ingest(ingest_settings)
        async with ingest, httpx.AsyncClient(base_url=f"http://127.0.0.1:{meta_port}/api/v3") as meta:

            async def registered() -> bool:
                return (await meta.get(f"/deviceservice/name/{INGEST}")).status_code == 200

            await wait_until(registered, timeout=20, message="ingest registered with core-metadata")
            r = await meta.post("/deviceprofile", json=[{"apiVersion": "v3", "profile": _profile(1.0)}])
            assert r.json()[0]["statusCode"] == 201, r.text
            device = {
                "name": "tank-1",
                "serviceName": INGEST,
                "profileName": "LiveTank",
                "adminState": "UNLOCKED",
                "operatingState": "UP",
                "protocols": {"modbus-tcp": {"Address": "127.0.0.1", "Port": sim.port, "UnitID": 1}},
                "autoEvents": [{"interval": "100ms", "onChange": False, "sourceName": "Level"}],
            }
            # No bypassValidation: core asks ingest to validate the device over the bus first.
            r = await meta.post("/device", json=[{"apiVersion": "v3", "device": device}])
            assert r.json()[0]["statusCode"] == 201, r.text

            def level_values() -> list[str]:
                return [e["readings"][0]["value"] for e in events if e["deviceName"] == "tank-1"]

            await wait_until(lambda: "21" in level_values(), timeout=15, message="ingest polls the new device")

            r = await meta.put("/deviceprofile", json=[{"apiVersion": "v3", "profile": _profile(2.0)}])
            assert r.json()[0]["statusCode"] == 200, r.text
            await wait_until(lambda: "42" in level_values(), timeout=15, message="scale 2 applied live")
            assert level_values()[-1] == "42"

            r = await meta.delete("/device/name/tank-1")
            assert r.status_code == 200
    await sim.close()
