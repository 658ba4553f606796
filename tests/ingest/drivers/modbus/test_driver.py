"""Driver against the simulator: errors are typed and named, connections shared, RTU over a pty pair."""

from __future__ import annotations

import os

import pytest

from edgewatch.ingest.drivers.modbus.driver import ModbusOptions, create_driver
from edgewatch.ingest.errors import DeviceConnectError, DeviceTimeoutError, ModbusExceptionError
from tests.support.modbus_sim import make_device, make_profile, pty_bridge, start_modbus_sim
from tests.support.ports import free_port
from tests.support.waiting import wait_until

HR = "HOLDING_REGISTERS"


def _profile():
    return make_profile(
        "drv",
        [
            ("A", "Int16", {"primaryTable": HR, "startingAddress": 0}, {}),
            ("B", "Float32", {"primaryTable": HR, "startingAddress": 5}, {}),
            ("S", "Bool", {"primaryTable": "COILS", "startingAddress": 3}, {}),
        ],
    )


async def test_driver_modbus_exception_surfaces_with_code_and_device(pool):
    profile = _profile()
    sim = await start_modbus_sim(profile)
    try:
        drv = create_driver(make_device("pump-7", profile.name, sim.port), profile, ModbusOptions(pool=pool))
        sim.exception_code = 4
        with pytest.raises(ModbusExceptionError) as ei:
            await drv.read(["A"])
        assert ei.value.code == 4
        assert ei.value.status == 502
        assert "pump-7" in ei.value.message and "SERVER_DEVICE_FAILURE" in ei.value.message
        sim.exception_code = None
        assert await drv.read(["A"]) == {"A": 0}
    finally:
        await sim.close()


async def test_driver_times_out_when_the_device_stays_silent(pool):
    profile = _profile()
    sim = await start_modbus_sim(profile)
    try:
        dev = make_device("silent", profile.name, sim.port, timeout="200ms")
        drv = create_driver(dev, profile, ModbusOptions(pool=pool))
        sim.unresponsive = True
        with pytest.raises(DeviceTimeoutError) as ei:
            await drv.read(["A", "B"])
        assert ei.value.status == 503 and "silent" in ei.value.message
        assert drv.connection.stats.timeouts == 1
        sim.unresponsive = False
        sim.set_value("B", 2.5)
        assert (await drv.read(["B"]))["B"] == 2.5  # reconnects after the timeout closed the socket
    finally:
        await sim.close()


async def test_driver_unbridges_a_block_the_device_refuses(pool):
    profile = _profile()
    sim = await start_modbus_sim(profile, values={"A": 7, "B": 1.25}, strict=True)  # registers 1-4 undefined
    try:
        drv = create_driver(make_device("d", profile.name, sim.port), profile, ModbusOptions(pool=pool))
        assert [b.bridged for b in drv.plan(["A", "B"])] == [True]
        assert await drv.read(["A", "B"]) == {"A": 7, "B": 1.25}
        assert sim.requests[3] == 3  # refused bridged read, then two exact reads
        assert await drv.read(["A", "B"]) == {"A": 7, "B": 1.25}
        assert sim.requests[3] == 5  # the unbridged plan is remembered
    finally:
        await sim.close()


async def test_driver_connect_failure_backs_off_without_touching_the_network(pool):
    profile = _profile()
    drv = create_driver(make_device("gone", profile.name, free_port()), profile, ModbusOptions(pool=pool))
    with pytest.raises(DeviceConnectError):
        await drv.read(["A"])
    with pytest.raises(DeviceConnectError) as ei:
        await drv.read(["A"])
    assert "backoff" in ei.value.message
    assert drv.connection.stats.connect_failures == 1


async def test_driver_units_behind_one_endpoint_share_one_connection(pool):
    profile = _profile()
    sim = await start_modbus_sim(profile, unit_ids=[1, 2])
    try:
        sim.set_value("A", 11, unit=1)
        sim.set_value("A", 22, unit=2)
        d1 = create_driver(make_device("u1", profile.name, sim.port, unit=1), profile, ModbusOptions(pool=pool))
        d2 = create_driver(make_device("u2", profile.name, sim.port, unit=2), profile, ModbusOptions(pool=pool))
        assert (await d1.read(["A"]), await d2.read(["A"])) == ({"A": 11}, {"A": 22})
        assert d1.connection is d2.connection
        assert len(pool.connections) == 1
        await d2.write({"S": True})
        assert sim.get_value("S", unit=2) is True and sim.get_value("S", unit=1) is False
    finally:
        await sim.close()


async def test_driver_modbus_rtu_over_a_pty_pair(pool):
    try:
        for fd in os.openpty():  # only availability matters here
            os.close(fd)
    except OSError as e:
        pytest.skip(f"no pseudo-terminals in this environment: {e}")
    profile = _profile()
    async with pty_bridge() as (server_path, client_path):
        sim = await start_modbus_sim(profile, values={"A": -5, "B": 3.75}, serial_port=server_path)
        try:
            dev = make_device(
                "rtu-1",
                profile.name,
                0,
                protocols={
                    "modbus-rtu": {
                        "Address": client_path,
                        "BaudRate": 115200,
                        "DataBits": 8,
                        "StopBits": 1,
                        "Parity": "N",
                        "UnitID": 1,
                        "Timeout": "1s",
                    }
                },
            )
            drv = create_driver(dev, profile, ModbusOptions(pool=pool))
            assert await drv.read(["A", "B", "S"]) == {"A": -5, "B": 3.75, "S": False}
            await drv.write({"B": -1.5, "S": True})
            assert (sim.get_value("B"), sim.get_value("S")) == (-1.5, True)
        finally:
            await sim.close()


async def test_driver_idle_connection_closes_after_idle_timeout(pool):
    profile = _profile()
    sim = await start_modbus_sim(profile)
    try:
        proto = {"modbus-tcp": {"Address": "127.0.0.1", "Port": sim.port, "UnitID": 1, "IdleTimeout": "150ms"}}
        drv = create_driver(make_device("idle", profile.name, 0, protocols=proto), profile, ModbusOptions(pool=pool))
        await drv.read(["A"])
        assert drv.connection.is_open
        await wait_until(lambda: not drv.connection.is_open, 5, message="idle connection closed")
        assert await drv.read(["A"]) == {"A": 0}  # reopens on demand
    finally:
        await sim.close()
