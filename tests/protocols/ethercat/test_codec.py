"""Process image and SDO codecs, PDO layouts and SII images: tables of bytes and the values they hold."""

from __future__ import annotations

import math

import pytest

from edgewatch.protocols.ethercat.codec import decode_bits, decode_bytes, encode_bits, encode_bytes
from edgewatch.protocols.ethercat.pdo import Pdo, PdoEntry, ProcessLayout, entry_word, parse_entry_word
from edgewatch.protocols.ethercat.sii import CAT_RXPDO, CAT_TXPDO, SiiImage, parse_categories, parse_pdos
from edgewatch.protocols.ethercat.state import describe_code, state_name

IMAGE_CASES = [
    ("Bool", bytes([0b0000_1000]), 3, True),
    ("Bool", bytes([0b1111_0111]), 3, False),
    ("Int8", bytes([0xFB]), 0, -5),
    ("Uint8", bytes([0, 200]), 8, 200),
    ("Int16", (-1234).to_bytes(2, "little", signed=True), 0, -1234),
    ("Uint16", bytes([0x37, 0x02]), 0, 0x0237),
    ("Int32", bytes([0xFF]) + (-4321).to_bytes(4, "little", signed=True), 8, -4321),
    ("Uint32", (3_000_000_000).to_bytes(4, "little"), 0, 3_000_000_000),
    ("Int64", (-9_000_000_000).to_bytes(8, "little", signed=True), 0, -9_000_000_000),
    ("Uint64", (2**64 - 1).to_bytes(8, "little"), 0, 2**64 - 1),
    ("Float32", bytes.fromhex("0000c03f"), 0, 1.5),
    ("Float64", bytes.fromhex("00000000000002c0"), 0, -2.25),
]


@pytest.mark.parametrize(("value_type", "image", "bit", "expected"), IMAGE_CASES)
def test_decode_bits_reads_value_type_at_bit_offset(value_type, image, bit, expected):
    assert decode_bits(image, bit, value_type) == expected


@pytest.mark.parametrize(("value_type", "image", "bit", "expected"), IMAGE_CASES)
def test_encode_bits_round_trips_and_keeps_other_bits(value_type, image, bit, expected):
    buf = bytearray(b"\xaa" * len(image))
    encode_bits(buf, bit, value_type, expected)
    assert decode_bits(buf, bit, value_type) == expected
    if bit % 8:  # bits below the value untouched
        assert buf[0] & ((1 << (bit % 8)) - 1) == 0xAA & ((1 << (bit % 8)) - 1)


def test_unaligned_int16_spans_three_bytes():
    buf = bytearray(3)
    encode_bits(buf, 4, "Int16", -2)
    assert buf == bytearray([0xE0, 0xFF, 0x0F])
    assert decode_bits(buf, 4, "Int16") == -2


@pytest.mark.parametrize(
    ("value_type", "value"), [("Uint8", 256), ("Int16", -40000), ("Uint32", -1), ("Int8", 1.5), ("Uint16", True)]
)
def test_encode_refuses_values_outside_the_type(value_type, value):
    with pytest.raises(ValueError):
        encode_bits(bytearray(8), 0, value_type, value)


def test_decode_beyond_image_raises_index_error():
    with pytest.raises(IndexError, match="beyond a 2-byte image"):
        decode_bits(b"\0\0", 8, "Uint16")


@pytest.mark.parametrize(
    ("value_type", "data", "value"),
    [
        ("Uint32", bytes.fromhex("7c0e0000"), 0xE7C),
        ("String", b"EW-Drive\0\0", "EW-Drive"),
        ("Binary", b"\x02\x00\x00\x1a", b"\x02\x00\x00\x1a"),
        ("Float32", bytes.fromhex("0000803e"), 0.25),
        ("Int8", b"\xff", -1),
    ],
)
def test_sdo_payload_codec_round_trips(value_type, data, value):
    assert decode_bytes(data, value_type) == value
    assert encode_bytes(value, value_type) == data.rstrip(b"\0") if value_type == "String" else data


def test_sdo_payload_shorter_than_type_is_refused():
    with pytest.raises(ValueError, match="needs 4 bytes"):
        decode_bytes(b"\1\2", "Uint32")


def test_layout_places_entries_in_assignment_order_with_padding():
    pdos = [
        Pdo(0x1A00, (PdoEntry(0x6000, 1, 1), PdoEntry(0, 0, 7), PdoEntry(0x6010, 1, 16))),
        Pdo(0x1A01, (PdoEntry(0x6020, 2, 32),)),
    ]
    layout = ProcessLayout(pdos)
    assert layout.nbytes == 7
    assert [(m.entry.index, m.bit_offset) for m in layout.entries] == [(0x6000, 0), (0, 1), (0x6010, 8), (0x6020, 24)]
    assert layout.find(0, 0) is None  # padding names nothing
    assert layout.find(0x6020, 2).bit_offset == 24  # type: ignore[union-attr]
    assert parse_entry_word(entry_word(PdoEntry(0x6020, 2, 32))) == PdoEntry(0x6020, 2, 32)


def test_sii_image_categories_and_pdos_round_trip():
    tx = Pdo(0x1A00, (PdoEntry(0x6000, 1, 1, "Bool"), PdoEntry(0x6010, 1, 16, "Int16")))
    rx = Pdo(0x1600, (PdoEntry(0x7000, 1, 8, "Uint8"),))
    image = SiiImage(0xE7C, 0x20001, 1, 7, "EW-IO", txpdos=((tx, 1),), rxpdos=((rx, 0),)).build()
    assert int.from_bytes(image[0x10:0x14], "little") == 0xE7C
    cats = parse_categories(image)
    assert parse_pdos(cats[CAT_TXPDO]) == [(tx, 1)]
    assert parse_pdos(cats[CAT_RXPDO]) == [(rx, 0)]
    assert cats[10][2:7] == b"EW-IO"
    with pytest.raises(ValueError, match="no end"):
        parse_categories(image[:-4])


def test_state_names_and_codes_read_like_the_spec():
    assert state_name(0x14) == "SAFE_OP+ERROR"
    assert state_name(0x08) == "OP"
    assert state_name(0) == "NONE"
    assert describe_code(0x1B) == "0x001B (Sync manager watchdog)"
    assert not math.isnan(decode_bits(bytes(4), 0, "Float32"))  # type: ignore[arg-type]
