"""Scalar reading values as Go writes them: decimal integers, true/false, ``strconv.FormatFloat(v, 'e', -1, bits)``."""

from __future__ import annotations

import math
import re
import struct
import sys
from fractions import Fraction
from typing import Any, Final

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.valuetype import ValueType

__all__ = [
    "ValueFormatError",
    "format_float",
    "format_scalar",
    "is_number",
    "parse_bool",
    "parse_float",
    "parse_int",
    "parse_scalar",
    "shortest_e_notation",
    "shortest_float32",
    "to_float32",
]


class ValueFormatError(ContractInvalidError, ValueError):
    """400: a value that does not match its valueType (bad syntax, out of range, wrong Python type)."""


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
        return shortest_e_notation(shortest_float32(to_float32(value)))
    return shortest_e_notation(repr(float(value)))


_F32_BITS: Final = struct.Struct("<I")
_F64: Final = struct.Struct("<d")
_F64_BITS: Final = struct.Struct("<Q")
_LOW29: Final = (1 << 29) - 1
_HALF29: Final = 1 << 28
_F32_MIN_NORMAL: Final = 2.0**-126
_F32_TINY: Final = 2.0**-149


def _f32_step(x: float, up: bool) -> float:
    """The float32 next to the finite float32 ``x`` (away from zero when ``up`` for positive ``x``)."""
    bits = _F32_BITS.unpack(_F32.pack(x))[0]
    return float(_F32.unpack(_F32_BITS.pack(bits + (1 if up else -1)))[0])


def _as_float32(text: str) -> float | None:
    """The float32 a decimal string rounds to (directly, as ``ParseFloat(text, 32)``), or None on overflow."""
    wide = float(text)
    try:
        narrow = float(_F32.unpack(_F32.pack(wide))[0])
    except OverflowError:
        return None
    if narrow != wide and (_F64_BITS.unpack(_F64.pack(wide))[0] & _LOW29 == _HALF29 or abs(wide) < _F32_MIN_NORMAL):
        # Rounding to float64 first can land exactly on the midpoint of two float32s while the decimal lies to one
        # side of it (double rounding): then the exact decimal decides. A midpoint of normal float32s ends in the
        # float64 bits 1 followed by 28 zeros; near zero (subnormals) every case takes the exact check.
        other = _f32_step(narrow, (wide > narrow) == (narrow > 0)) if narrow != 0.0 else math.copysign(_F32_TINY, wide)
        if (narrow + other) / 2 == wide and not math.isinf(other):
            exact = Fraction(text)
            if exact != Fraction(wide):
                return other if (exact > wide) == (other > narrow) else narrow
    return narrow


def _next_decimal_up(text: str) -> str:
    """``'-3.95e+01'`` -> ``'-3.96e+01'``: one unit more in the last digit, in magnitude (same digit count)."""
    mant, _, exp = text.partition("e")
    sign = "-" if mant[0] == "-" else ""
    digits = str(int(mant.lstrip("-").replace(".", "")) + 1)
    e = int(exp)
    n = len(mant.lstrip("-").replace(".", ""))
    if len(digits) > n:  # 9.99 -> 10.0: one more power of ten
        digits, e = digits[:n], e + 1
    body = digits[0] + ("." + digits[1:] if n > 1 else "")
    return f"{sign}{body}e{'-' if e < 0 else '+'}{abs(e):02d}"


def _candidate(value: float, digits: int, power_of_two: bool) -> str:
    """The decimal of ``digits`` significant digits that reads back as ``value`` and is nearest to it, or ''."""
    text = f"{value:.{digits - 1}e}"
    if _as_float32(text) == value:
        return text
    if power_of_two and abs(Fraction(text)) < abs(Fraction(value)):
        up = _next_decimal_up(text)
        if _as_float32(up) == value:
            return up
    return ""


def shortest_float32(value: float) -> str:
    """The shortest decimal that reads back as the float32 ``value`` (the digits of numpy's and Go's shortest
    formatting), as ``'3.95e+01'``; ``'nan'``, ``'inf'``, ``'-inf'``, ``'0.0'``, ``'-0.0'`` for the specials.

    ``value`` must already be a float32 (see :func:`to_float32`). With each number of digits the correctly rounded
    decimal is the nearest candidate; only at a power of two, where the interval that reads back is half as wide
    below as above, the next decimal up can read back when the nearest (below) does not.
    """
    if value == 0.0 or not math.isfinite(value):
        return repr(value)
    power_of_two = _F32_BITS.unpack(_F32.pack(abs(value)))[0] & 0x7FFFFF == 0
    # Reading back is monotone in the number of digits (more digits, nearer candidates): a binary search over 1..9.
    lo, hi, found = 1, 9, ""
    while lo <= hi:
        digits = (lo + hi) // 2
        text = _candidate(value, digits, power_of_two)
        if text:
            found, hi = text, digits - 1
        else:
            lo = digits + 1
    if found:
        return found
    return repr(value)  # unreachable: 9 significant digits always read back


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


def is_number(value: Any) -> bool:
    """Whether ``value`` is an int, float or bool, or a numpy scalar of those (numpy is not loaded for the check)."""
    if isinstance(value, int | float):
        return True
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.integer | np.floating | np.bool_)


def _is_bool(value: Any, np: Any) -> bool:
    return isinstance(value, bool) or (np is not None and isinstance(value, np.bool_))


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
        if not _is_bool(value, sys.modules.get("numpy")):
            raise ValueFormatError(f"Bool value must be bool, got {type(value).__name__}", field="value")
        return "true" if value else "false"
    np = sys.modules.get("numpy")  # not loaded: no numpy scalar can exist
    if value_type.is_float:
        if _is_bool(value, np) or not (
            isinstance(value, int | float) or (np is not None and isinstance(value, np.integer | np.floating))
        ):
            raise ValueFormatError(f"{value_type} value must be a number, got {type(value).__name__}", field="value")
        try:
            number = float(value)
        except OverflowError:
            raise ValueFormatError(f"value {value} is out of range for {value_type}", field="value") from None
        return format_float(number, 32 if value_type is ValueType.FLOAT32 else 64)
    bounds = value_type.int_range
    if bounds is not None:
        if _is_bool(value, np) or not (isinstance(value, int) or (np is not None and isinstance(value, np.integer))):
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
