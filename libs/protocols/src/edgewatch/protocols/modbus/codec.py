"""Pure register/bit <-> value conversion for EdgeX device-modbus semantics (no I/O, no transforms).

Reading: the words of one resource -> raw value(s) of ``rawType`` (32-bit types byte/word swapped as
device-modbus-go does) -> cast to ``valueType``. Writing is the inverse; integer raw types are rounded to the
nearest integer (device-modbus-go truncates, which turns 21.5 / 0.1 into 214) and range-checked.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Final

from edgewatch.protocols.errors import ValueRangeError
from edgewatch.protocols.modbus.attributes import REGISTER_WIDTH, ModbusAttributes, element_type
from edgewatch.protocols.values import INT_RANGES, Scalar, Value, to_float32

__all__ = ["decode", "encode", "swap32"]

_STRUCT: Final = {
    "Int16": "h",
    "Uint16": "H",
    "Int32": "i",
    "Uint32": "I",
    "Float32": "f",
    "Int64": "q",
    "Uint64": "Q",
    "Float64": "d",
}


def swap32(data: bytes, byte_swap: bool, word_swap: bool) -> bytes:
    """device-modbus-go's swap of a 4-byte value: byte swap inside each word, then word swap."""
    if byte_swap:
        data = bytes((data[1], data[0], data[3], data[2]))
    if word_swap:
        data = data[2:4] + data[0:2]
    return data


def _words_to_bytes(words: Sequence[int]) -> bytes:
    return b"".join(int(w).to_bytes(2, "big") for w in words)


def _bytes_to_words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _decode_raw(attrs: ModbusAttributes, words: Sequence[int]) -> int | float | str:
    rt = attrs.raw_type
    if rt == "Int8":
        low = int(words[0]) & 0xFF
        return low - 256 if low > 127 else low
    if rt == "Uint8":
        return int(words[0]) & 0xFF
    if rt == "String":
        return _words_to_bytes(words).strip(b"\x00").decode("utf-8", errors="replace")
    data = _words_to_bytes(words)
    if len(data) == 4:
        data = swap32(data, attrs.byte_swap, attrs.word_swap)
    value: int | float = struct.unpack(">" + _STRUCT[rt], data)[0]
    return value


def _cast_read(elem: str, raw: int | float | str) -> Scalar:
    if elem == "String":
        return str(raw)
    if elem == "Float32":
        return to_float32(float(raw))
    if elem == "Float64":
        return float(raw)
    return int(raw)


def decode(attrs: ModbusAttributes, words: Sequence[int] | Sequence[bool]) -> Value:
    """Decode exactly ``attrs.count`` words (or bits) into the resource's value type (before transforms).

    Raises:
        ValueError: ``words`` has the wrong length.
    """
    if len(words) != attrs.count:
        raise ValueError(f"{attrs.location()}: expected {attrs.count} values, got {len(words)}")
    elem = element_type(attrs.value_type)
    if elem == "Bool":
        if attrs.table.is_bit:
            bits = [bool(b) for b in words]
        else:
            first = attrs.bit or 0
            bits = [bool((int(words[(first + i) // 16]) >> ((first + i) % 16)) & 1) for i in range(attrs.element_count)]
        return bits if attrs.is_array else bits[0]
    width = attrs.string_registers if attrs.raw_type == "String" else REGISTER_WIDTH[attrs.raw_type]
    values = [
        _cast_read(elem, _decode_raw(attrs, [int(w) for w in words[i * width : (i + 1) * width]]))
        for i in range(attrs.element_count)
    ]
    return values if attrs.is_array else values[0]  # type: ignore[return-value]


def _raw_from_value(attrs: ModbusAttributes, v: Scalar) -> int | float | str:
    rt = attrs.raw_type
    if rt == "String":
        return str(v)
    if isinstance(v, str):
        raise ValueRangeError(f"{v!r} is not a number")
    if rt in ("Float32", "Float64"):
        return float(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueRangeError(f"{v} cannot be written to a {rt} register")
        v = round(v)
    lo, hi = INT_RANGES[rt]
    iv = int(v)
    if not lo <= iv <= hi:
        raise ValueRangeError(f"{iv} is outside the {rt} range {lo}..{hi}")
    return iv


def _encode_raw(attrs: ModbusAttributes, raw: int | float | str) -> list[int]:
    rt = attrs.raw_type
    if rt in ("Int8", "Uint8"):
        return [int(raw) & 0xFF]
    if rt == "String":
        data = str(raw).encode("utf-8")[: attrs.string_registers * 2]
        return _bytes_to_words(data.ljust(attrs.string_registers * 2, b"\x00"))
    try:
        data = struct.pack(">" + _STRUCT[rt], raw)
    except (struct.error, OverflowError) as e:
        raise ValueRangeError(f"{raw} cannot be written as {rt}: {e}") from None
    if len(data) == 4:
        data = swap32(data, attrs.byte_swap, attrs.word_swap)
    return _bytes_to_words(data)


def encode(attrs: ModbusAttributes, value: Value, current: Sequence[int] | None = None) -> list[int] | list[bool]:
    """Encode a value of the resource's value type into the words (or bits) to write.

    ``current`` holds the registers now on the device; it is needed (read-modify-write) for Bool values that live
    in a bit of a register, so the other 15 bits are kept.

    Raises:
        ValueRangeError: the value does not fit the raw type, or an array has the wrong length.
    """
    items: list[Scalar] = list(value) if isinstance(value, list) else [value]
    if len(items) != attrs.element_count:
        raise ValueRangeError(f"expected {attrs.element_count} elements, got {len(items)}")
    elem = element_type(attrs.value_type)
    if elem == "Bool":
        bits = [bool(b) for b in items]
        if attrs.table.is_bit:
            return bits
        if current is None or len(current) != attrs.count:
            raise ValueError(f"{attrs.location()}: a register bit write needs the current {attrs.count} registers")
        regs = [int(w) for w in current]
        first = attrs.bit or 0
        for i, b in enumerate(bits):
            idx, pos = divmod(first + i, 16)
            regs[idx] = (regs[idx] | (1 << pos)) if b else (regs[idx] & ~(1 << pos) & 0xFFFF)
        return regs
    out: list[int] = []
    for item in items:
        out.extend(_encode_raw(attrs, _raw_from_value(attrs, item)))
    return out
