"""EdgeX device-SDK value transforms: read ``mask -> shift -> base -> scale -> offset``, writes the inverse.

Only numeric scalar value types are transformed (arrays, Bool and String pass through, as in device-sdk-go).
Reads cast the result back to the value type (Go truncation for integers) and raise Overflow when it does not fit;
writes check ``minimum`` / ``maximum`` on the engineering value, then invert in reverse order (integers are
rounded, not truncated, so ``21.5 / 0.1`` writes 215).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgewatch.protocols.errors import TransformOverflowError, ValueRangeError
from edgewatch.protocols.values import INT_RANGES, Value, to_float32

__all__ = ["Transform"]

_NUMERIC = frozenset((*INT_RANGES, "Float32", "Float64"))


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    return float(v)


@dataclass(frozen=True, slots=True)
class Transform:
    """The transform and limits of one resource (from its ``properties``), parsed once."""

    value_type: str
    mask: int = 0
    shift: int = 0
    base: float = 0.0
    scale: float = 1.0
    offset: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    @classmethod
    def from_properties(cls, value_type: str, props: Any) -> Transform:
        """Build from an EdgeX ResourceProperties-like object (attributes may be absent, None or strings).

        Raises:
            ValueError: a property is not a number.
        """

        def get(name: str) -> float | None:
            if isinstance(props, Mapping):
                return _num(props.get(name))
            return _num(getattr(props, name, None))

        mask, shift, base, scale, offset = get("mask"), get("shift"), get("base"), get("scale"), get("offset")
        return cls(
            value_type=value_type,
            mask=int(mask or 0),
            shift=int(shift or 0),
            base=base or 0.0,
            scale=1.0 if scale in (None, 0.0) else scale,
            offset=offset or 0.0,
            minimum=get("minimum"),
            maximum=get("maximum"),
        )

    @property
    def is_identity(self) -> bool:
        """True when reads and writes pass values through unchanged."""
        return not (self.mask or self.shift or self.base or self.offset) and self.scale == 1.0

    def read(self, value: Value) -> Value:
        """Apply the read transform.

        Raises:
            TransformOverflowError: the result does not fit the value type, or is NaN.
        """
        vt = self.value_type
        if self.is_identity or vt not in _NUMERIC or isinstance(value, (list, bool, str)):
            return value
        is_int = vt in INT_RANGES
        v: int | float = value
        if is_int:
            iv = int(v)
            if self.mask:
                iv &= self.mask
            if self.shift:
                iv = iv >> self.shift if self.shift > 0 else iv << -self.shift
            v = iv
        if self.base or self.scale != 1.0 or self.offset:
            f = float(v)
            try:
                if self.base:
                    f = math.pow(self.base, f)
                f = f * self.scale + self.offset
            except OverflowError:
                raise TransformOverflowError(f"transform of {value} overflows {vt}") from None
            v = f
        return self._cast(v, truncate=True, error=TransformOverflowError)

    def check_limits(self, value: Value) -> None:
        """Raise ValueRangeError when a numeric value is outside ``minimum`` / ``maximum``."""
        if isinstance(value, (list, str)):
            return
        f = float(value)
        if self.minimum is not None and f < self.minimum:
            raise ValueRangeError(f"value {value} is below the minimum {self.minimum:g}")
        if self.maximum is not None and f > self.maximum:
            raise ValueRangeError(f"value {value} is above the maximum {self.maximum:g}")

    def write(self, value: Value, *, limits: bool = True) -> Value:
        """Check limits (unless ``limits`` is False), then invert the read transform.

        Inverts offset, scale, base and shift (a mask cannot be inverted).

        Raises:
            ValueRangeError: outside minimum/maximum, or not representable after inversion.
        """
        if limits:
            self.check_limits(value)
        vt = self.value_type
        if self.is_identity or vt not in _NUMERIC or isinstance(value, (list, bool, str)):
            return value
        f = float(value)
        if self.offset:
            f -= self.offset
        if self.scale != 1.0:
            f /= self.scale
        if self.base:
            if f <= 0 or self.base <= 0 or self.base == 1.0:
                raise ValueRangeError(f"value {value} cannot be inverted through base {self.base:g}")
            f = math.log(f) / math.log(self.base)
        v: int | float = f
        if self.shift and vt in INT_RANGES:
            iv = round(f)
            v = iv << self.shift if self.shift > 0 else iv >> -self.shift
        return self._cast(v, truncate=False, error=ValueRangeError)

    def _cast(
        self, v: int | float, *, truncate: bool, error: type[ValueRangeError] | type[TransformOverflowError]
    ) -> Value:
        vt = self.value_type
        if isinstance(v, float) and math.isnan(v):
            raise error(f"transform produced NaN for {vt}")
        if vt in INT_RANGES:
            if isinstance(v, float):
                if math.isinf(v):
                    raise error(f"value {v} overflows {vt}")
                v = int(v) if truncate else round(v)
            lo, hi = INT_RANGES[vt]
            if not lo <= v <= hi:
                raise error(f"value {v} overflows {vt} ({lo}..{hi})")
            return int(v)
        out = to_float32(float(v)) if vt == "Float32" else float(v)
        if math.isinf(out):
            raise error(f"value {v} overflows {vt}")
        return out
