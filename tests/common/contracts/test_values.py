"""Go value-string encoding (COMPAT.md section 3): tables of formats, parses and range errors."""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import pytest

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.values import (
    ValueFormatError,
    format_array,
    format_value,
    parse_array,
    parse_bool,
    parse_float,
    parse_value,
)
from edgewatch.common.contracts.valuescalar import shortest_e_notation, shortest_float32
from edgewatch.common.contracts.valuetype import ValueType

FLOAT64_TABLE = [
    (39.5, "3.95e+01"),
    (2.0, "2e+00"),
    (0.0, "0e+00"),
    (-0.0, "-0e+00"),
    (-1.5e-07, "-1.5e-07"),
    (1e21, "1e+21"),
    (0.1, "1e-01"),
    (0.3, "3e-01"),
    (100.0, "1e+02"),
    (1 / 3, "3.333333333333333e-01"),
    (123456789.0, "1.23456789e+08"),
    (12345.678, "1.2345678e+04"),
    (1e300, "1e+300"),
    (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (-273.15, "-2.7315e+02"),
    (math.inf, "+Inf"),
    (-math.inf, "-Inf"),
]

FLOAT32_TABLE = [
    (39.5, "3.95e+01"),
    (2.0, "2e+00"),
    (0.0, "0e+00"),
    (-1.5e-07, "-1.5e-07"),
    (1e21, "1e+21"),
    (0.1, "1e-01"),
    (0.3, "3e-01"),
    (1 / 3, "3.3333334e-01"),
    (123456789, "1.2345679e+08"),
    (16777217, "1.6777216e+07"),
    (2.5, "2.5e+00"),
    (3.4028234663852886e38, "3.4028235e+38"),
    (1e-45, "1e-45"),
    (-273.15, "-2.7315e+02"),
    (math.inf, "+Inf"),
    (-math.inf, "-Inf"),
]


@pytest.mark.parametrize(("value", "text"), FLOAT64_TABLE)
def test_format_float64_uses_go_shortest_e_notation(value: float, text: str) -> None:
    assert format_value(ValueType.FLOAT64, value) == text


@pytest.mark.parametrize(("value", "text"), FLOAT32_TABLE)
def test_format_float32_uses_shortest_float32_digits(value: float, text: str) -> None:
    assert format_value(ValueType.FLOAT32, value) == text
    assert format_value(ValueType.FLOAT32, np.float32(value)) == text


def _f32(bits: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", bits))[0])


# every binary exponent at and next to a power of two (where the interval that reads back is lopsided), both signs
POWER_OF_TWO_NEIGHBOURS = [
    _f32(sign << 31 | exponent << 23 | mantissa)
    for sign in (0, 1)
    for exponent in range(255)
    for mantissa in (0, 1, 0x7FFFFF)
]


def test_float32_digits_at_and_next_to_every_power_of_two_match_numpy() -> None:
    got = [format_value(ValueType.FLOAT32, v) for v in POWER_OF_TWO_NEIGHBOURS]
    want = [shortest_e_notation(str(np.float32(v))) for v in POWER_OF_TWO_NEIGHBOURS]
    assert got == want


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0**-96, "1.2621775e-29"), (2.0**87, "1.5474251e+26"), (-(2.0**90), "-1.2379401e+27")],
)
def test_float32_digits_take_the_decimal_above_where_the_nearest_below_a_power_of_two_reads_back_lower(
    value: float, text: str
) -> None:
    nearest = f"{value:.7e}"  # correctly rounded, 8 digits: below the power of two, outside its narrow lower half
    assert float(np.float32(float(nearest))) != value
    assert shortest_float32(value) == text and format_value(ValueType.FLOAT32, value) == shortest_e_notation(text)


def test_format_float_nan_is_go_nan() -> None:
    assert format_value(ValueType.FLOAT64, math.nan) == "NaN"
    assert format_value(ValueType.FLOAT32, np.float32("nan")) == "NaN"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("39.5", 39.5),
        ("3.95e+01", 39.5),
        ("1", 1.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("+1.5", 1.5),
        ("-0", -0.0),
        ("1E5", 1e5),
        ("0x1p-2", 0.25),
        ("Inf", math.inf),
        ("+Inf", math.inf),
        ("-inf", -math.inf),
        ("infinity", math.inf),
        ("1e-400", 0.0),
    ],
)
def test_parse_float64_accepts_what_strconv_parsefloat_accepts(text: str, expected: float) -> None:
    assert parse_value(ValueType.FLOAT64, text) == expected


