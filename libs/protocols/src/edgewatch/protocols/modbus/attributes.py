"""EdgeX device-modbus resource attributes parsed once, at profile load, into a frozen typed model.

Semantics follow device-modbus-go (COMPAT.md section 6): ``primaryTable`` (case-insensitive, ``DISCRETES_INPUT``
accepted), 0-based ``startingAddress`` where ``"10.10"`` / ``10.10`` addresses register 10 bit 10 (a float is
formatted ``%.2f`` and split on ``.``), ``rawType``, ``isByteSwap`` / ``isWordSwap`` (32-bit raw types),
``stringRegisterSize`` (1-123) for String. Extensions, documented in the ingest README: Int8/Uint8 (low byte of one
register) and every ``*Array`` value type with the ``elementCount`` attribute (elements are consecutive).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from edgewatch.protocols.errors import ProfileConfigError

__all__ = [
    "MAX_BITS_PER_READ",
    "MAX_REGISTERS_PER_READ",
    "ModbusAttributes",
    "Table",
    "element_type",
    "normalize_type",
    "parse_attributes",
]

MAX_REGISTERS_PER_READ: Final = 125
MAX_BITS_PER_READ: Final = 2000
MAX_STRING_REGISTERS: Final = 123


class Table(StrEnum):
    """Modbus primary tables."""

    COILS = "COILS"
    DISCRETE_INPUTS = "DISCRETE_INPUTS"
    INPUT_REGISTERS = "INPUT_REGISTERS"
    HOLDING_REGISTERS = "HOLDING_REGISTERS"

    @property
    def is_bit(self) -> bool:
        """True for the 1-bit tables (coils, discrete inputs)."""
        return self in (Table.COILS, Table.DISCRETE_INPUTS)

    @property
    def writable(self) -> bool:
        """True for coils and holding registers."""
        return self in (Table.COILS, Table.HOLDING_REGISTERS)

    @property
    def max_per_read(self) -> int:
        """Largest count one read request may ask for."""
        return MAX_BITS_PER_READ if self.is_bit else MAX_REGISTERS_PER_READ


_TABLE_ALIASES: Final = {
    "COILS": Table.COILS,
    "COIL": Table.COILS,
    "DISCRETE_INPUTS": Table.DISCRETE_INPUTS,
    "DISCRETES_INPUT": Table.DISCRETE_INPUTS,
    "DISCRETE_INPUT": Table.DISCRETE_INPUTS,
    "INPUT_REGISTERS": Table.INPUT_REGISTERS,
    "INPUT_REGISTER": Table.INPUT_REGISTERS,
    "HOLDING_REGISTERS": Table.HOLDING_REGISTERS,
    "HOLDING_REGISTER": Table.HOLDING_REGISTERS,
}

#: Scalar element types and their width in 16-bit registers (Bool is a bit; String is sized by attribute).
REGISTER_WIDTH: Final[dict[str, int]] = {
    "Bool": 1,
    "Int8": 1,
    "Uint8": 1,
    "Int16": 1,
    "Uint16": 1,
    "Int32": 2,
    "Uint32": 2,
    "Float32": 2,
    "Int64": 4,
    "Uint64": 4,
    "Float64": 4,
    "String": 1,
}

_SCALARS: Final = {t.lower(): t for t in REGISTER_WIDTH}
_ARRAYS: Final = {f"{t}Array".lower(): f"{t}Array" for t in REGISTER_WIDTH}


def normalize_type(name: str) -> str:
    """EdgeX value-type name with canonical case (``float32`` -> ``Float32``); unknown names raise KeyError."""
    key = str(name).strip().lower()
    if key in _SCALARS:
        return _SCALARS[key]
    return _ARRAYS[key]


def element_type(value_type: str) -> str:
    """The element type of an array type, or the type itself."""
    return value_type[: -len("Array")] if value_type.endswith("Array") else value_type


class ModbusAttributes(BaseModel):
    """Where and how one device resource lives in a Modbus device (validated, immutable)."""

    model_config = ConfigDict(frozen=True)

    table: Table
    address: int
    bit: int | None = None
    value_type: str
    raw_type: str
    byte_swap: bool = False
    word_swap: bool = False
    element_count: int = 1
    string_registers: int = 0

    @property
    def is_array(self) -> bool:
        """True for ``*Array`` value types."""
        return self.value_type.endswith("Array")

    @property
    def count(self) -> int:
        """Registers (or bits, on bit tables) that hold the value."""
        if self.table.is_bit:
            return self.element_count
        if self.raw_type == "String":
            return self.string_registers * self.element_count
        if self.raw_type == "Bool":
            bit = self.bit or 0
            return (bit + self.element_count + 15) // 16
        return REGISTER_WIDTH[self.raw_type] * self.element_count

    @property
    def end(self) -> int:
        """One past the last register (or bit) of the value."""
        return self.address + self.count

    def location(self) -> str:
        """Human-readable location, e.g. ``HOLDING_REGISTERS[10].10``."""
        bit = f".{self.bit}" if self.bit is not None else ""
        return f"{self.table.value}[{self.address}]{bit}"


_FLOAT_RAW: Final = {
    "Float32": ("Int16", "Uint16", "Float32"),
    "Float64": ("Int16", "Uint16", "Int32", "Uint32", "Float64"),
}


def _parse_bool(v: Any, key: str, err: ProfileConfigError) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    raise ProfileConfigError(f"{key} must be true or false, got {v!r}", device=err.device, resource=err.resource)


def _parse_int(v: Any, key: str, where: ProfileConfigError) -> int:
    if isinstance(v, bool):
        raise ProfileConfigError(f"{key} must be an integer, got {v!r}", device=where.device, resource=where.resource)
    try:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return int(str(v).strip(), 10)
    except ValueError:
        raise ProfileConfigError(
            f"{key} must be an integer, got {v!r}", device=where.device, resource=where.resource
        ) from None


def _parse_address(v: Any, where: ProfileConfigError) -> tuple[int, int | None]:
    """``startingAddress`` as device-modbus-go reads it: ints as is, floats via ``%.2f``, strings split on '.'."""
    if isinstance(v, bool) or v is None:
        raise ProfileConfigError(
            f"startingAddress must be a number, got {v!r}", device=where.device, resource=where.resource
        )
    text = f"{v:.2f}" if isinstance(v, float) else str(v).strip()
    parts = text.split(".")
    if len(parts) > 2:
        raise ProfileConfigError(f"invalid startingAddress {text!r}", device=where.device, resource=where.resource)
    address = _parse_int(parts[0], "startingAddress", where)
    bit = _parse_int(parts[1], "startingAddress bit", where) if len(parts) == 2 else None
    if not 0 <= address <= 65535:
        raise ProfileConfigError(
            f"startingAddress {address} outside 0..65535", device=where.device, resource=where.resource
        )
    if bit is not None and not 0 <= bit <= 15:
        raise ProfileConfigError(f"bit address {bit} outside 0..15", device=where.device, resource=where.resource)
    return address, bit


def _lookup(attrs: Mapping[str, Any], key: str) -> Any:
    if key in attrs:
        return attrs[key]
    low = key.lower()
    for k, v in attrs.items():
        if str(k).lower() == low:
            return v
    return None


def parse_attributes(
    attrs: Mapping[str, Any] | None, value_type: str, *, device: str = "", resource: str = ""
) -> ModbusAttributes:
    """Validate a resource's ``attributes`` against its ``valueType``.

    Raises:
        ProfileConfigError: a key is missing or invalid; the message names the resource and the key, e.g.
            ``pump-1/FlowRate: rawType Int32 needs 2 registers but String ...``.
    """
    where = ProfileConfigError("", device=device, resource=resource)

    def fail(msg: str) -> ProfileConfigError:
        return ProfileConfigError(msg, device=device, resource=resource)

    attrs = attrs or {}
    try:
        vt = normalize_type(value_type)
    except KeyError:
        raise fail(f"valueType {value_type!r} is not supported by the Modbus driver") from None
    elem = element_type(vt)

    raw_table = _lookup(attrs, "primaryTable")
    if raw_table is None:
        raise fail("attribute primaryTable is required")
    table = _TABLE_ALIASES.get(str(raw_table).strip().upper())
    if table is None:
        raise fail(f"primaryTable {raw_table!r} is not one of {', '.join(t.value for t in Table)}")

    raw_addr = _lookup(attrs, "startingAddress")
    if raw_addr is None:
        raise fail("attribute startingAddress is required")
    address, bit = _parse_address(raw_addr, where)

    raw_type = elem
    rt_attr = _lookup(attrs, "rawType")
    if rt_attr is not None and str(rt_attr).strip():
        try:
            raw_type = normalize_type(str(rt_attr))
        except KeyError:
            raise fail(f"rawType {rt_attr!r} is not a known type") from None
        if raw_type.endswith("Array"):
            raise fail(f"rawType {raw_type} must be a scalar type")
    if raw_type != elem:
        allowed = _FLOAT_RAW.get(elem, ())
        if elem.startswith(("Int", "Uint")) and raw_type.startswith(("Int", "Uint")):
            allowed = (raw_type,)
        if raw_type not in allowed:
            raise fail(f"rawType {raw_type} cannot be read as valueType {vt}")

    count_attr = _lookup(attrs, "elementCount")
    element_count = 1
    if vt.endswith("Array"):
        if count_attr is None:
            raise fail(f"valueType {vt} needs the elementCount attribute")
        element_count = _parse_int(count_attr, "elementCount", where)
        if element_count < 1:
            raise fail(f"elementCount must be >= 1, got {element_count}")

    string_registers = 0
    if elem == "String":
        size = _lookup(attrs, "stringRegisterSize")
        if size is None:
            raise fail("String needs the stringRegisterSize attribute")
        string_registers = _parse_int(size, "stringRegisterSize", where)
        if not 1 <= string_registers <= MAX_STRING_REGISTERS:
            raise fail(f"stringRegisterSize should be within 1..{MAX_STRING_REGISTERS}, got {string_registers}")

    if table.is_bit:
        if elem != "Bool":
            raise fail(f"{table.value} holds bits; valueType {vt} needs a register table")
        if bit is not None:
            raise fail(f"bit address .{bit} is only valid on register tables")
    elif elem == "Bool" and bit is None:
        bit = 0
    elif elem != "Bool" and bit is not None:
        raise fail(f"bit address .{bit} is only valid for Bool values")

    byte_swap = (
        _parse_bool(_lookup(attrs, "isByteSwap"), "isByteSwap", where)
        if _lookup(attrs, "isByteSwap") is not None
        else False
    )
    word_swap = (
        _parse_bool(_lookup(attrs, "isWordSwap"), "isWordSwap", where)
        if _lookup(attrs, "isWordSwap") is not None
        else False
    )

    out = ModbusAttributes(
        table=table,
        address=address,
        bit=bit,
        value_type=vt,
        raw_type=raw_type,
        byte_swap=byte_swap,
        word_swap=word_swap,
        element_count=element_count,
        string_registers=string_registers,
    )
    if out.count > table.max_per_read:
        raise fail(
            f"{vt} needs {out.count} {'bits' if table.is_bit else 'registers'}; one read allows {table.max_per_read}"
        )
    if out.end > 65536:
        raise fail(f"{vt} at {address} runs past address 65535")
    return out
