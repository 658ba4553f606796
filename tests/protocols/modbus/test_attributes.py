"""Attribute parsing: EdgeX device-modbus spellings accepted, mistakes named at load time."""

from __future__ import annotations

import pytest

from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.modbus.attributes import Table, parse_attributes


@pytest.mark.parametrize(
    ("raw", "table"),
    [
        ("COILS", Table.COILS),
        ("coils", Table.COILS),
        ("Discretes_Input", Table.DISCRETE_INPUTS),
        ("DISCRETE_INPUTS", Table.DISCRETE_INPUTS),
        ("input_registers", Table.INPUT_REGISTERS),
        ("HOLDING_REGISTERS", Table.HOLDING_REGISTERS),
    ],
)
def test_attributes_primary_table_is_case_insensitive(raw, table):
    vt = "Bool" if table.is_bit else "Int16"
    assert parse_attributes({"primaryTable": raw, "startingAddress": 0}, vt).table is table


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        (7, (7, None)),
        ("7", (7, None)),
        (10.10, (10, 10)),
        ("10.10", (10, 10)),
        ("10.1", (10, 1)),
        (10.1, (10, 10)),
        (3.0, (3, 0)),
        ("65535", (65535, None)),
    ],
)
def test_attributes_starting_address_follows_device_modbus_formatting(addr, expected):
    a = parse_attributes({"primaryTable": "HOLDING_REGISTERS", "startingAddress": addr}, "Bool")
    assert (a.address, a.bit) == (expected[0], expected[1] if expected[1] is not None else 0)


@pytest.mark.parametrize(
    ("attrs", "vt", "needle"),
    [
        ({"startingAddress": 1}, "Int16", "primaryTable is required"),
        ({"primaryTable": "HOLDING_REGISTERS"}, "Int16", "startingAddress is required"),
        ({"primaryTable": "REGS", "startingAddress": 1}, "Int16", "primaryTable 'REGS'"),
        ({"primaryTable": "COILS", "startingAddress": 1}, "Int16", "holds bits"),
        ({"primaryTable": "HOLDING_REGISTERS", "startingAddress": "1.2"}, "Int16", "only valid for Bool"),
        ({"primaryTable": "HOLDING_REGISTERS", "startingAddress": "1.16"}, "Bool", "outside 0..15"),
        ({"primaryTable": "HOLDING_REGISTERS", "startingAddress": 70000}, "Int16", "outside 0..65535"),
        ({"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0}, "String", "stringRegisterSize"),
        ({"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0, "stringRegisterSize": 124}, "String", "1..123"),
        (
            {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0, "rawType": "Float64"},
            "Float32",
            "cannot be read",
        ),
        ({"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0}, "Int16Array", "elementCount"),
        (
            {"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0, "elementCount": 64},
            "Int32Array",
            "one read allows 125",
        ),
        ({"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0, "isWordSwap": "maybe"}, "Int32", "isWordSwap"),
        ({"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0}, "Binary", "not supported"),
    ],
)
def test_attributes_invalid_names_resource_and_key(attrs, vt, needle):
    with pytest.raises(ProfileConfigError) as ei:
        parse_attributes(attrs, vt, device="pump-1", resource="FlowRate")
    assert ei.value.message.startswith("pump-1/FlowRate: ")
    assert needle in ei.value.message


def test_attributes_register_counts_follow_value_and_raw_types():
    def count(vt, **extra):
        return parse_attributes({"primaryTable": "HOLDING_REGISTERS", "startingAddress": 0, **extra}, vt).count

    assert count("Int16") == 1
    assert count("Float32") == 2
    assert count("Float32", rawType="Int16") == 1
    assert count("Float64", rawType="Int32") == 2
    assert count("Uint64") == 4
    assert count("String", stringRegisterSize=5) == 5
    assert count("Float32Array", elementCount=3) == 6
    assert count("BoolArray", startingAddress="0.15", elementCount=2) == 2
