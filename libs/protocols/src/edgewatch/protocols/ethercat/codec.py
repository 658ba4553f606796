"""EdgeX values <-> bits of an EtherCAT process image or an SDO payload (little-endian, bit offsets LSB first)."""

from __future__ import annotations

import struct
from typing import Final

from edgewatch.protocols.values import INT_RANGES, Scalar

__all__ = [
    "COE_TYPES",
    "SCALAR_BITS",
    "bit_size",
    "decode_bits",
    "decode_bytes",
    "encode_bits",
    "encode_bytes",
]

#: EdgeX valueType -> bit size in a process image (Bool is one bit).
SCALAR_BITS: Final[dict[str, int]] = {
    "Bool": 1,
    "Int8": 8,
    "Uint8": 8,
    "Int16": 16,
    "Uint16": 16,
    "Int32": 32,
    "Uint32": 32,
    "Int64": 64,
    "Uint64": 64,
    "Float32": 32,
    "Float64": 64,
}

#: CANopen data type codes (CiA 301 / ETG.1000.6) -> EdgeX valueType.
COE_TYPES: Final[dict[int, str]] = {
    0x0001: "Bool",
    0x0002: "Int8",
    0x0003: "Int16",
    0x0004: "Int32",
    0x0005: "Uint8",
    0x0006: "Uint16",
    0x0007: "Uint32",
    0x0008: "Float32",
    0x0009: "String",
    0x000A: "Binary",
    0x0011: "Float64",
    0x0015: "Int64",
    0x001B: "Uint64",
}

_FLOATS = {"Float32": struct.Struct("<f"), "Float64": struct.Struct("<d")}


def bit_size(value_type: str) -> int:
    """Bits a scalar value type takes in a process image.

    Raises:
        KeyError: not a scalar value type.
    """
    return SCALAR_BITS[value_type]


def _from_raw(raw: int, value_type: str, bits: int) -> Scalar:
    if value_type == "Bool":
        return bool(raw & 1)
    if value_type in _FLOATS:
        return float(_FLOATS[value_type].unpack(raw.to_bytes(bits // 8, "little"))[0])
    if value_type.startswith("Int") and raw >= 1 << (bits - 1):
        return raw - (1 << bits)
    return raw


def _to_raw(value: Scalar, value_type: str, bits: int) -> int:
    if value_type == "Bool":
        return 1 if value else 0
    if value_type in _FLOATS:
        return int.from_bytes(_FLOATS[value_type].pack(float(value)), "little")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value_type} needs an integer, got {value!r}")
    lo, hi = INT_RANGES[value_type]
    if not lo <= value <= hi:
        raise ValueError(f"{value} is outside {value_type} [{lo}, {hi}]")
    return value & ((1 << bits) - 1)


def decode_bits(image: bytes | bytearray, bit_offset: int, value_type: str) -> Scalar:
    """The value of ``value_type`` at ``bit_offset`` of a process image.

    Raises:
        KeyError: not a scalar value type.
        IndexError: the value lies beyond the image.
    """
    bits = SCALAR_BITS[value_type]
    first, last = bit_offset // 8, (bit_offset + bits - 1) // 8
    if last >= len(image):
        raise IndexError(f"bits {bit_offset}..{bit_offset + bits - 1} lie beyond a {len(image)}-byte image")
    raw = int.from_bytes(image[first : last + 1], "little") >> (bit_offset % 8)
    return _from_raw(raw & ((1 << bits) - 1), value_type, bits)


def encode_bits(image: bytearray, bit_offset: int, value_type: str, value: Scalar) -> None:
    """Write ``value`` as ``value_type`` at ``bit_offset`` of ``image`` (other bits kept).

    Raises:
        ValueError: the value does not fit the type.
        IndexError: the value lies beyond the image.
    """
    bits = SCALAR_BITS[value_type]
    first, last = bit_offset // 8, (bit_offset + bits - 1) // 8
    if last >= len(image):
        raise IndexError(f"bits {bit_offset}..{bit_offset + bits - 1} lie beyond a {len(image)}-byte image")
    shift = bit_offset % 8
    window = int.from_bytes(image[first : last + 1], "little")
    mask = ((1 << bits) - 1) << shift
    window = (window & ~mask) | (_to_raw(value, value_type, bits) << shift)
    image[first : last + 1] = window.to_bytes(last - first + 1, "little")


def decode_bytes(data: bytes, value_type: str) -> Scalar | bytes:
    """An SDO payload as ``value_type`` (String: visible string up to the first NUL; Binary: the bytes).

    Raises:
        ValueError: the payload is shorter than the type.
    """
    if value_type == "Binary":
        return bytes(data)
    if value_type == "String":
        return data.split(b"\0", 1)[0].decode("latin-1")
    nbytes = max(1, SCALAR_BITS[value_type] // 8)
    if len(data) < nbytes:
        raise ValueError(f"{value_type} needs {nbytes} bytes, the object gave {len(data)}")
    return _from_raw(int.from_bytes(data[:nbytes], "little"), value_type, nbytes * 8)


def encode_bytes(value: Scalar | bytes, value_type: str) -> bytes:
    """``value`` as an SDO payload of ``value_type``.

    Raises:
        ValueError: the value does not fit the type.
    """
    if value_type == "Binary":
        if not isinstance(value, (bytes, bytearray)):
            raise ValueError("Binary needs bytes")
        return bytes(value)
    if value_type == "String":
        return str(value).encode("latin-1")
    if isinstance(value, (bytes, bytearray)):
        raise ValueError(f"{value_type} needs a scalar")
    nbytes = max(1, SCALAR_BITS[value_type] // 8)
    return _to_raw(value, value_type, nbytes * 8).to_bytes(nbytes, "little")
