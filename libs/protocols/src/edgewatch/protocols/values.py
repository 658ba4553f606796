"""EdgeX values as protocol code holds them: the Python value of a reading, integer ranges, float32 rounding."""

from __future__ import annotations

import math
import struct
from typing import Final

__all__ = ["INT_RANGES", "Scalar", "Value", "to_float32"]

Scalar = bool | int | float | str
Value = Scalar | list[bool] | list[int] | list[float] | list[str]

INT_RANGES: Final[dict[str, tuple[int, int]]] = {
    "Int8": (-(2**7), 2**7 - 1),
    "Uint8": (0, 2**8 - 1),
    "Int16": (-(2**15), 2**15 - 1),
    "Uint16": (0, 2**16 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "Uint32": (0, 2**32 - 1),
    "Int64": (-(2**63), 2**63 - 1),
    "Uint64": (0, 2**64 - 1),
}
_FLOAT32 = struct.Struct(">f")


def to_float32(x: float) -> float:
    """Round a Python float to the nearest float32 (inf when out of range, like a Go float32 conversion)."""
    if math.isnan(x) or math.isinf(x):
        return x
    try:
        return float(_FLOAT32.unpack(_FLOAT32.pack(x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)
