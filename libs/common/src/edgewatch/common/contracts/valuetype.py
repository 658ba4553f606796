"""EdgeX reading value types: the 27 names in exact case, parsed case-insensitively, with numeric helpers."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from edgewatch.common.contracts.errors import ContractInvalidError

__all__ = ["UnknownValueTypeError", "ValueType"]


class UnknownValueTypeError(ContractInvalidError, ValueError):
    """400: a name that is none of the 27 EdgeX value types; the message names the field and the value."""


class ValueType(StrEnum):
    """EdgeX ``valueType``: exact case on output, matched case-insensitively on input (``"float32"`` -> Float32)."""

    BOOL = "Bool"
    STRING = "String"
    UINT8 = "Uint8"
    UINT16 = "Uint16"
    UINT32 = "Uint32"
    UINT64 = "Uint64"
    INT8 = "Int8"
    INT16 = "Int16"
    INT32 = "Int32"
    INT64 = "Int64"
    FLOAT32 = "Float32"
    FLOAT64 = "Float64"
    BINARY = "Binary"
    OBJECT = "Object"
    OBJECT_ARRAY = "ObjectArray"
    BOOL_ARRAY = "BoolArray"
    STRING_ARRAY = "StringArray"
    UINT8_ARRAY = "Uint8Array"
    UINT16_ARRAY = "Uint16Array"
    UINT32_ARRAY = "Uint32Array"
    UINT64_ARRAY = "Uint64Array"
    INT8_ARRAY = "Int8Array"
    INT16_ARRAY = "Int16Array"
    INT32_ARRAY = "Int32Array"
    INT64_ARRAY = "Int64Array"
    FLOAT32_ARRAY = "Float32Array"
    FLOAT64_ARRAY = "Float64Array"

    @classmethod
    def _missing_(cls, value: object) -> ValueType | None:
        # Go core-contracts normalises valueType case-insensitively; pydantic calls this for non-exact input.
        if isinstance(value, str):
            return _BY_LOWER.get(value.lower())
        return None

    @classmethod
    def parse(cls, text: str, field: str = "valueType") -> ValueType:
        """Parse a value type name case-insensitively.

        Raises:
            UnknownValueTypeError: ``text`` is not an EdgeX value type; the message names ``field`` and ``text``.
        """
        found = _BY_LOWER.get(text.lower()) if isinstance(text, str) else None
        if found is None:
            raise UnknownValueTypeError(f"{field} {text!r} is not a valid EdgeX value type", field=field)
        return found

    @property
    def is_array(self) -> bool:
        """True for the ``*Array`` types, ObjectArray included."""
        return self in _ARRAYS

    @property
    def is_numeric(self) -> bool:
        """True for integer and float scalars (the types ``?numeric=true`` renders as JSON numbers)."""
        return self in _NUMERIC

    @property
    def is_numeric_array(self) -> bool:
        """True for integer and float arrays."""
        return self in _NUMERIC_ARRAYS

    @property
    def is_integer(self) -> bool:
        """True for Int8..Int64 and Uint8..Uint64 scalars."""
        return self in _INT_BITS

    @property
    def is_unsigned(self) -> bool:
        """True for the unsigned integers and their arrays."""
        return self.element in (ValueType.UINT8, ValueType.UINT16, ValueType.UINT32, ValueType.UINT64)

    @property
    def is_float(self) -> bool:
        """True for Float32 and Float64."""
        return self in (ValueType.FLOAT32, ValueType.FLOAT64)

    @property
    def element(self) -> ValueType:
        """The element type of an array type (``Float32Array`` -> Float32); a scalar returns itself."""
        return _ELEMENT.get(self, self)

    @property
    def array(self) -> ValueType | None:
        """The array type whose elements are this scalar type, or None (Binary, Object, arrays)."""
        return _ARRAY_OF.get(self)

    @property
    def bits(self) -> int | None:
        """Bit width of the (element) integer or float type; None for Bool, String, Binary and Object."""
        return _BITS.get(self.element)

    @property
    def int_range(self) -> tuple[int, int] | None:
        """Inclusive (min, max) of the (element) integer type, or None for non-integers."""
        return _INT_RANGE.get(self.element)


_BY_LOWER: Final[dict[str, ValueType]] = {vt.value.lower(): vt for vt in ValueType}
_ELEMENT: Final[dict[ValueType, ValueType]] = {
    vt: ValueType(vt.value.removesuffix("Array"))
    for vt in ValueType
    if vt.value.endswith("Array") and vt is not ValueType.OBJECT_ARRAY
} | {ValueType.OBJECT_ARRAY: ValueType.OBJECT}
_ARRAY_OF: Final[dict[ValueType, ValueType]] = {
    el: arr for arr, el in _ELEMENT.items() if arr is not ValueType.OBJECT_ARRAY
}
_ARRAYS: Final[frozenset[ValueType]] = frozenset(_ELEMENT)
_INT_BITS: Final[dict[ValueType, int]] = {
    ValueType.UINT8: 8,
    ValueType.UINT16: 16,
    ValueType.UINT32: 32,
    ValueType.UINT64: 64,
    ValueType.INT8: 8,
    ValueType.INT16: 16,
    ValueType.INT32: 32,
    ValueType.INT64: 64,
}
_BITS: Final[dict[ValueType, int]] = _INT_BITS | {ValueType.FLOAT32: 32, ValueType.FLOAT64: 64}
_NUMERIC: Final[frozenset[ValueType]] = frozenset(_BITS)
_NUMERIC_ARRAYS: Final[frozenset[ValueType]] = frozenset(arr for arr, el in _ELEMENT.items() if el in _NUMERIC)
_INT_RANGE: Final[dict[ValueType, tuple[int, int]]] = {
    vt: ((0, (1 << bits) - 1) if vt.value.startswith("Uint") else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1))
    for vt, bits in _INT_BITS.items()
}
