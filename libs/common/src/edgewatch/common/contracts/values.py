"""Reading value strings exactly as the Go SDK writes them (COMPAT.md section 3), and their parsing.

Scalars: integers in decimal, Bool ``true``/``false``, floats as ``strconv.FormatFloat(v, 'e', -1, bits)``
(``39.5`` -> ``"3.95e+01"``). Arrays: ``"[1, 2, 3]"``, float elements in the same E-notation, StringArray as
compact JSON. Parsing accepts what Go's ``strconv`` accepts and range-checks the integer types and Float32.
Numeric arrays go through numpy in both directions (:func:`format_array`, :func:`parse_array`).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.valuetype import ValueType

__all__ = [
    "NUMPY_DTYPES",
    "ValueFormatError",
    "format_array",
    "format_float",
    "format_value",
    "parse_array",
    "parse_bool",
    "parse_float",
    "parse_int",
    "parse_value",
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


# ---------------------------------------------------------------------------------------------------- scalars


def _e_notation(shortest: str) -> str:
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
        return _e_notation(str(np.float32(to_float32(value))))
    return _e_notation(repr(float(value)))


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


def _format_scalar(value_type: ValueType, value: Any) -> str:
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


def _parse_scalar(value_type: ValueType, text: str) -> bool | int | float | str:
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


# ---------------------------------------------------------------------------------------------------- arrays


_EXP_TEXT: Final = np.array([f"e{'-' if e < 0 else '+'}{abs(e):02d}" for e in range(-400, 401)])


def _format_float_elements(arr: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.str_]:
    """Vectorised :func:`_e_notation`: numpy's C shortest repr, rewritten to Go's form with np.strings ops."""
    strings = np.strings
    text = arr.astype(str)
    neg = np.signbit(arr)
    body = np.where(neg, strings.slice(text, 1, None), text)
    e_pos = strings.find(body, "e")
    has_e = e_pos >= 0
    mant = body
    exp_e: Any = 0
    if has_e.any():
        mant = np.where(has_e, strings.slice(body, 0, e_pos), body)
        exp_e = np.where(has_e, strings.slice(body, e_pos + 1, None), "0").astype(np.int64)
    dot = strings.find(mant, ".")
    int_len = np.where(dot >= 0, dot, strings.str_len(mant))
    digits = strings.replace(mant, ".", "")
    lead = strings.lstrip(digits, "0")
    lead_len = strings.str_len(lead)
    exp = np.where(has_e, exp_e + int_len - 1, int_len - 1 - (strings.str_len(digits) - lead_len))
    sig = strings.rstrip(lead, "0")
    rest = strings.slice(sig, 1, None)
    mantissa = strings.add(strings.slice(sig, 0, 1), np.where(strings.str_len(rest) > 0, strings.add(".", rest), ""))
    zero = lead_len == 0
    mantissa = np.where(zero, "0", mantissa)
    exp = np.where(zero, 0, exp)
    out: npt.NDArray[np.str_] = strings.add(strings.add(np.where(neg, "-", ""), mantissa), _EXP_TEXT[exp + 400])
    if not np.isfinite(arr).all():
        out = np.where(np.isnan(arr), "NaN", out)
        out = np.where(np.isposinf(arr), "+Inf", out)
        out = np.where(np.isneginf(arr), "-Inf", out)
    return out


def format_array(value_type: ValueType, values: Sequence[Any] | npt.NDArray[Any]) -> str:
    """Go's array value string for a list or numpy array (numeric arrays are formatted vectorised).

    Raises:
        ValueFormatError: wrong element types or integers outside the element type's range.
    """
    if not value_type.is_array or value_type is ValueType.OBJECT_ARRAY:
        raise ValueFormatError(f"{value_type} is not a simple array value type", field="valueType")
    element = value_type.element
    if element is ValueType.STRING:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        if not all(isinstance(item, str) for item in items):
            raise ValueFormatError("StringArray elements must be str", field="value")
        return _go_json(items)
    if element is ValueType.BOOL:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        if not all(isinstance(item, bool) for item in items):
            raise ValueFormatError("BoolArray elements must be bool", field="value")
        return "[" + ", ".join("true" if item else "false" for item in items) + "]"
    arr = _to_numeric_array(value_type, values)
    if arr.size == 0:
        return "[]"
    if element.is_float:
        return "[" + ", ".join(_format_float_elements(arr).tolist()) + "]"
    return "[" + ", ".join(arr.astype(str).tolist()) + "]"


def _to_numeric_array(value_type: ValueType, values: Sequence[Any] | npt.NDArray[Any]) -> npt.NDArray[Any]:
    element = value_type.element
    dtype = NUMPY_DTYPES[element]
    if isinstance(values, np.ndarray) and values.dtype == dtype:
        return values.ravel()
    bounds = element.int_range
    if bounds is not None and not isinstance(values, np.ndarray):
        # A Python list: numpy would widen mixed big/small ints to float64, so check and convert explicitly.
        items = list(values)
        if not all(isinstance(item, int | np.integer) and not isinstance(item, bool) for item in items):
            raise ValueFormatError(f"{value_type} elements must be integers", field="value")
        if items and (min(items) < bounds[0] or max(items) > bounds[1]):
            raise ValueFormatError(f"a value is out of range for {element}", field="value")
        return np.array(items, dtype=dtype)
    src = np.asarray(values)
    if src.size and src.dtype.kind not in ("i", "u", "f"):
        raise ValueFormatError(f"{value_type} elements must be numbers, got {src.dtype}", field="value")
    if element.is_float:
        with np.errstate(over="ignore"):
            arr = src.astype(dtype).ravel()
        if element is ValueType.FLOAT32 and src.size and (np.isinf(arr) & np.isfinite(src.astype(float))).any():
            raise ValueFormatError("a value overflows Float32", field="value")
        return arr
    if src.size and src.dtype.kind == "f":
        raise ValueFormatError(f"{value_type} elements must be integers", field="value")
    assert bounds is not None
    if (src.size and src.dtype.kind != "u" and int(src.min()) < bounds[0]) or (src.size and int(src.max()) > bounds[1]):
        raise ValueFormatError(f"a value is out of range for {element}", field="value")
    return src.astype(dtype).ravel()


def _split_array(value_type: ValueType, text: str) -> list[str]:
    if not isinstance(text, str):
        raise ValueFormatError(f"{value_type} value must be a string, got {type(text).__name__}", field="value")
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] != "[" or stripped[-1] != "]":
        raise ValueFormatError(f"value {text[:40]!r} is not a valid {value_type}", field="value")
    inner = stripped[1:-1].strip()
    return inner.split(",") if inner else []


def parse_array(value_type: ValueType, text: str) -> npt.NDArray[Any]:
    """Parse a numeric or Bool array value string into a numpy array of the element dtype (vectorised).

    Raises:
        ValueFormatError: malformed text, an element that is not a number, or one out of range.
    """
    element = value_type.element
    dtype = NUMPY_DTYPES.get(element) if value_type.is_array else None
    if dtype is None:
        raise ValueFormatError(f"{value_type} is not a numeric or Bool array value type", field="valueType")
    parts = _split_array(value_type, text)
    if element is ValueType.BOOL:
        return np.array([parse_bool(part.strip()) for part in parts], dtype=np.bool_)
    if not parts:
        return np.empty(0, dtype=dtype)
    if element.is_float:
        try:
            wide = np.array(parts, dtype=np.float64)
        except ValueError:
            raise ValueFormatError(f"value is not a valid {value_type}", field="value") from None
        if np.isinf(wide).any():
            bad = np.isinf(wide) & (np.strings.find(np.strings.lower(np.array(parts)), "inf") < 0)
            if bad.any():
                raise ValueFormatError(f"value {parts[int(np.argmax(bad))].strip()} is out of range for {element}")
        if element is ValueType.FLOAT64:
            return wide
        with np.errstate(over="ignore"):
            narrow = wide.astype(np.float32)
        if (np.isinf(narrow) & np.isfinite(wide)).any():
            raise ValueFormatError(f"a value is out of range for {element}", field="value")
        return narrow
    bounds = element.int_range
    assert bounds is not None
    try:
        wide_int = np.array(parts, dtype=np.uint64 if element is ValueType.UINT64 else np.int64)
    except (ValueError, OverflowError):
        raise ValueFormatError(f"value is not a valid {value_type} (syntax or range)", field="value") from None
    if element.bits != 64 and wide_int.size and (wide_int.min() < bounds[0] or wide_int.max() > bounds[1]):
        raise ValueFormatError(f"a value is out of range for {element}", field="value")
    return wide_int.astype(dtype)


def _go_json(items: list[str]) -> str:
    """Compact JSON as Go's encoding/json writes it (HTML-safe escapes included)."""
    text = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _parse_string_array(text: str) -> list[str]:
    try:
        items = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        # Go's fmt form "[a, b]" (older SDKs): split on the separator.
        parts = _split_array(ValueType.STRING_ARRAY, text)
        return [part.strip() for part in parts]
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueFormatError("StringArray value must be a JSON array of strings", field="value")
    return items


# ---------------------------------------------------------------------------------------------------- entry points


def format_value(value_type: ValueType, value: Any) -> str:
    """The Go SDK's value string for ``value`` of ``value_type`` (scalars, arrays, numpy arrays).

    Raises:
        ValueFormatError: ``value`` does not fit ``value_type`` (type, range), or the type has no value string.
    """
    if value_type.is_array:
        return format_array(value_type, value)
    return _format_scalar(value_type, value)


def parse_value(value_type: ValueType, text: str) -> Any:
    """Parse a value string into Python values (bool/int/float/str, or a list of them for arrays).

    Raises:
        ValueFormatError: the text does not match ``value_type`` (syntax, integer range, Float32 overflow).
    """
    if value_type.is_array:
        if value_type is ValueType.STRING_ARRAY:
            return _parse_string_array(text)
        return parse_array(value_type, text).tolist()
    return _parse_scalar(value_type, text)
