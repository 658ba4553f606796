"""Scalar reading values as Go writes them: decimal integers, true/false, ``strconv.FormatFloat(v, 'e', -1, bits)``."""

from __future__ import annotations

import math
import re
import struct
from typing import Any, Final

import numpy as np

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.valuetype import ValueType

__all__ = [
    "NUMPY_DTYPES",
    "ValueFormatError",
    "format_float",
    "format_scalar",
    "parse_bool",
    "parse_float",
    "parse_int",
    "parse_scalar",
    "shortest_e_notation",
    "to_float32",
]


class ValueFormatError(ContractInvalidError, ValueError):
    """400: a value that does not match its valueType (bad syntax, out of range, wrong Python type)."""


NUMPY_DTYPES: Final[dict[ValueType, type[np.generic]]] = {
    ValueType.BOOL: np.bool_,
    ValueType.UINT8: np.uint8,
    ValueType.UINT16: np.uint16,
    ValueType.UINT32: np.uint32,
    ValueType.UINT64: np.uint64,
    ValueType.INT8: np.int8,
    ValueType.INT16: np.int16,
    ValueType.INT32: np.int32,
    ValueType.INT64: np.int64,
    ValueType.FLOAT32: np.float32,
    ValueType.FLOAT64: np.float64,
}
"""numpy dtype of each numeric/Bool element type (look up with ``value_type.element``)."""

_INT_RE: Final = re.compile(r"[+-]?[0-9]+")
_UINT_RE: Final = re.compile(r"[0-9]+")
_FLOAT_RE: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_FLOAT_RE: Final = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_SPECIALS: Final[dict[str, float]] = {
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-infinity": -math.inf,
    "nan": math.nan,
}
_BOOLS: Final[dict[str, bool]] = {
    "1": True,
    "t": True,
    "T": True,
    "TRUE": True,
    "true": True,
    "True": True,
    "0": False,
    "f": False,
    "F": False,
    "FALSE": False,
    "false": False,
    "False": False,
}
_F32: Final = struct.Struct("<f")


def to_float32(value: float) -> float:
    """``value`` rounded to float32 (as a Python float), as Go's ``float32(x)`` / ``ParseFloat(s, 32)`` rounds.

    Raises:
        ValueFormatError: a finite value too large for float32.
    """
    try:
        return float(_F32.unpack(_F32.pack(value))[0])
    except OverflowError:
        raise ValueFormatError(f"value {value!r} is out of range for Float32", field="value") from None


def shortest_e_notation(shortest: str) -> str:
    """Rewrite a shortest round-trip repr (``'39.5'``, ``'1e-07'``, ``'nan'``) in Go's ``'e', -1`` form."""
    if shortest[-1] in "nf":  # nan, inf, -inf
        return "NaN" if shortest == "nan" else ("-Inf" if shortest[0] == "-" else "+Inf")
    sign = "-" if shortest[0] == "-" else ""
    body = shortest.lstrip("-")
    mant, e_sep, exp_text = body.partition("e")
    if e_sep:
        exp = int(exp_text)
        digits = mant.replace(".", "")
    else:
        int_part, _, frac = mant.partition(".")
        all_digits = int_part + frac
        digits = all_digits.lstrip("0")
        if not digits:
            return sign + "0e+00"
        exp = len(int_part) - 1 - (len(all_digits) - len(digits))
    digits = digits.rstrip("0") or "0"
    mantissa = digits[0] + "." + digits[1:] if len(digits) > 1 else digits
    return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def format_float(value: float, bits: int = 64) -> str:
    """``strconv.FormatFloat(value, 'e', -1, bits)``: shortest digits that round-trip at ``bits`` (32 or 64).

    Raises:
        ValueFormatError: a finite value too large for float32 when ``bits`` is 32.
    """
    if bits == 32:
        return shortest_e_notation(str(np.float32(to_float32(value))))
    return shortest_e_notation(repr(float(value)))


def parse_bool(text: str) -> bool:
    """``strconv.ParseBool``: 1 t T TRUE true True / 0 f F FALSE false False."""
    try:
        return _BOOLS[text]
    except (KeyError, TypeError):
        raise ValueFormatError(f"value {text!r} is not a valid Bool", field="value") from None


