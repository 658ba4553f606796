"""EdgeX's own Modbus test profile (../shared/edgex/profiles, unchanged) against a simulator built from it: every
resource reads back what the device holds and every writable one writes through, bit address 10.10 included."""

from __future__ import annotations

import pytest

from edgewatch.ingest.drivers.modbus.driver import ModbusOptions, create_driver
from edgewatch.ingest.runtime import DeviceRuntime
from edgewatch.sim.modbus.server import load_profile
from tests.support.modbus_sim import EDGEX_MODBUS_PROFILE, EDGEX_MODBUS_PROFILE_PARTS, make_device, start_modbus_sim
from tests.support.shared import shared_mark

pytestmark = shared_mark(*EDGEX_MODBUS_PROFILE_PARTS)

DEVICE_VALUES = {
    "SwitchA": True,
    "SwitchB": False,
    "OperationMode": 3,
    "CommunicationFailure": True,
    "FanSpeed": 9,
    "RoomTemperature": -12.5,
    "Temperature": 23.4,
}
WRITES = {"SwitchA": "false", "SwitchB": "true", "OperationMode": "11", "FanSpeed": "0", "Temperature": "-5.5"}


async def test_edgex_modbus_test_profile_reads_and_writes_every_resource(pool):
    profile = load_profile(EDGEX_MODBUS_PROFILE)
    sim = await start_modbus_sim(EDGEX_MODBUS_PROFILE, values=DEVICE_VALUES)
    try:
        dev = make_device("coolmaster", profile.name, sim.port)
        rt = DeviceRuntime(dev, profile, create_driver(dev, profile, ModbusOptions(pool=pool)))
        values, errors = await rt.read_values(list(rt.resources))
        assert not errors
        assert values == pytest.approx(DEVICE_VALUES)
        assert sim.requests[3] == 1 and sim.requests[4] == 1 and sim.requests[1] == 1  # one block per table
        for name, text in WRITES.items():
            await rt.driver.write(rt.settings_to_values(rt.resolve(name, "set"), {name: text}))
        after, _ = await rt.read_values(list(WRITES))
        assert after == pytest.approx(
            {"SwitchA": False, "SwitchB": True, "OperationMode": 11, "FanSpeed": 0, "Temperature": -5.5}
        )
        assert sim.get_value("CommunicationFailure") is True  # the bit survives writes to its neighbours
    finally:
        await sim.close()
