"""Reading value strings exactly as the Go SDK writes them (COMPAT.md section 3), and their parsing.

Scalars: integers in decimal, Bool ``true``/``false``, floats as ``strconv.FormatFloat(v, 'e', -1, bits)``
(``39.5`` -> ``"3.95e+01"``). Arrays: ``"[1, 2, 3]"``, float elements in the same E-notation, StringArray as
compact JSON. Parsing accepts what Go's ``strconv`` accepts and range-checks the integer types and Float32.
Numeric arrays go through numpy in both directions (:func:`format_array`, :func:`parse_array`).
This module is the public entry point; the work is in ``valuescalar`` and ``valuearray``. ``valuearray`` (numpy)
is imported at the first array value a process formats or parses: services that only meet scalars never load
numpy (about 16 MB of RSS each).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from edgewatch.common.contracts.valuescalar import (
    ValueFormatError,
    format_float,
    format_scalar,
    is_number,
    parse_bool,
    parse_float,
    parse_int,
    parse_scalar,
    to_float32,
)
from edgewatch.common.contracts.valuetype import ValueType

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "ValueFormatError",
    "format_array",
    "format_float",
    "format_value",
    "is_number",
    "parse_array",
    "parse_bool",
    "parse_float",
    "parse_int",
    "parse_value",
    "to_float32",
]


def format_array(value_type: ValueType, values: Sequence[Any] | npt.NDArray[Any]) -> str:
    """Go's array value string for a list or numpy array (:func:`valuearray.format_array`).

    Raises:
        ValueFormatError: wrong element types or integers outside the element type's range.
    """
    from edgewatch.common.contracts.valuearray import format_array as format_elements

    return format_elements(value_type, values)


def parse_array(value_type: ValueType, text: str) -> npt.NDArray[Any]:
    """A numeric or Bool array value string as a numpy array of the element dtype (:func:`valuearray.parse_array`).

    Raises:
        ValueFormatError: malformed text, an element that is not a number, or one out of range.
    """
    from edgewatch.common.contracts.valuearray import parse_array as parse_elements

    return parse_elements(value_type, text)


def parse_string_array(text: str) -> list[str]:
    """A StringArray value (:func:`valuearray.parse_string_array`)."""
    from edgewatch.common.contracts.valuearray import parse_string_array as parse_strings

    return parse_strings(text)


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