@pytest.mark.parametrize("text", ["NaN", "nan", "NAN"])
def test_parse_float_accepts_nan_spellings(text: str) -> None:
    assert math.isnan(parse_value(ValueType.FLOAT32, text))


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", " 1", "1 ", "1e", "--1", "+nan", "1_000", "0x10", "\u0661"])
def test_parse_float_rejects_what_strconv_rejects(text: str) -> None:
    with pytest.raises(ValueFormatError):
        parse_value(ValueType.FLOAT64, text)


@pytest.mark.parametrize(
    ("vt", "text"),
    [(ValueType.FLOAT32, "3.5e38"), (ValueType.FLOAT32, "-1e39"), (ValueType.FLOAT64, "1e309")],
)
def test_parse_float_overflow_is_a_range_error_naming_the_type(vt: ValueType, text: str) -> None:
    with pytest.raises(ValueFormatError, match=f"out of range for {vt}"):
        parse_value(vt, text)


def test_parse_float32_rounds_to_float32_and_accepts_float32_max() -> None:
    assert parse_value(ValueType.FLOAT32, "0.1") == float(np.float32(0.1))
    assert parse_value(ValueType.FLOAT32, "3.4028235e38") == float(np.finfo(np.float32).max)
    assert parse_float("1.2345679e+08", 32) == 123456792.0


INT_BOUNDS = [
    (ValueType.UINT8, "0", "255", "256"),
    (ValueType.UINT16, "0", "65535", "65536"),
    (ValueType.UINT32, "0", "4294967295", "4294967296"),
    (ValueType.UINT64, "0", "18446744073709551615", "18446744073709551616"),
    (ValueType.INT8, "-128", "127", "128"),
    (ValueType.INT16, "-32768", "32767", "32768"),
    (ValueType.INT32, "-2147483648", "2147483647", "2147483648"),
    (ValueType.INT64, "-9223372036854775808", "9223372036854775807", "9223372036854775808"),
]


@pytest.mark.parametrize(("vt", "low", "high", "over"), INT_BOUNDS)
def test_parse_integer_accepts_bounds_and_rejects_overflow(vt: ValueType, low: str, high: str, over: str) -> None:
    assert parse_value(vt, low) == int(low)
    assert parse_value(vt, high) == int(high)
    with pytest.raises(ValueFormatError, match=f"out of range for {vt}"):
        parse_value(vt, over)
    assert format_value(vt, int(high)) == high
    with pytest.raises(ValueFormatError, match=f"out of range for {vt}"):
        format_value(vt, int(over))


@pytest.mark.parametrize("vt", [ValueType.INT8, ValueType.INT16, ValueType.INT32, ValueType.INT64])
def test_parse_signed_integer_below_minimum_is_a_range_error(vt: ValueType) -> None:
    assert vt.int_range is not None
    with pytest.raises(ValueFormatError, match="out of range"):
        parse_value(vt, str(vt.int_range[0] - 1))


@pytest.mark.parametrize(
    ("vt", "text"),
    [
        (ValueType.UINT8, "-1"),
        (ValueType.UINT8, "+1"),
        (ValueType.INT32, "1.5"),
        (ValueType.INT32, " 1"),
        (ValueType.INT32, "1_000"),
        (ValueType.INT32, ""),
        (ValueType.INT32, "0x10"),
        (ValueType.INT64, "1e3"),
    ],
)
def test_parse_integer_rejects_non_decimal_syntax(vt: ValueType, text: str) -> None:
    with pytest.raises(ValueFormatError):
        parse_value(vt, text)


def test_parse_signed_integer_accepts_explicit_plus_sign() -> None:
    assert parse_value(ValueType.INT8, "+5") == 5
    assert parse_value(ValueType.INT16, "-12") == -12


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_parse_bool_true_spellings(text: str) -> None:
    assert parse_bool(text) is True
    assert parse_value(ValueType.BOOL, text) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_parse_bool_false_spellings(text: str) -> None:
    assert parse_value(ValueType.BOOL, text) is False


