"""Every EdgeX valueType read and written through ingest's command path (runtime + OPC UA driver) against a real
asyncua server whose nodes have the matching OPC UA DataTypes."""

from __future__ import annotations

import base64

import pytest

from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.event import Event
from edgewatch.ingest.commands import CommandService
from edgewatch.ingest.drivers.opcua.pool import OpcUaOptions
from edgewatch.ingest.registry import DeviceRegistry
from tests.support.opcua_sim import TYPE_ROWS, make_device, make_profile, start_opcua_sim, type_variables

DEV = "types-1"


async def _publish(_e: Event) -> None:
    return None


@pytest.fixture
async def typed(options: OpcUaOptions):  # type: ignore[no-untyped-def]
    sim = await start_opcua_sim(items=type_variables())
    rows = [
        (vt, vt, {"nodeId": f"ns=2;s=Types.{vt}"}, {"readWrite": "R"} if vt == "Binary" else {}) for vt, *_ in TYPE_ROWS
    ]
    registry = DeviceRegistry("edgewatch-ingest", {"opcua": options}, _publish)
    await registry.put_profile(make_profile("types", rows))
    await registry.put_device(make_device(DEV, "types", sim.endpoint))
    assert registry.errors == {}
    try:
        yield sim, CommandService(registry, _publish)
    finally:
        await registry.close()
        await sim.close()


async def test_every_value_type_reads_as_edgex_shows_it_in_one_read_request(typed) -> None:  # type: ignore[no-untyped-def]
    sim, commands = typed
    await commands.get(DEV, "Bool")  # connects (and reads the server's operation limits)
    sim.reads.clear()
    shown = {}
    for vt, *_ in TYPE_ROWS:
        event = await commands.get(DEV, vt)
        (reading,) = event.readings
        assert reading.value_type == vt and reading.tags["opcuaStatus"] == "Good"
        if vt == "Binary":
            shown[vt] = base64.b64decode(reading.model_dump(by_alias=True, mode="json")["binaryValue"])
            assert reading.media_type == "application/octet-stream"
        elif vt in ("Object", "ObjectArray"):
            shown[vt] = reading.object_value
        else:
            shown[vt] = reading.value
    assert shown == {vt: seen for vt, _, _, seen, _, _ in TYPE_ROWS}
    assert sim.reads == [1] * len(TYPE_ROWS)
    # one command reading every resource is one Read request
    event = await commands.get(DEV, ".*")  # ds-regexcmd: every readable resource
    assert len(event.readings) == len(TYPE_ROWS) and sim.reads[-1] == len(TYPE_ROWS)


async def test_every_writable_value_type_is_written_with_the_nodes_data_type(typed) -> None:  # type: ignore[no-untyped-def]
    sim, commands = typed
    for vt, _, _, _, text, stored in TYPE_ROWS:
        if text is None:
            continue
        await commands.set(DEV, vt, {vt: text})
        node_value = sim.get_value(vt)
        if vt == "Object":
            assert (node_value.Low, node_value.High) == (5.0, 6.5)
        elif vt == "ObjectArray":
            assert [(r.Low, r.High) for r in node_value] == [(-1.0, 1.0)]
        else:
            assert node_value == pytest.approx(stored), vt
        (reading,) = (await commands.get(DEV, vt)).readings  # and it reads back through the driver
        if vt.startswith("Object"):
            assert reading.object_value == text
        elif vt not in ("Float32", "Float64", "Float32Array", "Float64Array"):
            assert reading.typed_value() == stored, vt
    # Binary resources are read-only, as EdgeX requires: the refusal comes before the device
    with pytest.raises(EdgeXError) as e:
        await commands.set(DEV, "Binary", {"Binary": "AAE="})
    assert e.value.status == 405 and sim.get_value("Binary") == b"\x00\x01\xff"
