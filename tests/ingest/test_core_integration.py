"""ingest with a real core (core-metadata over real HTTP, system events over nats-server): registration, device
loading, DOWN/UP PATCHed to metadata, devices and profile changes applied live."""

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
import yaml

from edgewatch.common.bus.envelope import decode_envelope, new_envelope
from edgewatch.common.bus.requestreply import edgex_request
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.event import AddEventRequest, EventResponse
from edgewatch.core.app import build_app as build_core
from edgewatch.core.config import CoreSettings
from edgewatch.ingest.app import SERVICE_NAME, build_app
from edgewatch.ingest.config import IngestSettings
from tests.conftest import bus_settings
from tests.support.modbus_sim import start_modbus_sim
from tests.support.ports import free_port
from tests.support.waiting import wait_until

DEMO = Path(__file__).resolve().parents[2] / "services" / "ingest" / "res" / "profiles" / "demo-pump.yaml"


@contextlib.asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server._serve())
    await wait_until(lambda: server.started, 10, message="core-metadata HTTP up")
    try:
        yield
    finally:
        server.should_exit = True
        await task


def _defs(tmp: Path, port: int) -> dict[str, str]:
    (tmp / "profiles").mkdir()
    (tmp / "devices").mkdir()
    (tmp / "profiles" / "demo-pump.yaml").write_text(DEMO.read_text())
    doc = {
        "deviceList": [
            {
                "name": "pump-a",
                "profileName": "demo-pump",
                "protocols": {"modbus-tcp": {"Address": "127.0.0.1", "Port": port, "UnitID": 1, "Timeout": "1s"}},
                "autoEvents": [{"interval": "100ms", "sourceName": "Vibration"}],
            }
        ]
    }
    (tmp / "devices" / "pump.yaml").write_text(yaml.safe_dump(doc))
    return {"ProfilesDir": str(tmp / "profiles"), "DevicesDir": str(tmp / "devices"), "BackoffMax": 0.3}


async def test_ingest_registers_with_core_and_follows_metadata_live(nats_server, bus, tmp_path):
    sim = await start_modbus_sim(DEMO, values={"Vibration": 2.5, "Temperature": 41.0}, unit_ids=[1, 2])
    meta_port = free_port()
    core_settings = CoreSettings.model_validate(
        {
            "MessageBus": bus_settings(nats_server).model_dump(by_alias=True),
            "Service": {"RequestTimeout": 2.0},
            "Core": {"MetadataPort": meta_port},
        }
    )
    core = build_core(core_settings)
    meta_app = next(a for lbl, _p, a in core.apps if lbl == "core-metadata")
    events: list[AddEventRequest] = []

    async def on_event(msg):
        events.append(AddEventRequest.model_validate(decode_envelope(msg).payload_json()))

    await bus.subscribe(topics.device_events_all(), on_event)
    settings = IngestSettings.model_validate(
        {
            "MessageBus": bus_settings(nats_server).model_dump(by_alias=True),
            "Device": _defs(tmp_path, sim.port),
            "Clients": {"CoreMetadata": {"Host": "127.0.0.1", "Port": meta_port}},
            "BaseAddress": "http://127.0.0.1:59900",
        }
    )
    ingest = build_app(settings)
    meta = httpx.AsyncClient(base_url=f"http://127.0.0.1:{meta_port}/api/v3")
    try:
        async with ingest:  # started before core: metadata calls are retried until core answers
            async with core, serve(meta_app, meta_port):
                defs = ingest.app.state.definitions
                await wait_until(defs.loaded.is_set, 20, message="devices loaded from core")
                svc = (await meta.get(f"/deviceservice/name/{SERVICE_NAME}")).json()["service"]
                assert svc["baseAddress"] == "http://127.0.0.1:59900"
                assert (await meta.get("/device/name/pump-a")).json()["device"]["serviceName"] == SERVICE_NAME
                await wait_until(lambda: any(e.event.device_name == "pump-a" for e in events), 10)

                async def state_is(name: str, expected: str) -> bool:
                    doc = (await meta.get(f"/device/name/{name}")).json()
                    return bool(doc["device"]["operatingState"] == expected)

                await sim.stop()
                await wait_until(lambda: state_is("pump-a", "DOWN"), 15, message="DOWN in core-metadata")
                await sim.restart()
                await wait_until(lambda: state_is("pump-a", "UP"), 15, message="UP in core-metadata")

                # The walking skeleton's actuation hop: core-command on the bus -> ingest writes the coil.
                env = new_envelope(json.dumps({"PumpStop": "true"}).encode())
                subject = topics.command_request("pump-a", "PumpStop", "set")
                resp = await edgex_request(bus, subject, env, responder="core-command", timeout=5)
                assert resp.error_code == 0, resp.payload
                assert sim.get_value("PumpStop") is True
                get = new_envelope(b"", query_params={"ds-returnevent": "true"})
                resp = await edgex_request(
                    bus, topics.command_request("pump-a", "Vibration", "get"), get, responder="core-command", timeout=5
                )
                assert resp.error_code == 0
                assert EventResponse.model_validate(resp.payload_json()).event.readings[0].value == "2.5e+00"

                # A device added in core-metadata starts polling here (system event, no restart).
                new = {
                    "apiVersion": "v3",
                    "device": {
                        "name": "pump-b",
                        "serviceName": SERVICE_NAME,
                        "profileName": "demo-pump",
                        "adminState": "UNLOCKED",
                        "operatingState": "UP",
                        "protocols": {"modbus-tcp": {"Address": "127.0.0.1", "Port": str(sim.port), "UnitID": "2"}},
                        "autoEvents": [{"interval": "100ms", "sourceName": "Temperature"}],
                    },
                }
                r = await meta.post("/device", json=[new])
                assert r.status_code == 207 and r.json()[0]["statusCode"] == 201, r.text
                await wait_until(lambda: any(e.event.device_name == "pump-b" for e in events), 15, message="pump-b")

                # A profile update re-parses attributes live: Temperature's scale 0.1 -> 0.2 doubles the value.
                profile = (await meta.get("/deviceprofile/name/demo-pump")).json()["profile"]
                for res in profile["deviceResources"]:
                    if res["name"] == "Temperature":
                        res["properties"]["scale"] = 0.2
                r = await meta.put("/deviceprofile", json=[{"apiVersion": "v3", "profile": profile}])
                assert r.status_code == 207 and r.json()[0]["statusCode"] == 200, r.text

                def temp_of_b() -> float | None:
                    for e in reversed(events):
                        if e.event.device_name == "pump-b":
                            return e.event.readings[0].typed_value()
                    return None

                await wait_until(lambda: temp_of_b() == pytest.approx(82.0), 15, message="re-scaled Temperature")

                r = await meta.delete("/device/name/pump-b")
                assert r.status_code == 200
                await wait_until(lambda: "pump-b" not in ingest.app.state.registry.devices, 10)
    finally:
        await meta.aclose()
        await sim.close()
