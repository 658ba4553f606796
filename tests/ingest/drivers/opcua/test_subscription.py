"""Monitored items on a real asyncua server: changes arrive as EdgeX events with the resource as source, the
deadband (absolute, and percent of the node's EURange) holds back small moves, and the queue size decides whether
changes within one publishing interval all arrive or only the latest."""

from __future__ import annotations

import pytest
import pytest_asyncio
from asyncua import ua

from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions
from edgewatch.sim.opcua.model import Variable
from tests.support.opcua_sim import Recorder, make_device, make_profile, start_opcua_sim
from tests.support.waiting import wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one simulator and one device for the whole module

D = ua.VariantType.Double
ITEMS = [
    Variable("Abs", ua.NodeId("Abs", 2), 10.0, D),
    Variable("Pct", ua.NodeId("Pct", 2), 100.0, D, eu_range=(0.0, 200.0)),
    Variable("Queued", ua.NodeId("Queued", 2), 0.0, D),
    Variable("Latest", ua.NodeId("Latest", 2), 0.0, D),
]
ROWS = [
    ("Abs", "Float64", {"nodeId": "ns=2;s=Abs", "deadbandType": "Absolute", "deadbandValue": 1.0, "queueSize": 10}, {}),
    ("Pct", "Float64", {"nodeId": "ns=2;s=Pct", "deadbandType": "Percent", "deadbandValue": 5, "queueSize": 10}, {}),
    ("Queued", "Float64", {"nodeId": "ns=2;s=Queued", "queueSize": 5, "samplingInterval": 0}, {}),
    ("Latest", "Float64", {"nodeId": "ns=2;s=Latest", "monitored": True}, {"units": "m"}),
]
DEV = "line-1"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def line(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    sim = await start_opcua_sim(items=ITEMS)
    rec = Recorder(OpcUaOptions.local(tmp_path_factory.mktemp("ingest")))
    await rec.registry.put_profile(make_profile("line", ROWS))
    await rec.registry.put_device(make_device(DEV, "line", sim.endpoint, PublishingInterval="100ms"))
    await wait_until(lambda: all(rec.values(DEV, n) for n in ("Abs", "Pct", "Queued", "Latest")), 10, message="initial")
    try:
        yield sim, rec
    finally:
        await rec.close()
        await sim.close()


async def test_changes_become_events_sourced_by_the_resource_with_the_device_timestamp(line) -> None:  # type: ignore[no-untyped-def]
    sim, rec = line
    await sim.set_value("Latest", 7.25)
    await wait_until(lambda: "7.25e+00" in rec.values(DEV, "Latest"), 5)
    event = next(e for e in rec.events if e.source_name == "Latest" and e.readings[0].value == "7.25e+00")
    (reading,) = event.readings
    dv = sim.data_value("Latest")
    assert event.origin == reading.origin == int(dv.SourceTimestamp.timestamp() * 1e6) * 1000
    assert reading.units == "m" and reading.tags == {"opcuaStatus": "Good", "opcuaStatusCode": "0x00000000"}
    assert event.profile_name == "line" and event.device_name == DEV


async def test_absolute_deadband_holds_back_moves_within_it(line) -> None:  # type: ignore[no-untyped-def]
    sim, rec = line
    assert rec.values(DEV, "Abs") == ["1e+01"]
    await sim.set_value("Abs", 10.2)  # |0.2| <= 1: held back
    await sim.set_value("Abs", 11.5)
    await wait_until(lambda: "1.15e+01" in rec.values(DEV, "Abs"), 5)
    await sim.set_value("Abs", 11.6)  # held back
    await sim.set_value("Abs", 20.0)
    await wait_until(lambda: "2e+01" in rec.values(DEV, "Abs"), 5)
    assert rec.values(DEV, "Abs") == ["1e+01", "1.15e+01", "2e+01"]


async def test_percent_deadband_uses_the_nodes_eurange(line) -> None:  # type: ignore[no-untyped-def]
    sim, rec = line
    # EURange 0..200, 5 % = 10 units from the last delivered value; asyncua's server ignores Percent, ingest does not
    assert rec.values(DEV, "Pct") == ["1e+02"]
    for v in (105.0, 112.0):
        await sim.set_value("Pct", v)
    await wait_until(lambda: "1.12e+02" in rec.values(DEV, "Pct"), 5)
    for v in (118.0, 130.0):
        await sim.set_value("Pct", v)
    await wait_until(lambda: "1.3e+02" in rec.values(DEV, "Pct"), 5)
    assert rec.values(DEV, "Pct") == ["1e+02", "1.12e+02", "1.3e+02"]


async def test_queue_size_keeps_every_change_of_one_publishing_interval(line) -> None:  # type: ignore[no-untyped-def]
    sim, rec = line
    for v in (1.0, 2.0, 3.0):  # the in-process server takes the three writes before its next publish
        await sim.set_value("Queued", v)
        await sim.set_value("Latest", v)
    await wait_until(lambda: "3e+00" in rec.values(DEV, "Queued") and "3e+00" in rec.values(DEV, "Latest"), 5)
    assert rec.values(DEV, "Queued")[-3:] == ["1e+00", "2e+00", "3e+00"]  # queueSize 5
    assert "2e+00" not in rec.values(DEV, "Latest")  # queueSize 1: the latest value only


async def test_devices_on_one_endpoint_share_one_session_with_a_publish_request_each(line) -> None:  # type: ignore[no-untyped-def]
    sim, rec = line
    for name in ("line-2", "line-3"):
        await rec.registry.put_device(make_device(name, "line", sim.endpoint, PublishingInterval="250ms"))
    await wait_until(lambda: rec.values("line-3", "Latest"), 10, message="third device subscribed")
    (session,) = rec.options.pool.sessions.values()  # one endpoint, one security, one identity: one session
    assert session.users == 3 and session.stats.connects == 1
    assert len([t for t in session._publishers if not t.done()]) == 2  # asyncua's own request + 2: one per device
    await sim.set_value("Latest", 42.0)
    for name in (DEV, "line-2", "line-3"):
        await wait_until(lambda name=name: "4.2e+01" in rec.values(name, "Latest"), 5)  # type: ignore[misc]
