"""Array reading values as Go writes them (``"[1, 2]"``, E-notation floats, StringArray as JSON), via numpy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from edgewatch.common.contracts.valuescalar import ValueFormatError, parse_bool
from edgewatch.common.contracts.valuetype import ValueType

__all__ = ["NUMPY_DTYPES", "format_array", "parse_array", "parse_string_array"]

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


def parse_string_array(text: str) -> list[str]:
    """Parse a StringArray value: compact JSON, or Go's ``fmt`` form ``[a, b]`` written by older SDKs."""
    try:
        items = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        # Go's fmt form "[a, b]" (older SDKs): split on the separator.
        parts = _split_array(ValueType.STRING_ARRAY, text)
        return [part.strip() for part in parts]
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueFormatError("StringArray value must be a JSON array of strings", field="value")
    return items
