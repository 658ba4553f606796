"""Codec table: every valueType x rawType x swap combination and bit addressing, read from and written to a real
pymodbus server (the profile-driven simulator) through the driver's real connection.

Each row gives the words (or bits) as the device holds them, written literally, and the value a client must see.
"""

from __future__ import annotations

from typing import Any

import pytest

from edgewatch.common.contracts.device import Device
from edgewatch.ingest.drivers.modbus.driver import ModbusOptions, create_driver
from edgewatch.ingest.drivers.modbus.protocol import ConnectionPool
from edgewatch.protocols.modbus.attributes import Table
from tests.support.modbus_sim import make_device, make_profile, start_modbus_sim

HR = "HOLDING_REGISTERS"
IR = "INPUT_REGISTERS"
CO = "COILS"
DI = "DISCRETE_INPUTS"

SW = {
    "ABCD": {},
    "BADC": {"isByteSwap": True},
    "CDAB": {"isWordSwap": True},
    "DCBA": {"isByteSwap": True, "isWordSwap": True},
}

# (id, valueType, attributes, device words/bits, expected value)
ROWS: list[tuple[str, str, dict[str, Any], list[Any], Any]] = [
    ("int16", "Int16", {}, [0xFFFE], -2),
    ("int16-swap-ignored", "Int16", SW["DCBA"], [0x0102], 258),
    ("uint16", "Uint16", {}, [0xFFFF], 65535),
    ("int8", "Int8", {}, [0x00FF], -1),
    ("uint8", "Uint8", {}, [0x00C8], 200),
    ("int32-ABCD", "Int32", SW["ABCD"], [0xFFFE, 0x1DC0], -123456),
    ("int32-BADC", "Int32", SW["BADC"], [0xFEFF, 0xC01D], -123456),
    ("int32-CDAB", "Int32", SW["CDAB"], [0x1DC0, 0xFFFE], -123456),
    ("int32-DCBA", "Int32", SW["DCBA"], [0xC01D, 0xFEFF], -123456),
    ("uint32-ABCD", "Uint32", SW["ABCD"], [0xB2D0, 0x5E00], 3_000_000_000),
    ("uint32-BADC", "Uint32", SW["BADC"], [0xD0B2, 0x005E], 3_000_000_000),
    ("uint32-CDAB", "Uint32", SW["CDAB"], [0x5E00, 0xB2D0], 3_000_000_000),
    ("uint32-DCBA", "Uint32", SW["DCBA"], [0x005E, 0xD0B2], 3_000_000_000),
    ("float32-ABCD", "Float32", SW["ABCD"], [0x421E, 0x0000], 39.5),
    ("float32-BADC", "Float32", SW["BADC"], [0x1E42, 0x0000], 39.5),
    ("float32-CDAB", "Float32", SW["CDAB"], [0x0000, 0x421E], 39.5),
    ("float32-DCBA", "Float32", SW["DCBA"], [0x0000, 0x1E42], 39.5),
    ("int64", "Int64", {}, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], -2),
    ("uint64", "Uint64", {}, [0x8000, 0x0000, 0x0000, 0x0005], 2**63 + 5),
    ("float64", "Float64", {}, [0x3FF8, 0x0000, 0x0000, 0x0000], 1.5),
    ("float64-swap-ignored", "Float64", SW["DCBA"], [0xC004, 0x0000, 0x0000, 0x0000], -2.5),
    ("float32<-int16", "Float32", {"rawType": "Int16"}, [0xFF29], -215.0),
    ("float32<-uint16", "Float32", {"rawType": "UINT16"}, [0xEA60], 60000.0),
    ("float32<-float32", "Float32", {"rawType": "Float32"}, [0xC2F7, 0x0000], -123.5),
    ("float64<-int16", "Float64", {"rawType": "Int16"}, [0x8000], -32768.0),
    ("float64<-uint16", "Float64", {"rawType": "Uint16"}, [0x8000], 32768.0),
    ("float64<-int32-ABCD", "Float64", {"rawType": "Int32"}, [0xFFFE, 0x1DC0], -123456.0),
    ("float64<-int32-CDAB", "Float64", {"rawType": "Int32", **SW["CDAB"]}, [0x1DC0, 0xFFFE], -123456.0),
    ("float64<-int32-DCBA", "Float64", {"rawType": "Int32", **SW["DCBA"]}, [0xC01D, 0xFEFF], -123456.0),
    ("float64<-uint32-BADC", "Float64", {"rawType": "Uint32", **SW["BADC"]}, [0xD0B2, 0x005E], 3e9),
    ("int32<-int16", "Int32", {"rawType": "Int16"}, [0xFFFF], -1),
    ("string", "String", {"stringRegisterSize": 3}, [0x4162, 0x4364, 0x6500], "AbCde"),
    ("string-full", "String", {"stringRegisterSize": 2}, [0x5455, 0x5657], "TUVW"),
    ("int16-array", "Int16Array", {"elementCount": 3}, [0x0001, 0xFFFF, 0x0003], [1, -1, 3]),
    ("uint8-array", "Uint8Array", {"elementCount": 2}, [0x00FF, 0x0007], [255, 7]),
    ("uint16-array", "Uint16Array", {"elementCount": 2}, [0xFFFF, 0x0000], [65535, 0]),
    (
        "int32-array-CDAB",
        "Int32Array",
        {"elementCount": 2, **SW["CDAB"]},
        [0x1DC0, 0xFFFE, 0x0001, 0x0000],
        [-123456, 1],
    ),
    ("uint32-array", "Uint32Array", {"elementCount": 1}, [0xB2D0, 0x5E00], [3_000_000_000]),
    ("float32-array-DCBA", "Float32Array", {"elementCount": 2, **SW["DCBA"]}, [0, 0x803F, 0, 0x00C0], [1.0, -2.0]),
    ("float64-array", "Float64Array", {"elementCount": 2}, [0x3FF8, 0, 0, 0, 0xC004, 0, 0, 0], [1.5, -2.5]),
    ("int64-array", "Int64Array", {"elementCount": 1}, [0, 0, 0, 7], [7]),
    ("uint64-array", "Uint64Array", {"elementCount": 1}, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], [2**64 - 1]),
    ("int8-array", "Int8Array", {"elementCount": 2}, [0x0080, 0x007F], [-128, 127]),
    ("string-array", "StringArray", {"elementCount": 2, "stringRegisterSize": 1}, [0x6162, 0x6300], ["ab", "c"]),
    ("bool-bit0", "Bool", {}, [0x0001], True),
    ("bool-bit-str", "Bool", {"startingAddress": "{addr}.10"}, [0x0400], True),
    ("bool-bit-float", "Bool", {"startingAddress": "{addr}.15f"}, [0x7FFF], False),
    (
        "bool-array-bits",
        "BoolArray",
        {"startingAddress": "{addr}.14", "elementCount": 3},
        [0x4000, 0x0001],
        [True, False, True],
    ),
]

