"""A device behind a server that stops: DOWN while unreachable (commands refused with the reason, nothing published),
UP again by itself when the server is back, with its subscription restored and no duplicated or fabricated
readings (the server re-sends the current value to the new subscription; it is recognised as already delivered)."""

from __future__ import annotations

import pytest
from asyncua import ua

from edgewatch.common.contracts.errors import LockedError
from edgewatch.ingest.drivers.opcua.driver import OpcUaDriver
from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions
from edgewatch.sim.opcua.model import Variable
from tests.support.opcua_sim import Recorder, make_device, make_profile, start_opcua_sim
from tests.support.waiting import wait_until

DEV = "tank-1"


async def test_server_restart_marks_down_then_up_and_restores_the_subscription(options: OpcUaOptions) -> None:
    sim = await start_opcua_sim(items=[Variable("Level", ua.NodeId("Level", 2), 1.0, ua.VariantType.Double)])
    rec = Recorder(options)
    try:
        rows = [("Level", "Float64", {"nodeId": "ns=2;s=Level", "queueSize": 10}, {})]
        await rec.registry.put_profile(make_profile("tank", rows))
        await rec.registry.put_device(make_device(DEV, "tank", sim.endpoint, PublishingInterval="100ms"))
        await wait_until(lambda: rec.values(DEV, "Level") == ["1e+00"], 10, message="initial value")
        await sim.set_value("Level", 2.0)
        await wait_until(lambda: rec.values(DEV, "Level") == ["1e+00", "2e+00"], 5)

        await sim.stop()
        await wait_until(lambda: (DEV, "DOWN") in rec.states, 10, message="device DOWN")
        before = len(rec.events)
        with pytest.raises(LockedError) as refused:
            rec.registry.runtime(DEV)
        assert "is DOWN: " in refused.value.message  # with the reason (connection lost / refused)

        await sim.start()  # same port; the server kept its values and their timestamps
        await wait_until(lambda: rec.states[-1] == (DEV, "UP"), 15, message="device UP again")
        await sim.set_value("Level", 3.0)
        await wait_until(lambda: "3e+00" in rec.values(DEV, "Level"), 5)

        assert rec.values(DEV, "Level") == ["1e+00", "2e+00", "3e+00"]  # nothing fabricated, nothing repeated
        assert rec.states == [(DEV, "DOWN"), (DEV, "UP")]
        assert len(rec.events) == before + 1
        assert len({e.id for e in rec.events}) == len(rec.events)
        driver = rec.registry.runtimes[DEV].driver
        assert isinstance(driver, OpcUaDriver) and driver.monitor is not None
        assert driver.monitor.stats.subscriptions == 2 and driver.monitor.stats.repeats >= 1
        rec.registry.runtime(DEV)  # commands accepted again
    finally:
        await rec.close()
        await sim.close()


async def test_polled_device_goes_down_and_up_without_fabricated_readings(options: OpcUaOptions) -> None:
    sim = await start_opcua_sim(items=[Variable("Level", ua.NodeId("Level", 2), 1.0, ua.VariantType.Double)])
    rec = Recorder(options)
    try:
        await rec.registry.put_profile(make_profile("tank", [("Level", "Float64", {"nodeId": "ns=2;s=Level"}, {})]))
        aes = [{"interval": "100ms", "sourceName": "Level"}]
        await rec.registry.put_device(make_device(DEV, "tank", sim.endpoint, auto_events=aes))
        await wait_until(lambda: len(rec.events) >= 2, 10)
        await sim.stop()
        await wait_until(lambda: (DEV, "DOWN") in rec.states, 10, message="device DOWN")
        during = len(rec.events)
        await sim.start()
        await wait_until(lambda: rec.states[-1] == (DEV, "UP"), 15, message="device UP again")
        down_at = next(i for i, s in enumerate(rec.states) if s == (DEV, "DOWN"))
        assert rec.states[down_at:] == [(DEV, "DOWN"), (DEV, "UP")]
        await wait_until(lambda: len(rec.events) > during, 5)
        assert set(rec.values(DEV, "Level")) == {"1e+00"}  # only what the device holds; nothing made up
    finally:
        await rec.close()
        await sim.close()


async def test_the_echo_of_an_operating_state_change_does_not_restart_the_device(options: OpcUaOptions) -> None:
    rec = Recorder(options)
    try:
        await rec.registry.put_profile(make_profile("tank", [("Level", "Float64", {"nodeId": "ns=2;s=Level"}, {})]))
        device = make_device(DEV, "tank", "opc.tcp://127.0.0.1:1/none", Subscribe="Level")
        await rec.registry.put_device(device)
        runtime = rec.registry.runtimes[DEV]
        # core-metadata's system event for the operatingState ingest itself PATCHed: same device, other state
        await rec.registry.put_device(device.model_copy(update={"operating_state": "DOWN"}))
        assert rec.registry.runtimes[DEV] is runtime
        await rec.registry.put_device(device.model_copy(update={"description": "moved"}))  # a real change restarts
        assert rec.registry.runtimes[DEV] is not runtime
    finally:
        await rec.close()