@pytest.mark.parametrize("text", ["yes", "TrUe", "", "2", "on"])
def test_parse_bool_rejects_other_text(text: str) -> None:
    with pytest.raises(ValueFormatError, match="Bool"):
        parse_value(ValueType.BOOL, text)


def test_format_scalars_bool_int_string() -> None:
    assert format_value(ValueType.BOOL, True) == "true"
    assert format_value(ValueType.BOOL, np.bool_(False)) == "false"
    assert format_value(ValueType.INT16, -12) == "-12"
    assert format_value(ValueType.UINT32, np.uint32(7)) == "7"
    assert format_value(ValueType.STRING, "héllo, [x]") == "héllo, [x]"
    assert parse_value(ValueType.STRING, "anything at all") == "anything at all"


@pytest.mark.parametrize(
    ("vt", "value"),
    [
        (ValueType.BOOL, 1),
        (ValueType.INT8, 1.5),
        (ValueType.INT8, True),
        (ValueType.FLOAT32, "1.5"),
        (ValueType.FLOAT32, 1e39),
        (ValueType.FLOAT64, 10**400),
        (ValueType.STRING, 5),
        (ValueType.BINARY, b"x"),
        (ValueType.OBJECT, {"a": 1}),
        (ValueType.OBJECT_ARRAY, [{"a": 1}]),
    ],
)
def test_format_value_rejects_values_that_do_not_fit_the_type(vt: ValueType, value: Any) -> None:
    with pytest.raises(ValueFormatError) as info:
        format_value(vt, value)
    assert isinstance(info.value, ContractInvalidError) and info.value.status == 400


ARRAY_TABLE: list[tuple[ValueType, Any, str]] = [
    (ValueType.INT8_ARRAY, [1, 2, 3], "[1, 2, 3]"),
    (ValueType.INT64_ARRAY, [-9223372036854775808, 0], "[-9223372036854775808, 0]"),
    (ValueType.UINT64_ARRAY, [18446744073709551615], "[18446744073709551615]"),
    (ValueType.UINT64_ARRAY, [0, 18446744073709551615], "[0, 18446744073709551615]"),
    (ValueType.UINT8_ARRAY, [], "[]"),
    (ValueType.BOOL_ARRAY, [True, False], "[true, false]"),
    (ValueType.FLOAT32_ARRAY, [1.5, 2.0], "[1.5e+00, 2e+00]"),
    (ValueType.FLOAT32_ARRAY, [0.1, 123456789.0], "[1e-01, 1.2345679e+08]"),
    (ValueType.FLOAT64_ARRAY, [0.1, -2.5e-10, 1e21], "[1e-01, -2.5e-10, 1e+21]"),
    (ValueType.FLOAT64_ARRAY, [], "[]"),
    (ValueType.STRING_ARRAY, ["a", "b"], '["a","b"]'),
    (ValueType.STRING_ARRAY, ['q"uote', "é"], '["q\\"uote","é"]'),
    (ValueType.STRING_ARRAY, ["<&>"], '["\\u003c\\u0026\\u003e"]'),
]


@pytest.mark.parametrize(("vt", "value", "text"), ARRAY_TABLE)
def test_array_values_format_as_go_and_parse_back(vt: ValueType, value: Any, text: str) -> None:
    assert format_value(vt, value) == text
    parsed = parse_value(vt, text)
    if vt is ValueType.FLOAT32_ARRAY:
        assert parsed == [float(np.float32(v)) for v in value]
    else:
        assert parsed == value


def test_float_array_with_nonfinite_elements() -> None:
    arr = np.array([np.nan, np.inf, -np.inf, -0.0], dtype=np.float32)
    text = format_value(ValueType.FLOAT32_ARRAY, arr)
    assert text == "[NaN, +Inf, -Inf, -0e+00]"
    back = parse_array(ValueType.FLOAT32_ARRAY, text)
    assert np.isnan(back[0]) and back[1] == np.inf and back[2] == -np.inf and np.signbit(back[3])