BIT_ROWS: list[tuple[str, str, str, list[bool], Any]] = [
    ("coil-true", CO, "Bool", [True], True),
    ("coil-false", CO, "Bool", [False], False),
    ("coil-array", CO, "BoolArray", [True, False, True, True], [True, False, True, True]),
    ("discrete-true", DI, "Bool", [True], True),
    ("discrete-array", DI, "BoolArray", [False, True], [False, True]),
]


def _attrs(table: str, addr: int, extra: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"primaryTable": table, "startingAddress": addr}
    for k, v in extra.items():
        if k == "startingAddress" and isinstance(v, str):
            if v.endswith("f"):  # a YAML float: 20.15 -> "%.2f" -> bit 15
                v = float(v[:-1].format(addr=addr))
            else:
                v = v.format(addr=addr)
        out[k] = v
    return out


async def _driver(pool: ConnectionPool, sim_port: int, profile: Any, device: Device | None = None) -> Any:
    dev = device or make_device("dev", profile.name, sim_port)
    drv = create_driver(dev, profile, ModbusOptions(pool=pool))
    await drv.connect()
    return drv


def _approx(v: Any) -> Any:
    return pytest.approx(v) if isinstance(v, float) or (isinstance(v, list) and v and isinstance(v[0], float)) else v


@pytest.mark.parametrize("table", [HR, IR])
@pytest.mark.parametrize(("case", "vt", "extra", "words", "expected"), ROWS, ids=[r[0] for r in ROWS])
async def test_codec_read_decodes_device_words(pool, table, case, vt, extra, words, expected):
    addr = 20
    profile = make_profile("codec", [("R", vt, _attrs(table, addr, extra), {})])
    sim = await start_modbus_sim(profile)
    try:
        sim.units[1].write(Table(table), addr, words)
        drv = await _driver(pool, sim.port, profile)
        values = await drv.read(["R"])
        assert values["R"] == _approx(expected)
        assert sim.get_value("R") == _approx(expected)
    finally:
        await sim.close()


@pytest.mark.parametrize(("case", "vt", "extra", "words", "expected"), ROWS, ids=[r[0] for r in ROWS])
async def test_codec_write_produces_device_words(pool, case, vt, extra, words, expected):
    addr = 30
    profile = make_profile("codec", [("R", vt, _attrs(HR, addr, extra), {})])
    sim = await start_modbus_sim(profile)
    try:
        if vt.startswith("Bool"):
            # Bits in a register: the other bits must survive the read-modify-write.
            keep = [w ^ 0xFFFF for w in words]
            sim.units[1].write(Table.HOLDING_REGISTERS, addr, keep)
            expected_words = list(words)
            drv = await _driver(pool, sim.port, profile)
            await drv.write({"R": expected})
            got = sim.units[1].read(Table.HOLDING_REGISTERS, addr, len(words))
            attrs = drv.attributes["R"]
            first = attrs.bit or 0
            for i in range(attrs.element_count):
                idx, pos = divmod(first + i, 16)
                assert (got[idx] >> pos) & 1 == (expected_words[idx] >> pos) & 1
            others = [(k, b) for k in range(len(words)) for b in range(16)]
            touched = {divmod(first + i, 16) for i in range(attrs.element_count)}
            for k, b in others:
                if (k, b) not in touched:
                    assert (got[k] >> b) & 1 == (keep[k] >> b) & 1
            return
        drv = await _driver(pool, sim.port, profile)
        await drv.write({"R": expected})
        assert sim.units[1].read(Table.HOLDING_REGISTERS, addr, len(words)) == words
    finally:
        await sim.close()


@pytest.mark.parametrize(("case", "table", "vt", "bits", "expected"), BIT_ROWS, ids=[r[0] for r in BIT_ROWS])
async def test_codec_bit_tables_read_and_write(pool, case, table, vt, bits, expected):
    addr = 13
    extra = {"elementCount": len(bits)} if vt.endswith("Array") else {}
    profile = make_profile("bits", [("B", vt, _attrs(table, addr, extra), {})])
    sim = await start_modbus_sim(profile)
    try:
        sim.units[1].write(Table(table), addr, bits)
        drv = await _driver(pool, sim.port, profile)
        assert (await drv.read(["B"]))["B"] == expected
        if table == CO:
            flipped = [not b for b in bits] if isinstance(expected, list) else not expected
            await drv.write({"B": flipped})
            assert sim.units[1].read(Table.COILS, addr, len(bits)) == ([not b for b in bits])
    finally:
        await sim.close()
