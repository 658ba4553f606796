"""Property tests: format -> parse round trips and agreement with an independent shortest-digit formatter."""

from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edgewatch.common.contracts.values import format_array, format_value, parse_array, parse_value
from edgewatch.common.contracts.valuetype import ValueType

GO_E_FORM = re.compile(r"-?[1-9](\.[0-9]*[1-9])?e[+-][0-9]{2,3}|-?0e\+00|NaN|\+Inf|-Inf")
INT_TYPES = [vt for vt in ValueType if vt.is_integer]


def in_range(vt: ValueType) -> st.SearchStrategy[int]:
    low, high = vt.int_range or (0, 0)
    return st.integers(low, high)


def reference(value: float, bits: int) -> str:
    """numpy's Dragon4 in scientific mode: a second, independent route to Go's ``'e', -1`` output."""
    scalar = np.float32(value) if bits == 32 else np.float64(value)
    if np.isnan(scalar):
        return "NaN"
    if np.isinf(scalar):
        return "+Inf" if scalar > 0 else "-Inf"
    return np.format_float_scientific(scalar, unique=True, trim="-", exp_digits=2)


@settings(max_examples=400, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float64_format_matches_reference_and_round_trips(value: float) -> None:
    text = format_value(ValueType.FLOAT64, value)
    assert GO_E_FORM.fullmatch(text), text
    assert text == reference(value, 64)
    back = parse_value(ValueType.FLOAT64, text)
    assert (math.isnan(back) and math.isnan(value)) or (
        back == value and math.copysign(1, back) == math.copysign(1, value)
    )


@settings(max_examples=400, deadline=None)
@given(st.floats(width=32, allow_nan=True, allow_infinity=True))
def test_float32_format_matches_reference_and_round_trips(value: float) -> None:
    text = format_value(ValueType.FLOAT32, value)
    assert GO_E_FORM.fullmatch(text), text
    assert text == reference(value, 32)
    back = parse_value(ValueType.FLOAT32, text)
    assert (math.isnan(back) and math.isnan(value)) or back == value


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(INT_TYPES).flatmap(lambda vt: st.tuples(st.just(vt), in_range(vt))))
def test_integer_types_round_trip_within_range(pair: tuple[ValueType, int]) -> None:
    vt, number = pair
    text = format_value(vt, number)
    assert text == str(number)
    assert parse_value(vt, text) == number


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float32, st.integers(0, 64), elements=st.floats(width=32)))
def test_float32_array_vectorised_format_matches_scalar_format_and_round_trips(arr: np.ndarray) -> None:
    text = format_array(ValueType.FLOAT32_ARRAY, arr)
    expected = "[" + ", ".join(reference(float(v), 32) for v in arr) + "]"
    assert text == expected
    back = parse_array(ValueType.FLOAT32_ARRAY, text)
    assert back.dtype == np.float32
    assert np.array_equal(back, arr, equal_nan=True)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 64), elements=st.floats()))
def test_float64_array_vectorised_format_matches_scalar_format_and_round_trips(arr: np.ndarray) -> None:
    text = format_array(ValueType.FLOAT64_ARRAY, arr)
    assert text == "[" + ", ".join(reference(float(v), 64) for v in arr) + "]"
    assert np.array_equal(parse_array(ValueType.FLOAT64_ARRAY, text), arr, equal_nan=True)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(INT_TYPES).flatmap(lambda vt: st.tuples(st.just(vt), st.lists(in_range(vt), max_size=20))))
def test_integer_arrays_round_trip(pair: tuple[ValueType, list[int]]) -> None:
    scalar, numbers = pair
    vt = scalar.array
    assert vt is not None
    text = format_value(vt, numbers)
    assert text == "[" + ", ".join(str(n) for n in numbers) + "]"
    assert parse_value(vt, text) == numbers


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(), max_size=10))
def test_string_arrays_round_trip(items: list[str]) -> None:
    text = format_value(ValueType.STRING_ARRAY, items)
    assert parse_value(ValueType.STRING_ARRAY, text) == items
