"""The OPC UA driver against a real asyncua server: polling reads every due node in one Read request with source
timestamps and StatusCode tags, Bad values are never good readings, method inputs are typed from the method's
argument definitions, and unknown nodes, read-only nodes and type mismatches are refused with EdgeX errors that
name the resource."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio
from asyncua import ua

from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.event import Event
from edgewatch.ingest.commands import CommandService
from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions
from edgewatch.ingest.registry import DeviceRegistry
from edgewatch.sim.opcua.model import Variable
from tests.support.opcua_sim import Recorder, make_device, make_profile, start_opcua_sim
from tests.support.waiting import wait_until

D = ua.VariantType.Double
QUIRK = Variable("Quirk", ua.NodeId("Quirk", 2), 1.5, ua.VariantType.Float, writable=True, data_type=ua.NodeId(11, 0))
ROWS = [
    ("Speed", "Float64", {"nodeId": "ns=2;s=Mixer1.Speed"}, {}),  # read-only on the server, RW in the profile
    ("SpeedSetpoint", "Float64", {"nodeId": "ns=2;s=Mixer1.SpeedSetpoint"}, {"units": "rpm"}),
    ("SetpointText", "String", {"nodeId": "ns=2;s=Mixer1.SpeedSetpoint"}, {}),
    ("SetpointArray", "Float64Array", {"nodeId": "ns=2;s=Mixer1.SpeedSetpoint"}, {}),
    ("SetpointInt", "Int64", {"nodeId": "ns=2;s=Mixer1.SpeedSetpoint"}, {}),
    ("BatchCount", "Uint32", {"nodeId": "ns=2;s=Mixer1.BatchCount"}, {}),
    ("Counter", "Int32", {"nodeId": "ns=3;i=1002"}, {}),
    ("Ghost", "Float64", {"nodeId": "ns=2;s=Mixer1.NoSuchNode"}, {}),
    ("Quirk", "Float64", {"nodeId": "ns=2;s=Quirk"}, {}),
    (
        "StartBatch",
        "Uint32",
        {"objectId": "ns=2;s=Plant.Mixer1", "methodId": "ns=2;s=Mixer1.StartBatch", "inputMap": ["Soup", "5", "70.5"]},
        {},
    ),
    ("SetSpeedArgs", "Float64Array", {"objectId": "ns=2;s=Plant.Mixer1", "methodId": "ns=2;s=Mixer1.SetSpeed"}, {}),
]


async def _publish(_e: Event) -> None:
    return None


SHARED = pytest.mark.asyncio(loop_scope="module")  # the tests on one shared simulator run on one loop


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plant(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    options = OpcUaOptions.local(tmp_path_factory.mktemp("ingest"))
    sim = await start_opcua_sim(plant=True, items=[QUIRK])
    registry = DeviceRegistry("edgewatch-ingest", {"opcua": options}, _publish)
    await registry.put_profile(make_profile("mixer", ROWS))
    await registry.put_device(make_device("mixer-1", "mixer", sim.endpoint))
    try:
        yield sim, CommandService(registry, _publish)
    finally:
        await registry.close()
        await options.pool.close()
        await sim.close()


async def _refusal(coro) -> EdgeXError:  # type: ignore[no-untyped-def]
    with pytest.raises(EdgeXError) as e:
        await coro
    return e.value


@SHARED
async def test_unknown_node_id_is_refused_naming_the_resource_on_get_and_set(plant) -> None:  # type: ignore[no-untyped-def]
    _sim, commands = plant
    for err in (
        await _refusal(commands.get("mixer-1", "Ghost")),
        await _refusal(commands.set("mixer-1", "Ghost", {"Ghost": "1"})),
    ):
        assert err.status == 404
        assert err.message.startswith("mixer-1/Ghost: ")
        assert "ns=2;s=Mixer1.NoSuchNode" in err.message and "BadNodeIdUnknown" in err.message


@SHARED
async def test_write_to_a_read_only_node_is_refused_with_the_nodes_status(plant) -> None:  # type: ignore[no-untyped-def]
    sim, commands = plant
    before = sim.get_value("Mixer1.Speed")
    err = await _refusal(commands.set("mixer-1", "Speed", {"Speed": "99"}))
    assert err.status == 403 and err.message.startswith("mixer-1/Speed: write to node ns=2;s=Mixer1.Speed")
    assert "BadUserAccessDenied" in err.message
    assert sim.get_value("Mixer1.Speed") == before


@SHARED
async def test_type_mismatches_are_refused_naming_the_resource(plant) -> None:  # type: ignore[no-untyped-def]
    sim, commands = plant
    before = sim.get_value("Mixer1.SpeedSetpoint")
    text = await _refusal(commands.set("mixer-1", "SetpointText", {"SetpointText": "fast"}))
    assert text.status == 400 and text.message.startswith("mixer-1/SetpointText: ")
    assert "does not fit the node's DataType Double" in text.message
    array = await _refusal(commands.set("mixer-1", "SetpointArray", {"SetpointArray": "[1, 2]"}))
    assert array.status == 400 and "scalar Double (ValueRank -1)" in array.message
    # the node's DataType says Double but it holds a Float: the server refuses the Double with BadTypeMismatch
    server = await _refusal(commands.set("mixer-1", "Quirk", {"Quirk": "2.5"}))
    assert server.status == 400 and server.message.startswith("mixer-1/Quirk: write to node ns=2;s=Quirk")
    assert "BadTypeMismatch" in server.message
    assert sim.get_value("Mixer1.SpeedSetpoint") == before and sim.get_value("Quirk") == 1.5


@SHARED
async def test_write_builds_the_variant_from_the_node_data_type(plant) -> None:  # type: ignore[no-untyped-def]
    sim, commands = plant
    await commands.set("mixer-1", "SpeedSetpoint", {"SpeedSetpoint": "1500"})
    assert sim.get_value("Mixer1.SpeedSetpoint") == 1500.0
    # an Int64 resource on a Double node: EdgeX sends an Int64 Variant and gets BadTypeMismatch (device-opc-ua #6)
    await commands.set("mixer-1", "SetpointInt", {"SetpointInt": "1600"})
    dv = sim.data_value("Mixer1.SpeedSetpoint")
    assert dv.Value.VariantType == ua.VariantType.Double and dv.Value.Value == 1600.0


@SHARED
async def test_method_inputs_are_typed_from_the_argument_definitions(plant) -> None:  # type: ignore[no-untyped-def]
    sim, commands = plant
    (reading,) = (await commands.get("mixer-1", "StartBatch")).readings  # inputMap ["Soup", "5", "70.5"]
    assert reading.value == "1"
    assert sim.calls[-1] == ("Mixer1.StartBatch", ["Soup", 5, 70.5])  # String, UInt32, Double
    await commands.set("mixer-1", "SetSpeedArgs", {"SetSpeedArgs": "[2200]"})
    assert sim.calls[-1] == ("Mixer1.SetSpeed", [2200.0])
    await wait_until(lambda: sim.get_value("Mixer1.SpeedSetpoint") == 2200.0, 5)
    wrong = await _refusal(commands.set("mixer-1", "SetSpeedArgs", {"SetSpeedArgs": "[1, 2]"}))
    assert wrong.status == 400 and "takes 1 input(s) (Speed), got 2" in wrong.message


async def test_polling_reads_every_due_node_in_one_request_with_source_timestamps(options: OpcUaOptions) -> None:
    sim = await start_opcua_sim(plant=True)
    rec = Recorder(options)
    try:
        await rec.registry.put_profile(make_profile("mixer", ROWS[:7]))
        sources = ["Speed", "SpeedSetpoint", "BatchCount", "Counter"]
        aes = [{"interval": "100ms", "sourceName": s} for s in sources]
        await rec.registry.put_device(make_device("mixer-1", "mixer", sim.endpoint, auto_events=aes))
        await wait_until(lambda: len(rec.events) >= 12, 10, message="three poll cycles")
        assert max(sim.reads) == len(sources)  # every due node in one Read request
        stamp = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        await sim.set_value("Mixer1.BatchCount", 3, source_time=stamp)
        await wait_until(lambda: "3" in rec.values("mixer-1", "BatchCount"), 5)
        reading = next(r for e in rec.events for r in e.readings if r.resource_name == "BatchCount" and r.value == "3")
        assert reading.origin == int(stamp.timestamp()) * 10**9  # the device's time, not the gateway's
        assert reading.tags == {"opcuaStatus": "Good", "opcuaStatusCode": "0x00000000"}
    finally:
        await rec.close()
        await sim.close()


async def test_a_bad_value_is_never_published_as_a_good_reading(options: OpcUaOptions) -> None:
    sim = await start_opcua_sim(plant=True)
    rec = Recorder(options)
    try:
        await rec.registry.put_profile(make_profile("mixer", ROWS[:7]))
        aes = [{"interval": "100ms", "sourceName": "SpeedSetpoint"}]
        await rec.registry.put_device(make_device("mixer-1", "mixer", sim.endpoint, auto_events=aes))
        await sim.set_value("Mixer1.SpeedSetpoint", 1300.0, status=ua.StatusCodes.BadSensorFailure)
        await wait_until(lambda: None in rec.values("mixer-1", "SpeedSetpoint"), 5, message="a null reading")
        bad = next(r for e in rec.events for r in e.readings if r.value is None)
        assert bad.is_null and bad.tags["opcuaStatus"] == "BadSensorFailure"
        assert bad.tags["opcuaStatusCode"] == f"0x{ua.StatusCodes.BadSensorFailure:08X}"
        assert "1.3e+03" not in rec.values("mixer-1", "SpeedSetpoint")
        assert rec.states == []  # a bad value is not an unreachable device
    finally:
        await rec.close()
        await sim.close()
