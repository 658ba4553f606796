"""EdgeX nodeId strings and device-opc-ua attributes, parsed at load with errors that name what is wrong."""

from __future__ import annotations

import uuid

import pytest
from asyncua import ua

from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.opcua.attributes import Deadband, MonitorSpec, Trigger, parse_attributes
from edgewatch.protocols.opcua.nodeid import format_node_id, parse_node_id

GUID = "72962b91-fa75-4ae6-8d28-b404dc7daf63"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ns=3;i=1001", ua.NodeId(1001, 3)),
        ("i=2258", ua.NodeId(2258, 0)),
        ("ns=2;s=Mixer1.Speed", ua.NodeId("Mixer1.Speed", 2)),
        ("ns=2;s=a;b=c", ua.NodeId("a;b=c", 2)),
        (f"ns=1;g={GUID}", ua.NodeId(uuid.UUID(GUID), 1)),
        ("ns=4;b=AAEC/w==", ua.NodeId(b"\x00\x01\x02\xff", 4)),
    ],
)
def test_nodeid_parses_every_edgex_form_and_formats_back(text: str, expected: ua.NodeId) -> None:
    node = parse_node_id(text)
    assert node == expected
    assert parse_node_id(format_node_id(node)) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "non-empty"),
        ("ns=x;i=1", "namespace 'x'"),
        ("ns=3", "no identifier"),
        ("ns=3;q=1", "i=, s=, g= or b="),
        ("ns=3;i=-1", "outside 0..4294967295"),
        ("ns=3;g=nope", "not a GUID"),
        ("ns=3;b=***", "not base64"),
        ("nsu=urn:x;i=1", "i=, s=, g= or b="),
    ],
)
def test_nodeid_refuses_bad_text_naming_device_resource_and_reason(text: str, why: str) -> None:
    with pytest.raises(ProfileConfigError) as e:
        parse_node_id(text, device="press-1", resource="Force")
    assert e.value.message.startswith("press-1/Force: nodeId") and why in e.value.message
    assert e.value.status == 400


def test_attributes_edgex_variable_and_method_forms() -> None:
    var = parse_attributes({"nodeId": "ns=3;i=1002"}, "Int32")
    assert var.node_id == ua.NodeId(1002, 3) and var.method is None and var.monitor is None
    method = parse_attributes(
        {"objectId": "ns=2;s=Plant.Mixer1", "methodId": "ns=2;s=Mixer1.StartBatch", "inputMap": ["Soup", 5, True]},
        "Uint32",
    )
    assert method.method is not None and method.node_id is None
    assert method.method.inputs == ("Soup", "5", "true")
    assert method.method.method_id == ua.NodeId("Mixer1.StartBatch", 2)


def test_attributes_monitoring_keys_make_a_monitored_item_with_the_requested_parameters() -> None:
    a = parse_attributes(
        {
            "nodeId": "ns=2;s=T",
            "samplingInterval": "250ms",
            "queueSize": "5",
            "discardOldest": "false",
            "deadbandType": "percent",
            "deadbandValue": 2.5,
            "dataChangeTrigger": "StatusValueTimestamp",
        },
        "Float64",
    )
    assert a.monitor == MonitorSpec(250.0, 5, False, Deadband.PERCENT, 2.5, Trigger.STATUS_VALUE_TIMESTAMP)
    f = a.monitor.data_change_filter()
    assert (f.DeadbandType, f.DeadbandValue, int(f.Trigger)) == (2, 2.5, 2)
    assert parse_attributes({"nodeId": "ns=2;s=T", "monitored": True}, "Int16").monitor == MonitorSpec()
    assert parse_attributes({"nodeId": "ns=2;s=T", "monitored": "false"}, "Int16").monitor is None
    assert parse_attributes({"nodeId": "ns=2;s=T"}, "Int16", monitored=True).monitor == MonitorSpec()


@pytest.mark.parametrize(
    ("attrs", "vt", "why"),
    [
        ({}, "Float64", "nodeId is required"),
        ({"objectId": "ns=2;s=O"}, "Float64", "both objectId and methodId"),
        ({"nodeId": "ns=2;s=T", "queueSize": 0}, "Float64", "queueSize 0"),
        ({"nodeId": "ns=2;s=T", "deadbandType": "Relative"}, "Float64", "None, Absolute, Percent"),
        ({"nodeId": "ns=2;s=T", "deadbandValue": -1}, "Float64", "deadbandValue"),
        ({"nodeId": "ns=2;s=T", "deadbandType": "Percent", "deadbandValue": 150}, "Float64", "0..100"),
        ({"nodeId": "ns=2;s=T", "deadbandType": "Absolute", "deadbandValue": 1}, "String", "numeric valueType"),
        ({"nodeId": "ns=2;s=T", "samplingInterval": "soon"}, "Float64", "samplingInterval"),
        ({"objectId": "ns=2;s=O", "methodId": "ns=2;s=M", "monitored": True}, "Float64", "cannot be monitored"),
    ],
)
def test_attributes_refuse_invalid_keys_naming_the_resource(attrs: dict[str, object], vt: str, why: str) -> None:
    with pytest.raises(ProfileConfigError) as e:
        parse_attributes(attrs, vt, device="d", resource="R")
    assert e.value.message.startswith("d/R: ") and why in e.value.message
