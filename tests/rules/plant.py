"""A small real plant for rules tests: a pymodbus pump + valve simulator, real core (core-data served over HTTP,
core-command on the bus) and a real ingest polling the simulator, all on the test's nats-server.

core and ingest load the same definition files (core with bypassed validation, as core's loader does), so
core-command knows the device that ingest serves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

from edgewatch.common.service.host import ServiceHost
from edgewatch.core.app import build_app as build_core
from edgewatch.core.config import CoreSettings
from edgewatch.ingest.app import build_app as build_ingest
from edgewatch.ingest.config import IngestSettings
from edgewatch.sim.modbus.server import ModbusSim, start_modbus_sim
from tests.conftest import bus_settings
from tests.support.nats_server import NatsServer
from tests.support.ports import free_port
from tests.support.waiting import wait_until

DEVICE = "plant-1"
PROFILE: dict[str, Any] = {
    "name": "plant-pump",
    "manufacturer": "edgewatch",
    "model": "test",
    "deviceResources": [
        {
            "name": "Current",
            "attributes": {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0, "rawType": "Int16"},
            "properties": {"valueType": "Float32", "readWrite": "R", "scale": 0.01, "units": "A"},
        },
        {
            "name": "Vibration",
            "attributes": {"primaryTable": "INPUT_REGISTERS", "startingAddress": 0},
            "properties": {"valueType": "Float32", "readWrite": "R", "units": "mm/s"},
        },
        {
            "name": "PumpStop",
            "attributes": {"primaryTable": "COILS", "startingAddress": 0},
            "properties": {"valueType": "Bool", "readWrite": "RW", "defaultValue": "false"},
        },
        {
            "name": "ValveOpen",
            "attributes": {"primaryTable": "COILS", "startingAddress": 1},
            "properties": {"valueType": "Bool", "readWrite": "RW", "defaultValue": "true"},
        },
    ],
}


@dataclass
class Plant:
    """Handles on the running plant; ``start_ingest`` begins polling (so a rule can be in place first)."""

    sim: ModbusSim
    core: ServiceHost
    data_url: str
    ingest_settings: IngestSettings
    ingest: ServiceHost | None = None
    write_times: list[tuple[str, float]] = field(default_factory=list)

    async def start_ingest(self) -> None:
        self.ingest = build_ingest(self.ingest_settings)
        await self.ingest.__aenter__()

    async def stop_ingest(self) -> None:
        if self.ingest is not None:
            await self.ingest.__aexit__(None, None, None)
            self.ingest = None


def _definitions(tmp: Path, port: int, interval: str) -> tuple[Path, Path]:
    profiles, devices = tmp / "profiles", tmp / "devices"
    profiles.mkdir(parents=True)
    devices.mkdir(parents=True)
    (profiles / "plant-pump.yaml").write_text(yaml.safe_dump(PROFILE))
    device = {
        "name": DEVICE,
        "profileName": PROFILE["name"],
        "serviceName": "edgewatch-ingest",
        "protocols": {"modbus-tcp": {"Address": "127.0.0.1", "Port": str(port), "UnitID": "1", "Timeout": "1s"}},
        "autoEvents": [
            {"interval": interval, "sourceName": "Current"},
            {"interval": interval, "sourceName": "Vibration"},
            {"interval": interval, "sourceName": "PumpStop"},
        ],
    }
    (devices / "plant.yaml").write_text(yaml.safe_dump({"deviceList": [device]}))
    return profiles, devices


@contextlib.asynccontextmanager
async def _served(app: Any, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server._serve())
    try:
        await wait_until(lambda: server.started, 10, message="core-data HTTP up")
        yield
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _register_service(core: ServiceHost) -> None:
    """Register ingest with core-metadata (as ingest's metadata client would); the file device then loads."""
    meta_app = next(a for lbl, _p, a in core.apps if lbl == "core-metadata")
    svc = {"name": "edgewatch-ingest", "baseAddress": "http://127.0.0.1:59900", "adminState": "UNLOCKED"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(meta_app), base_url="http://core/api/v3") as meta:
        r = await meta.post("/deviceservice", json=[{"apiVersion": "v3", "service": svc}])
        assert r.json()[0]["statusCode"] == 201, r.text

        async def device_known() -> bool:
            return (await meta.get(f"/device/name/{DEVICE}")).status_code == 200

        await wait_until(device_known, 10, message="the file device loaded into core-metadata")


@contextlib.asynccontextmanager
async def running_plant(
    nats_server: NatsServer,
    tmp: Path,
    values: dict[str, Any] | None = None,
    dynamics: Callable[[ModbusSim, float], None] | None = None,
    interval: str = "100ms",
) -> AsyncIterator[Plant]:
    """Simulator, core (core-data on HTTP) and ingest settings; ingest is started by the test."""
    sim = await start_modbus_sim(
        PROFILE, values=values or {"Current": 10.0, "Vibration": 2.0}, dynamics=dynamics, dynamics_period=0.05
    )
    plant_writes: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()
    sim.on_write.append(lambda _unit, name: plant_writes.append((name, loop.time())))
    profiles, devices = _definitions(tmp / "defs", sim.port, interval)
    data_port = free_port()
    bus = bus_settings(nats_server).model_dump(by_alias=True)
    core = build_core(
        CoreSettings.model_validate(
            {
                "MessageBus": bus,
                "Service": {"RequestTimeout": 2.0},
                "Core": {"DataPort": data_port, "ProfilesDir": str(profiles), "DevicesDir": str(devices)},
            }
        )
    )
    ingest_settings = IngestSettings.model_validate(
        {"MessageBus": bus, "Device": {"ProfilesDir": str(profiles), "DevicesDir": str(devices)}}
    )
    data_app = next(a for lbl, _p, a in core.apps if lbl == "core-data")
    plant = Plant(sim, core, f"http://127.0.0.1:{data_port}", ingest_settings, write_times=plant_writes)
    try:
        async with core, _served(data_app, data_port):
            await _register_service(core)
            try:
                yield plant
            finally:
                await plant.stop_ingest()
    finally:
        await sim.close()
