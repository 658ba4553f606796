"""Event and Reading DTOs: every reading form, every valueType, keys, extensions, optimized payloads, numeric shape."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from edgewatch.common.contracts.errors import ContractInvalidError
from edgewatch.common.contracts.event import (
    AddEventRequest,
    Event,
    EventResponse,
    MultiEventsResponse,
    MultiReadingsResponse,
    Reading,
    ReadingResponse,
    new_event,
)
from edgewatch.common.contracts.values import ValueFormatError
from edgewatch.common.contracts.valuetype import ValueType

EVENT_ID = "040bd523-ec33-440d-9d72-e5813a465f37"
READING_ID = "5cd7f6b3-3ec6-4f4f-9e33-9a3e0e2a1b2c"
ORIGIN = 1692721935934211905

# One sample per valueType: (python value, expected JSON form fields).
SAMPLES: dict[ValueType, tuple[Any, dict[str, Any]]] = {
    ValueType.BOOL: (True, {"value": "true"}),
    ValueType.STRING: ("hi, there", {"value": "hi, there"}),
    ValueType.UINT8: (255, {"value": "255"}),
    ValueType.UINT16: (65535, {"value": "65535"}),
    ValueType.UINT32: (4294967295, {"value": "4294967295"}),
    ValueType.UINT64: (18446744073709551615, {"value": "18446744073709551615"}),
    ValueType.INT8: (-128, {"value": "-128"}),
    ValueType.INT16: (-12, {"value": "-12"}),
    ValueType.INT32: (2147483647, {"value": "2147483647"}),
    ValueType.INT64: (-9223372036854775808, {"value": "-9223372036854775808"}),
    ValueType.FLOAT32: (39.5, {"value": "3.95e+01"}),
    ValueType.FLOAT64: (-1.5e-07, {"value": "-1.5e-07"}),
    ValueType.BINARY: (b"\xfb\xff\x00", {"binaryValue": "+/8A", "mediaType": "image/jpeg"}),
    ValueType.OBJECT: ({"a": [1, 2], "b": {"c": None}}, {"objectValue": {"a": [1, 2], "b": {"c": None}}}),
    ValueType.OBJECT_ARRAY: ([{"a": 1}, {"b": 2}], {"objectValue": [{"a": 1}, {"b": 2}]}),
    ValueType.BOOL_ARRAY: ([True, False], {"value": "[true, false]"}),
    ValueType.STRING_ARRAY: (["a", "b"], {"value": '["a","b"]'}),
    ValueType.UINT8_ARRAY: ([1, 2, 3], {"value": "[1, 2, 3]"}),
    ValueType.UINT16_ARRAY: ([65535], {"value": "[65535]"}),
    ValueType.UINT32_ARRAY: ([0, 7], {"value": "[0, 7]"}),
    ValueType.UINT64_ARRAY: ([18446744073709551615], {"value": "[18446744073709551615]"}),
    ValueType.INT8_ARRAY: ([-1, 1], {"value": "[-1, 1]"}),
    ValueType.INT16_ARRAY: ([-300], {"value": "[-300]"}),
    ValueType.INT32_ARRAY: ([1, -2, 3], {"value": "[1, -2, 3]"}),
    ValueType.INT64_ARRAY: ([2**40], {"value": "[1099511627776]"}),
    ValueType.FLOAT32_ARRAY: ([1.5, 2.0], {"value": "[1.5e+00, 2e+00]"}),
    ValueType.FLOAT64_ARRAY: ([0.1, 1e21], {"value": "[1e-01, 1e+21]"}),
}


def make_reading(vt: ValueType, value: Any, **kw: Any) -> Reading:
    args = ("dev-1", "prof-1", f"res-{vt}")
    if vt is ValueType.BINARY:
        return Reading.binary(*args, value, "image/jpeg", origin=ORIGIN, id=READING_ID, **kw)
    if vt in (ValueType.OBJECT, ValueType.OBJECT_ARRAY):
        return Reading.object(*args, value, array=vt is ValueType.OBJECT_ARRAY, origin=ORIGIN, id=READING_ID, **kw)
    return Reading.simple(*args, vt, value, origin=ORIGIN, id=READING_ID, **kw)


def base_reading_json(vt: ValueType) -> dict[str, Any]:
    return {
        "id": READING_ID,
        "origin": ORIGIN,
        "deviceName": "dev-1",
        "resourceName": f"res-{vt}",
        "profileName": "prof-1",
        "valueType": vt.value,
    }


def test_samples_cover_all_27_value_types() -> None:
    assert set(SAMPLES) == set(ValueType)


@pytest.mark.parametrize("vt", list(ValueType))
def test_reading_of_every_value_type_emits_edgex_json_and_round_trips(vt: ValueType) -> None:
    value, form = SAMPLES[vt]
    reading = make_reading(vt, value)
    doc = json.loads(reading.to_json())
    assert doc == base_reading_json(vt) | form
    assert list(doc) == list(base_reading_json(vt)) + list(form)
    back = Reading.from_json(reading.to_json())
    assert back.to_json() == reading.to_json()
    assert back.typed_value() == reading.typed_value()
    expected = [float(np.float32(v)) for v in value] if vt is ValueType.FLOAT32_ARRAY else value
    assert back.typed_value() == expected


@pytest.mark.parametrize("vt", list(ValueType))
def test_null_reading_of_every_value_type_has_three_null_values(vt: ValueType) -> None:
    reading = Reading.null("dev-1", "prof-1", "res", vt, origin=ORIGIN, id=READING_ID)
    doc = json.loads(reading.to_json())
    assert {k: doc[k] for k in ("value", "binaryValue", "objectValue")} == {
        "value": None,
        "binaryValue": None,
        "objectValue": None,
    }
    assert "mediaType" not in doc
    back = Reading.from_json(reading.to_json())
    assert back.is_null and back.typed_value() is None
    assert back.to_json() == reading.to_json()


@pytest.mark.parametrize(
    ("vt", "doc"),
    [
        ("Float32", {}),
        ("Int8", {"value": None}),
        ("Binary", {"binaryValue": None}),
        ("Object", {}),
        ("ObjectArray", {"objectValue": None}),
    ],
)
def test_reading_without_its_value_decodes_as_null_like_go(vt: str, doc: dict[str, Any]) -> None:
    reading = Reading.model_validate({"resourceName": "r", "valueType": vt, **doc})
    assert reading.is_null
    assert json.loads(reading.to_json())["value"] is None


def test_reading_id_is_omitted_when_empty_and_units_tags_when_set() -> None:
    reading = Reading.simple("d", "p", "r", ValueType.INT16, 5, origin=1, id="", units="degC", tags={"line": 2})
    doc = json.loads(reading.to_json())
    assert "id" not in doc
    assert doc["units"] == "degC" and doc["tags"] == {"line": 2}
    assert Reading.simple("d", "p", "r", "int16", 5).id  # a fresh UUID by default, as the Go SDK sets


def test_binary_reading_requires_media_type() -> None:
    with pytest.raises(ValidationError, match="mediaType"):
        Reading.model_validate({"resourceName": "r", "valueType": "Binary", "binaryValue": "AAE="})
    with pytest.raises(ValueFormatError, match="mediaType"):
        Reading.binary("d", "p", "r", b"x", "")


def test_binary_value_accepts_base64_and_byte_arrays_and_rejects_garbage() -> None:
    b64 = Reading.model_validate({"resourceName": "r", "valueType": "Binary", "binaryValue": "DCI=", "mediaType": "x"})
    arr = Reading.model_validate(
        {"resourceName": "r", "valueType": "Binary", "binaryValue": [12, 34], "mediaType": "x"}
    )
    assert b64.binary_value == arr.binary_value == bytes([12, 34])
    with pytest.raises(ValidationError, match="base64"):
        Reading.model_validate({"resourceName": "r", "valueType": "Binary", "binaryValue": "!!", "mediaType": "x"})
    with pytest.raises(ValidationError, match=r"0\.\.255"):
        Reading.model_validate({"resourceName": "r", "valueType": "Binary", "binaryValue": [256], "mediaType": "x"})


@pytest.mark.parametrize(
    ("vt", "value", "message"),
    [
        ("Uint8", "256", "out of range for Uint8"),
        ("Int8", "-129", "out of range for Int8"),
        ("Float32", "1e39", "out of range for Float32"),
        ("Float64", "abc", "not a valid Float64"),
        ("Bool", "yes", "not a valid Bool"),
        ("Int16Array", "[1, 99999]", "out of range for Int16"),
        ("Float32", "", "not a valid Float32"),
    ],
)
def test_reading_value_that_does_not_match_value_type_is_rejected(vt: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        Reading.model_validate({"resourceName": "r", "valueType": vt, "value": value})
    assert info.value.errors()[0]["type"] == "value_error"


def test_unknown_value_type_is_rejected_naming_field_and_value() -> None:
    with pytest.raises(ValidationError) as info:
        Reading.model_validate_json('{"resourceName":"r","valueType":"Float128","value":"1"}')
    error = info.value.errors()[0]
    assert error["loc"] == ("valueType",)
    assert "valueType" in error["msg"] and "Float128" in error["msg"]


def test_value_type_is_matched_case_insensitively_and_emitted_in_exact_case() -> None:
    reading = Reading.model_validate_json('{"resourceName":"r","valueType":"float32array","value":"[1, 2]"}')
    assert reading.value_type is ValueType.FLOAT32_ARRAY
    assert json.loads(reading.to_json())["valueType"] == "Float32Array"


def test_simple_reading_accepts_plain_decimal_text_as_go_core_data_does() -> None:
    reading = Reading.model_validate({"resourceName": "r", "valueType": "Float32", "value": "39.5"})
    assert reading.typed_value() == 39.5
    assert reading.value == "39.5"  # kept verbatim, as Go keeps the string


def test_array_reading_exposes_a_numpy_array_without_reparsing() -> None:
    wave = np.linspace(-1, 1, 4096, dtype=np.float32)
    reading = Reading.simple("d", "p", "wave", ValueType.FLOAT32_ARRAY, wave, origin=1)
    decoded = Reading.from_json(reading.to_json())
    arr = decoded.array()
    assert arr.dtype == np.float32 and np.array_equal(arr, wave)
    assert decoded.array() is arr
    with pytest.raises(ValueFormatError):
        Reading.simple("d", "p", "r", ValueType.INT8, 1).array()


def test_simple_constructor_normalises_numpy_and_int_inputs_like_decoding_does() -> None:
    cases = [
        (ValueType.FLOAT64, 3, 3.0),
        (ValueType.FLOAT32, np.float32(0.1), float(np.float32(0.1))),
        (ValueType.UINT16, np.uint16(7), 7),
        (ValueType.BOOL, np.bool_(True), True),
    ]
    for vt, value, expected in cases:
        built = Reading.simple("d", "p", "r", vt, value, origin=1)
        decoded = Reading.from_json(built.to_json())
        assert built.typed_value() == decoded.typed_value() == expected
        assert type(built.typed_value()) is type(decoded.typed_value())


def test_simple_array_reading_leaves_the_callers_buffer_writable_and_unshared() -> None:
    buffer = np.zeros(8, dtype=np.float32)
    reading = Reading.simple("d", "p", "wave", ValueType.FLOAT32_ARRAY, buffer, origin=1)
    buffer[:] = 1.0  # the caller refills its buffer for the next poll
    assert reading.array().tolist() == [0.0] * 8
    assert reading.value == "[" + ", ".join(["0e+00"] * 8) + "]"


def test_simple_constructor_rejects_wrong_python_values() -> None:
    with pytest.raises(ValueFormatError, match="out of range for Uint8"):
        Reading.simple("d", "p", "r", ValueType.UINT8, 300)
    with pytest.raises(ValueFormatError):
        Reading.simple("d", "p", "r", ValueType.BINARY, b"x")
    with pytest.raises(ContractInvalidError, match="NotAType"):
        Reading.simple("d", "p", "r", "NotAType", 1)


def make_event(**kw: Any) -> Event:
    readings = [
        Reading.simple("dev-1", "prof-1", "temp", ValueType.FLOAT32, 39.5, origin=ORIGIN, id=READING_ID),
        Reading.simple("dev-1", "prof-1", "count", ValueType.INT8, 75, origin=ORIGIN + 5, id=READING_ID),
    ]
    return new_event("dev-1", "prof-1", "source-1", readings, origin=ORIGIN, id=EVENT_ID, **kw)


def test_event_json_has_edgex_keys_in_go_order() -> None:
    doc = json.loads(make_event(tags={"Gateway": "HoustonStore-000123"}).to_json())
    assert list(doc) == [
        "apiVersion",
        "id",
        "deviceName",
        "profileName",
        "sourceName",
        "origin",
        "readings",
        "tags",
    ]
    assert doc["apiVersion"] == "v3" and doc["origin"] == ORIGIN
    assert "tags" not in json.loads(make_event().to_json())


def test_event_round_trip_is_byte_identical() -> None:
    event = make_event(tags={"a": {"b": [1, 2.5, None]}})
    assert Event.from_json(event.to_json()).to_json() == event.to_json()
    assert Event.from_json(event.to_json()) == event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"id": None}, "id"),
        ({"readings": []}, "readings"),
        ({"deviceName": ""}, "deviceName"),
        ({"profileName": ""}, "profileName"),
        ({"sourceName": ""}, "sourceName"),
        ({"origin": 0}, "origin"),
    ],
)
def test_event_validation_names_the_failing_field(change: dict[str, Any], field: str) -> None:
    doc = json.loads(make_event().to_json()) | change
    doc = {k: v for k, v in doc.items() if v is not None}
    with pytest.raises(ValidationError) as info:
        Event.model_validate(doc)
    assert info.value.errors()[0]["loc"][0] == field


def test_new_event_requires_a_reading() -> None:
    with pytest.raises(ValueFormatError, match="at least one reading"):
        new_event("d", "p", "s", [])


def test_input_keys_match_case_insensitively_at_every_level() -> None:
    doc = {
        "APIVERSION": "v3",
        "RequestID": "e6e8a2f4-eb14-4649-9e2b-175247911369",
        "Event": {
            "Id": EVENT_ID,
            "devicename": "dev-1",
            "PROFILENAME": "prof-1",
            "SourceName": "source-1",
            "ORIGIN": ORIGIN,
            "Readings": [{"ResourceName": "temp", "VALUETYPE": "float32", "Value": "3.95e+01", "Origin": 7}],
        },
    }
    request = AddEventRequest.model_validate_json(json.dumps(doc))
    assert request.request_id == "e6e8a2f4-eb14-4649-9e2b-175247911369"
    out = json.loads(request.to_json())
    assert out["event"]["deviceName"] == "dev-1" and out["event"]["id"] == EVENT_ID
    assert out["event"]["readings"][0] == {
        "origin": 7,
        "deviceName": "dev-1",
        "resourceName": "temp",
        "profileName": "prof-1",
        "valueType": "Float32",
        "value": "3.95e+01",
    }


def test_unknown_keys_on_event_and_reading_are_kept_as_extensions_and_reemitted() -> None:
    doc = json.loads(make_event().to_json())
    doc["edgewatchSite"] = {"plant": "north"}
    doc["readings"][0]["modified"] = 1594975851631
    event = Event.model_validate_json(json.dumps(doc))
    assert event.model_extra == {"edgewatchSite": {"plant": "north"}}
    assert event.readings[0].model_extra == {"modified": 1594975851631}
    assert json.loads(event.to_json()) == doc


def test_unknown_keys_on_the_request_envelope_are_ignored() -> None:
    doc = json.loads(AddEventRequest.of(make_event(), request_id="").to_json())
    doc["junk"] = 1
    assert "junk" not in json.loads(AddEventRequest.model_validate(doc).to_json())


def test_optimized_payload_strips_repeated_fields_and_decoding_refills_them() -> None:
    event = make_event()
    slim = json.loads(event.optimized().to_json())
    assert slim["readings"][0] == {"resourceName": "temp", "valueType": "Float32", "value": "3.95e+01"}
    assert slim["readings"][1]["origin"] == ORIGIN + 5  # differs from the event origin: kept
    refilled = Event.from_json(json.dumps(slim))
    for reading in refilled.readings:
        assert (reading.device_name, reading.profile_name) == ("dev-1", "prof-1")
    assert [r.origin for r in refilled.readings] == [ORIGIN, ORIGIN + 5]


def test_optimized_single_reading_event_refills_resource_name_from_source_name() -> None:
    reading = Reading.simple("dev-1", "prof-1", "temp", ValueType.FLOAT64, 1.0, origin=ORIGIN)
    event = new_event("dev-1", "prof-1", "temp", [reading], origin=ORIGIN, id=EVENT_ID)
    slim = json.loads(event.optimized().to_json())
    assert slim["readings"] == [{"valueType": "Float64", "value": "1e+00"}]
    back = Event.from_json(json.dumps(slim))
    assert back.readings[0].resource_name == "temp" and back.readings[0].origin == ORIGIN


def test_reading_without_resource_name_in_multi_reading_event_is_rejected() -> None:
    slim = json.loads(make_event().optimized().to_json())
    del slim["readings"][1]["resourceName"]
    with pytest.raises(ValidationError, match=r"readings\[1\].resourceName"):
        Event.model_validate(slim)


def test_numeric_rendering_emits_numbers_for_numeric_scalars_only() -> None:
    readings = [
        Reading.simple("d", "p", "f", ValueType.FLOAT32, 39.5, origin=1, id=""),
        Reading.simple("d", "p", "i", ValueType.UINT64, 2**64 - 1, origin=1, id=""),
        Reading.simple("d", "p", "s", ValueType.STRING, "x", origin=1, id=""),
        Reading.simple("d", "p", "a", ValueType.INT8_ARRAY, [1], origin=1, id=""),
    ]
    event = new_event("d", "p", "s", readings, origin=1, id=EVENT_ID).to_numeric()
    values = [json.loads(r.to_json())["value"] for r in event.readings]
    assert values == [39.5, 18446744073709551615, "x", "[1]"]
    back = Event.from_json(event.to_json())
    assert [r.typed_value() for r in back.readings] == [39.5, 18446744073709551615, "x", [1]]
    assert back.to_json() == event.to_json()


def test_numeric_rendering_keeps_non_finite_floats_as_go_strings() -> None:
    reading = Reading.simple("d", "p", "f", ValueType.FLOAT64, float("inf"), origin=1)
    assert json.loads(reading.to_numeric().to_json())["value"] == "+Inf"


def test_event_typed_values_maps_resource_names() -> None:
    assert make_event().typed_values() == {"temp": 39.5, "count": 75}


def test_add_event_request_wraps_event_with_request_id() -> None:
    request = AddEventRequest.of(make_event())
    doc = json.loads(request.to_json())
    assert list(doc) == ["apiVersion", "requestId", "event"]
    assert AddEventRequest.from_json(request.to_json()) == request
    with pytest.raises(ValidationError, match="requestId"):
        AddEventRequest.model_validate(doc | {"requestId": "nope"})


def test_response_envelopes() -> None:
    event = make_event()
    single = json.loads(EventResponse(event=event).to_json())
    assert single["statusCode"] == 200 and single["event"]["id"] == EVENT_ID
    multi = json.loads(MultiEventsResponse(events=[event], total_count=1).to_json())
    assert multi["totalCount"] == 1 and len(multi["events"]) == 1
    empty = json.loads(MultiEventsResponse().to_json())
    assert empty == {"apiVersion": "v3", "statusCode": 200, "totalCount": 0, "events": []}
    readings = MultiReadingsResponse(readings=event.readings, total_count=2)
    assert "aggregateFunc" not in json.loads(readings.to_json())
    assert MultiReadingsResponse.from_json(readings.to_json()).readings == event.readings
    one = ReadingResponse(reading=event.readings[0])
    assert ReadingResponse.from_json(one.to_json()) == one


def test_case_insensitive_keys_apply_to_every_edgex_model() -> None:
    from pydantic import AliasChoices, Field

    from edgewatch.common.contracts.base import BaseRequest, CountResponse, EdgeXModel

    counted = CountResponse.model_validate_json('{"APIVERSION":"v3","StatusCode":404,"COUNT":3,"bogus":1}')
    assert (counted.status_code, counted.count) == (404, 3)
    assert json.loads(counted.to_json()) == {"apiVersion": "v3", "statusCode": 404, "count": 3}
    request = BaseRequest.model_validate({"requestID": "e6e8a2f4-eb14-4649-9e2b-175247911369"})
    assert request.request_id == "e6e8a2f4-eb14-4649-9e2b-175247911369"

    class Envelope(EdgeXModel):
        correlation_id: str = Field("", alias="correlationID")
        error_code: int = 0

    class Watcher(EdgeXModel):
        watcher: str = Field("", validation_alias=AliasChoices("provisionWatcher", "provisionwatcher"))

    assert Watcher.model_validate({"PROVISIONWATCHER": "w"}).watcher == "w"
    assert Watcher.model_validate({"provisionwatcher": "v"}).watcher == "v"

    parsed = Envelope.model_validate({"CorrelationId": "abc", "ERRORCODE": 1})
    assert (parsed.correlation_id, parsed.error_code) == ("abc", 1)
    assert Envelope.model_validate({"correlationID": "x", "error_code": 2}).error_code == 2


def test_exact_case_key_and_case_variant_last_one_wins_like_go() -> None:
    doc = '{"resourceName":"a","RESOURCENAME":"b","valueType":"Bool","value":"true"}'
    assert Reading.model_validate_json(doc).resource_name == "b"
