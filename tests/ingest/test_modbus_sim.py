"""The profile-driven simulator the demo and the tests rely on: seeding, round trips, demo dynamics, CLI."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from edgewatch.ingest.drivers.modbus.driver import ModbusOptions, create_driver
from edgewatch.sim.modbus.demo import PumpDynamics
from edgewatch.sim.modbus.server import load_profile
from tests.support.modbus_sim import make_device, start_modbus_sim
from tests.support.ports import free_port
from tests.support.waiting import wait_until

DEMO = Path(__file__).resolve().parents[2] / "services" / "ingest" / "res" / "profiles" / "demo-pump.yaml"


async def test_sim_seeds_default_values_and_overrides():
    sim = await start_modbus_sim(DEMO, values={"Pressure": 5.5})
    try:
        assert sim.get_value("Vibration") == 2.0 and sim.get_value("Temperature") == 40.0
        assert sim.get_value("Pressure") == 5.5 and sim.get_value("PumpStop") is False
    finally:
        await sim.close()


async def test_sim_demo_pump_vibration_drops_after_pump_stop_is_written(pool):
    sim = await start_modbus_sim(DEMO, dynamics=PumpDynamics(rise=2.0), dynamics_period=0.02)
    try:
        await wait_until(lambda: sim.get_value("Vibration") > 3.0, 10, message="vibration rising")
        drv = create_driver(make_device("demo-pump", "demo-pump", sim.port), sim.profile, ModbusOptions(pool=pool))
        await drv.write({"PumpStop": True})
        assert sim.writes[-1] == (1, "PumpStop")
        await wait_until(lambda: sim.get_value("Vibration") < 0.5, 10, message="vibration after stop")
        assert sim.get_value("Current") == 0.0
    finally:
        await sim.close()


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize("extra", [[], ["--demo-pump"]])
async def test_sim_cli_serves_a_profile(pool, extra):
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edgewatch.sim.modbus",
        "--profile",
        str(DEMO),
        "--port",
        str(port),
        *extra,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_until(lambda: _port_open(port), 20, message="simulator CLI listening")
        drv = create_driver(make_device("demo-pump", "demo-pump", port), _profile(), ModbusOptions(pool=pool))
        values = await drv.read(["Vibration", "PumpStop"])
        assert values["PumpStop"] is False and values["Vibration"] > 0
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


def _profile():
    return load_profile(DEMO)
