"""ValueType: the 27 EdgeX names, case-insensitive parsing, helpers."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.valuetype import UnknownValueTypeError, ValueType

EDGEX_NAMES = (
    "Bool String Uint8 Uint16 Uint32 Uint64 Int8 Int16 Int32 Int64 Float32 Float64 Binary Object ObjectArray "
    "BoolArray StringArray Uint8Array Uint16Array Uint32Array Uint64Array Int8Array Int16Array Int32Array "
    "Int64Array Float32Array Float64Array"
).split()


def test_valuetype_has_exactly_the_27_edgex_names_in_exact_case() -> None:
    assert len(EDGEX_NAMES) == 27
    assert sorted(vt.value for vt in ValueType) == sorted(EDGEX_NAMES)


@pytest.mark.parametrize("name", EDGEX_NAMES)
def test_valuetype_parse_is_case_insensitive_and_outputs_exact_case(name: str) -> None:
    for variant in (name, name.lower(), name.upper(), name.swapcase()):
        parsed = ValueType.parse(variant)
        assert parsed.value == name
        assert str(parsed) == name
        assert ValueType(variant) is parsed


def test_valuetype_unknown_name_is_rejected_naming_field_and_value() -> None:
    with pytest.raises(UnknownValueTypeError) as info:
        ValueType.parse("Float128", field="valueType")
    assert "valueType" in str(info.value) and "Float128" in str(info.value)
    assert isinstance(info.value, ContractInvalidError) and isinstance(info.value, ValueError)
    assert info.value.field == "valueType" and info.value.status == 400


def test_valuetype_in_pydantic_model_accepts_lowercase_and_rejects_unknown() -> None:
    class Holder(BaseModel):
        vt: ValueType

    assert Holder.model_validate_json('{"vt":"float32"}').vt is ValueType.FLOAT32
    with pytest.raises(ValidationError):
        Holder.model_validate({"vt": "Decimal"})


@pytest.mark.parametrize(
    ("vt", "element", "bits", "numeric", "array"),
    [
        (ValueType.FLOAT32_ARRAY, ValueType.FLOAT32, 32, False, True),
        (ValueType.FLOAT32, ValueType.FLOAT32, 32, True, False),
        (ValueType.UINT64, ValueType.UINT64, 64, True, False),
        (ValueType.INT8_ARRAY, ValueType.INT8, 8, False, True),
        (ValueType.BOOL, ValueType.BOOL, None, False, False),
        (ValueType.STRING_ARRAY, ValueType.STRING, None, False, True),
        (ValueType.OBJECT_ARRAY, ValueType.OBJECT, None, False, True),
        (ValueType.BINARY, ValueType.BINARY, None, False, False),
    ],
)
def test_valuetype_helpers_report_element_bits_and_kind(
    vt: ValueType, element: ValueType, bits: int | None, numeric: bool, array: bool
) -> None:
    assert vt.element is element
    assert vt.bits == bits
    assert vt.is_numeric is numeric
    assert vt.is_array is array


def test_valuetype_integer_ranges_match_go_types() -> None:
    assert ValueType.UINT8.int_range == (0, 255)
    assert ValueType.INT8.int_range == (-128, 127)
    assert ValueType.INT64_ARRAY.int_range == (-(2**63), 2**63 - 1)
    assert ValueType.UINT64.int_range == (0, 2**64 - 1)
    assert ValueType.FLOAT64.int_range is None
    assert ValueType.UINT16.is_unsigned and not ValueType.INT16.is_unsigned
    assert ValueType.FLOAT32.array is ValueType.FLOAT32_ARRAY and ValueType.OBJECT.array is None
