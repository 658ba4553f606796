"""Device-SDK transforms: read mask -> shift -> base -> scale -> offset, the inverse on writes, limits, overflow."""

from __future__ import annotations

import pytest

from edgewatch.protocols.errors import TransformOverflowError, ValueRangeError
from edgewatch.protocols.transform import Transform

# (value type, properties, device value, engineering value)
READS = [
    ("Uint16", {"mask": 0x00F0}, 0xABCD, 0xC0),
    ("Uint16", {"mask": 0x00F0, "shift": 4}, 0xABCD, 0xC),
    ("Int32", {"shift": -2}, 3, 12),
    ("Float64", {"base": 10}, 2.0, 100.0),
    ("Float32", {"scale": 0.1}, 215.0, 21.5),
    ("Float32", {"scale": 0.1, "offset": -40}, 615.0, 21.5),
    ("Int16", {"scale": 0.1}, 215, 21),  # cast back to the value type with Go truncation
    ("Int16", {"scale": -0.1}, 215, -21),
    ("Uint16", {"mask": 0xFF00, "shift": 8, "scale": 2, "offset": 1}, 0x0300, 7),
    ("Float64", {}, 1.5, 1.5),
]


@pytest.mark.parametrize(("vt", "props", "raw", "value"), READS)
def test_transform_read_applies_the_pipeline_in_sdk_order(vt, props, raw, value):
    assert Transform.from_properties(vt, props).read(raw) == pytest.approx(value)


@pytest.mark.parametrize(
    ("vt", "props", "value", "raw"),
    [
        ("Float32", {"scale": 0.1}, 21.5, 215.0),
        ("Int16", {"scale": 0.1}, 21.5, 215),  # rounded, not truncated (214)
        ("Float32", {"scale": 0.1, "offset": -40}, 21.5, 615.0),
        ("Float64", {"base": 10}, 100.0, 2.0),
        ("Uint16", {"shift": 4}, 0xC, 0xC0),
        ("Bool", {"scale": 3}, True, True),
    ],
)
def test_transform_write_inverts_in_reverse_order(vt, props, value, raw):
    assert Transform.from_properties(vt, props).write(value) == pytest.approx(raw)


def test_transform_write_checks_minimum_and_maximum_on_the_engineering_value():
    t = Transform.from_properties("Float32", {"scale": 0.1, "minimum": 0, "maximum": 50})
    assert t.write(50.0) == pytest.approx(500.0)
    with pytest.raises(ValueRangeError, match="above the maximum 50"):
        t.write(50.5)
    with pytest.raises(ValueRangeError, match="below the minimum 0"):
        t.write(-1.0)


def test_transform_overflow_is_an_error_not_a_wrapped_value():
    with pytest.raises(TransformOverflowError):
        Transform.from_properties("Int16", {"scale": 1000}).read(1000)
    with pytest.raises(TransformOverflowError):
        Transform.from_properties("Float32", {"base": 10}).read(100.0)
    with pytest.raises(ValueRangeError):
        Transform.from_properties("Uint8", {"scale": 0.5}).write(200)