def parse_int(text: str, value_type: ValueType) -> int:
    """``strconv.ParseInt``/``ParseUint`` in base 10 with the bit size of ``value_type`` (range-checked)."""
    bounds = value_type.int_range
    if bounds is None:
        raise ValueFormatError(f"{value_type} is not an integer value type", field="valueType")
    pattern = _UINT_RE if bounds[0] == 0 else _INT_RE
    if not isinstance(text, str) or pattern.fullmatch(text) is None:
        raise ValueFormatError(f"value {text!r} is not a valid {value_type.element}", field="value")
    number = int(text)
    if not bounds[0] <= number <= bounds[1]:
        raise ValueFormatError(f"value {text} is out of range for {value_type.element}", field="value")
    return number


def parse_float(text: str, bits: int = 64) -> float:
    """``strconv.ParseFloat(text, bits)``: decimal, E-notation, hex floats, Inf/Infinity/NaN; overflow rejected."""
    name = "Float32" if bits == 32 else "Float64"
    if not isinstance(text, str):
        raise ValueFormatError(f"value {text!r} is not a valid {name}", field="value")
    if _FLOAT_RE.fullmatch(text):
        number = float(text)
    elif (special := _SPECIALS.get(text.lower())) is not None:
        return special
    elif _HEX_FLOAT_RE.fullmatch(text):
        try:
            number = float.fromhex(text)
        except OverflowError:
            raise ValueFormatError(f"value {text} is out of range for {name}", field="value") from None
    else:
        raise ValueFormatError(f"value {text!r} is not a valid {name}", field="value")
    if math.isinf(number):
        raise ValueFormatError(f"value {text} is out of range for {name}", field="value")
    if bits == 32:
        try:
            return float(_F32.unpack(_F32.pack(number))[0])
        except OverflowError:
            raise ValueFormatError(f"value {text} is out of range for Float32", field="value") from None
    return number


def format_scalar(value_type: ValueType, value: Any) -> str:
    """The value string of a scalar (Bool, String, integer or float type).

    Raises:
        ValueFormatError: ``value`` does not fit ``value_type``, or the type is not a scalar.
    """
    if value_type is ValueType.STRING:
        if not isinstance(value, str):
            raise ValueFormatError(f"String value must be str, got {type(value).__name__}", field="value")
        return value
    if value_type is ValueType.BOOL:
        if not isinstance(value, bool | np.bool_):
            raise ValueFormatError(f"Bool value must be bool, got {type(value).__name__}", field="value")
        return "true" if value else "false"
    if value_type.is_float:
        if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
            raise ValueFormatError(f"{value_type} value must be a number, got {type(value).__name__}", field="value")
        try:
            number = float(value)
        except OverflowError:
            raise ValueFormatError(f"value {value} is out of range for {value_type}", field="value") from None
        return format_float(number, 32 if value_type is ValueType.FLOAT32 else 64)
    bounds = value_type.int_range
    if bounds is not None:
        if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
            raise ValueFormatError(f"{value_type} value must be an int, got {type(value).__name__}", field="value")
        number = int(value)
        if not bounds[0] <= number <= bounds[1]:
            raise ValueFormatError(f"value {number} is out of range for {value_type}", field="value")
        return str(number)
    raise ValueFormatError(f"{value_type} has no simple value string", field="valueType")


def parse_scalar(value_type: ValueType, text: str) -> bool | int | float | str:
    """Parse a scalar value string (what Go's strconv accepts for the type).

    Raises:
        ValueFormatError: bad syntax, out of range, or the type is not a scalar.
    """
    if value_type is ValueType.STRING:
        return text
    if value_type is ValueType.BOOL:
        return parse_bool(text)
    if value_type is ValueType.FLOAT32:
        return parse_float(text, 32)
    if value_type is ValueType.FLOAT64:
        return parse_float(text, 64)
    if value_type.is_integer:
        return parse_int(text, value_type)
    raise ValueFormatError(f"{value_type} has no simple value string", field="valueType")