@pytest.mark.parametrize(
    ("vt", "text", "expected"),
    [
        (ValueType.INT16_ARRAY, "[1,2,3]", [1, 2, 3]),
        (ValueType.INT16_ARRAY, " [ -1 ,  2 ] ", [-1, 2]),
        (ValueType.FLOAT64_ARRAY, "[39.5, 3.95e+01]", [39.5, 39.5]),
        (ValueType.BOOL_ARRAY, "[true, F, 1]", [True, False, True]),
        (ValueType.STRING_ARRAY, "[a, b]", ["a", "b"]),
        (ValueType.STRING_ARRAY, "[]", []),
    ],
)
def test_array_parse_accepts_go_spacing_variants(vt: ValueType, text: str, expected: list[Any]) -> None:
    assert parse_value(vt, text) == expected


@pytest.mark.parametrize(
    ("vt", "text"),
    [
        (ValueType.INT8_ARRAY, "1, 2"),
        (ValueType.INT8_ARRAY, "[1, x]"),
        (ValueType.INT8_ARRAY, "[1, 128]"),
        (ValueType.INT8_ARRAY, "[1.5]"),
        (ValueType.UINT8_ARRAY, "[-1]"),
        (ValueType.UINT64_ARRAY, "[-1]"),
        (ValueType.INT64_ARRAY, "[9223372036854775808]"),
        (ValueType.FLOAT32_ARRAY, "[1e39]"),
        (ValueType.FLOAT64_ARRAY, "[1e400]"),
        (ValueType.FLOAT64_ARRAY, "[1.0, abc]"),
        (ValueType.BOOL_ARRAY, "[yes]"),
        (ValueType.STRING_ARRAY, '["a", 1]'),
    ],
)
def test_array_parse_rejects_malformed_or_out_of_range(vt: ValueType, text: str) -> None:
    with pytest.raises(ValueFormatError):
        parse_value(vt, text)


@pytest.mark.parametrize(
    ("vt", "value"),
    [
        (ValueType.INT8_ARRAY, [1, 200]),
        (ValueType.UINT16_ARRAY, [-1]),
        (ValueType.INT8_ARRAY, [1.5]),
        (ValueType.BOOL_ARRAY, [1, 0]),
        (ValueType.STRING_ARRAY, ["a", 2]),
        (ValueType.FLOAT32_ARRAY, [1e39]),
        (ValueType.FLOAT32_ARRAY, ["1.5"]),
    ],
)
def test_array_format_rejects_elements_that_do_not_fit(vt: ValueType, value: list[Any]) -> None:
    with pytest.raises(ValueFormatError):
        format_value(vt, value)


@pytest.mark.parametrize(
    "vt",
    [
        ValueType.UINT8_ARRAY,
        ValueType.INT16_ARRAY,
        ValueType.UINT64_ARRAY,
        ValueType.FLOAT32_ARRAY,
        ValueType.BOOL_ARRAY,
    ],
)
def test_parse_array_returns_numpy_array_of_element_dtype(vt: ValueType) -> None:
    values = [True, False] if vt is ValueType.BOOL_ARRAY else [1, 2, 3]
    arr = parse_array(vt, format_value(vt, values))
    assert isinstance(arr, np.ndarray)
    assert (
        arr.dtype
        == {
            ValueType.UINT8_ARRAY: np.uint8,
            ValueType.INT16_ARRAY: np.int16,
            ValueType.UINT64_ARRAY: np.uint64,
            ValueType.FLOAT32_ARRAY: np.float32,
            ValueType.BOOL_ARRAY: np.bool_,
        }[vt]
    )
    assert arr.tolist() == values


def test_float32_waveform_numpy_round_trip_is_exact_and_matches_scalar_formatting() -> None:
    rng = np.random.default_rng(7)
    wave = (rng.standard_normal(4096) * 10.0 ** rng.integers(-6, 6, 4096)).astype(np.float32)
    text = format_array(ValueType.FLOAT32_ARRAY, wave)
    elements = text[1:-1].split(", ")
    assert len(elements) == 4096
    assert elements[:64] == [format_value(ValueType.FLOAT32, float(v)) for v in wave[:64]]
    back = parse_array(ValueType.FLOAT32_ARRAY, text)
    assert back.dtype == np.float32 and np.array_equal(back, wave)


@pytest.mark.parametrize("vt", [ValueType.BINARY, ValueType.OBJECT, ValueType.OBJECT_ARRAY])
def test_non_simple_types_have_no_value_string(vt: ValueType) -> None:
    with pytest.raises(ValueFormatError, match=str(vt)):
        parse_value(vt, "x")
