"""Reading value strings exactly as the Go SDK writes them (COMPAT.md section 3), and their parsing.

Scalars: integers in decimal, Bool ``true``/``false``, floats as ``strconv.FormatFloat(v, 'e', -1, bits)``
(``39.5`` -> ``"3.95e+01"``). Arrays: ``"[1, 2, 3]"``, float elements in the same E-notation, StringArray as
compact JSON. Parsing accepts what Go's ``strconv`` accepts and range-checks the integer types and Float32.
Numeric arrays go through numpy in both directions (:func:`format_array`, :func:`parse_array`).
This module is the public entry point; the work is in ``valuescalar`` and ``valuearray``.
"""

from __future__ import annotations

from typing import Any

from edgewatch.common.contracts.valuearray import format_array, parse_array, parse_string_array
from edgewatch.common.contracts.valuescalar import (
    NUMPY_DTYPES,
    ValueFormatError,
    format_float,
    format_scalar,
    parse_bool,
    parse_float,
    parse_int,
    parse_scalar,
    to_float32,
)
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


def format_value(value_type: ValueType, value: Any) -> str:
    """The Go SDK's value string for ``value`` of ``value_type`` (scalars, arrays, numpy arrays).

    Raises:
        ValueFormatError: ``value`` does not fit ``value_type`` (type, range), or the type has no value string.
    """
    if value_type.is_array:
        return format_array(value_type, value)
    return format_scalar(value_type, value)


def parse_value(value_type: ValueType, text: str) -> Any:
    """Parse a value string into Python values (bool/int/float/str, or a list of them for arrays).

    Raises:
        ValueFormatError: the text does not match ``value_type`` (syntax, integer range, Float32 overflow).
    """
    if value_type.is_array:
        if value_type is ValueType.STRING_ARRAY:
            return parse_string_array(text)
        return parse_array(value_type, text).tolist()
    return parse_scalar(value_type, text)
