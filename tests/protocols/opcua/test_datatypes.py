"""valueType <-> OPC UA Variant: writes follow the node's DataType and ValueRank, reads the resource's valueType,
and whatever does not fit is refused with a 400 naming the resource."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from asyncua import ua

from edgewatch.common.contracts.valuetype import ValueType as VT
from edgewatch.protocols.opcua.datatypes import (
    NodeType,
    from_variant,
    to_unix_ns,
    to_variant,
    value_type_for,
    variant_type_of,
)
from edgewatch.protocols.opcua.errors import OpcUaTypeError

V = ua.VariantType


@pytest.mark.parametrize(
    ("value", "node", "expected"),
    [
        (7, NodeType(V.Int16), ua.Variant(7, V.Int16)),  # an Int64 resource writing an Int16 node (EdgeX #6)
        (3.0, NodeType(V.Int32), ua.Variant(3, V.Int32)),
        (2, NodeType(V.Double), ua.Variant(2.0, V.Double)),
        (1.5, NodeType(V.Float), ua.Variant(1.5, V.Float)),
        (True, NodeType(V.Boolean), ua.Variant(True, V.Boolean)),
        ("hi", NodeType(V.LocalizedText), ua.Variant(ua.LocalizedText("hi"), V.LocalizedText)),
        ([1, 2], NodeType(V.UInt32, 1), ua.Variant([1, 2], V.UInt32, is_array=True)),
        ([1, 255], NodeType(V.ByteString), ua.Variant(b"\x01\xff", V.ByteString)),
        (0, NodeType(V.DateTime), ua.Variant(datetime(1970, 1, 1, tzinfo=UTC), V.DateTime)),
    ],
)
def test_to_variant_builds_the_nodes_type(value: object, node: NodeType, expected: ua.Variant) -> None:
    assert to_variant(value, node) == expected


@pytest.mark.parametrize(
    ("value", "node", "why"),
    [
        (70000, NodeType(V.Int16), "outside the node's DataType Int16"),
        (-1, NodeType(V.UInt32), "outside the node's DataType UInt32"),
        (3.5, NodeType(V.Int32), "does not fit the node's DataType Int32"),
        (True, NodeType(V.Double), "does not fit the node's DataType Double"),
        ("abc", NodeType(V.Double), "does not fit the node's DataType Double"),
        (1, NodeType(V.String), "does not fit the node's DataType String"),
        ([1.0, 2.0], NodeType(V.Double, -1), "scalar Double (ValueRank -1)"),
        (1.0, NodeType(V.Double, 1), "array of Double (ValueRank 1)"),
        (1e39, NodeType(V.Float), "outside the node's DataType Float"),
        ({"Low": 1}, NodeType(V.ExtensionObject, -1, ua.NodeId(999, 7)), "not known to the client"),
        ({"Nope": 1}, NodeType(V.ExtensionObject, -1, ua.NodeId(884, 0)), "Range has no field(s) ['Nope']"),
    ],
)
def test_to_variant_refuses_what_the_node_cannot_hold(value: object, node: NodeType, why: str) -> None:
    with pytest.raises(OpcUaTypeError) as e:
        to_variant(value, node, device="m1", resource="Setpoint")
    assert e.value.status == 400
    assert e.value.message.startswith("m1/Setpoint: ") and why in e.value.message


@pytest.mark.parametrize(
    ("raw", "vt", "expected"),
    [
        (7, VT.FLOAT64, 7.0),
        (1.5, VT.FLOAT32, 1.5),
        (40000, VT.INT32, 40000),
        (4.0, VT.INT16, 4),
        (ua.LocalizedText("Run"), VT.STRING, "Run"),
        (b"\x01\x02", VT.UINT8_ARRAY, [1, 2]),
        ([1, 2], VT.FLOAT64_ARRAY, [1.0, 2.0]),
        (ua.Range(1, 2), VT.OBJECT, {"Low": 1, "High": 2}),
        (ua.Range(1, 2), VT.OBJECT_ARRAY, [{"Low": 1, "High": 2}]),
        (datetime(2024, 1, 1, tzinfo=UTC), VT.INT64, 1704067200000000000),
        (ua.StatusCode(0x80340000), VT.UINT32, 0x80340000),
    ],
)
def test_from_variant_converts_to_the_value_type(raw: object, vt: VT, expected: object) -> None:
    assert from_variant(raw, vt) == expected


@pytest.mark.parametrize(
    ("raw", "vt"),
    [(4000000000, VT.INT32), (1.5, VT.INT16), ("x", VT.FLOAT64), ([1], VT.INT32), (1, VT.INT32_ARRAY), (1, VT.BOOL)],
)
def test_from_variant_refuses_a_node_value_the_value_type_cannot_hold(raw: object, vt: VT) -> None:
    with pytest.raises(OpcUaTypeError):
        from_variant(raw, vt, device="m1", resource="R")


def test_builtin_and_standard_subtypes_need_no_server_round_trip() -> None:
    assert variant_type_of(ua.NodeId(11, 0)) is V.Double
    assert variant_type_of(ua.NodeId(290, 0)) is V.Double  # Duration
    assert variant_type_of(ua.NodeId(294, 0)) is V.DateTime  # UtcTime
    assert variant_type_of(ua.NodeId(29, 0)) is V.Int32  # Enumeration
    assert variant_type_of(ua.NodeId(3001, 2)) is None  # a vendor type: ask the server


@pytest.mark.parametrize(
    ("variant", "rank", "vt"),
    [
        (V.Double, -1, VT.FLOAT64),
        (V.Float, 1, VT.FLOAT32_ARRAY),
        (V.Byte, -1, VT.UINT8),
        (V.LocalizedText, -1, VT.STRING),
        (V.ByteString, -1, VT.BINARY),
        (V.ExtensionObject, 1, VT.OBJECT_ARRAY),
        (V.ByteString, 1, None),
        (V.DiagnosticInfo, -1, None),
    ],
)
def test_browsed_variables_map_to_edgex_value_types(variant: ua.VariantType, rank: int, vt: VT | None) -> None:
    assert value_type_for(variant, rank) is vt


def test_timestamps_become_unix_nanoseconds_exactly() -> None:
    assert to_unix_ns(datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)) == 1704067200123456000
    assert to_unix_ns(datetime(2024, 1, 1)) == 1704067200000000000  # naive = UTC, as asyncua decodes
