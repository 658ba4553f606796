"""The JSON fast path of the event decode gives exactly what pydantic gives, or hands the document back to it."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pydantic import MISSING, BaseModel, ValidationError

from edgewatch.common.contracts.event import AddEventRequest
from edgewatch.common.contracts.eventcodec import EventDecodeError, decode_add_event
from edgewatch.common.contracts.eventfast import MAX_TAG_DEPTH, decode_event_view, decode_request_json
from edgewatch.common.contracts.values import ValueFormatError

EVENT_ID = "d5471d59-2810-419a-8744-18eb8fa03465"
REQUEST_ID = "e6e8a2f4-eb14-4649-9e2b-175247911369"
ORIGIN = 1602168089665565300
WAVE = np.array([0.5, -1.25, 3.0], dtype="<f4").tobytes()

Doc = dict[str, Any]


def request_doc() -> Doc:
    """An AddEventRequest as device services send it: every reading form the fast path takes."""
    reading = {"id": "0f6b8c3e-94a4-4a57-a4a0-2a9b1e0f4a11", "origin": ORIGIN, "deviceName": "pump-1"}
    reading["profileName"] = "pump"
    block_tags = {"sampleRateHz": 25600, "features": {"window": {"basis": "count", "size": 8}}}
    wave = base64.b64encode(WAVE).decode()
    return {
        "apiVersion": "v3",
        "requestId": REQUEST_ID,
        "event": {
            "apiVersion": "v3",
            "id": EVENT_ID,
            "deviceName": "pump-1",
            "profileName": "pump",
            "sourceName": "all",
            "origin": ORIGIN,
            "readings": [
                {**reading, "resourceName": "Current", "valueType": "Float32", "value": "1.25e+01", "units": "A"},
                {**reading, "resourceName": "Count", "valueType": "Int16", "value": "-7"},
                {**reading, "resourceName": "Running", "valueType": "Bool", "value": "true"},
                {**reading, "resourceName": "Mode", "valueType": "String", "value": "auto"},
                {**reading, "resourceName": "Hist", "valueType": "Uint16Array", "value": "[1, 2, 3]"},
                {**reading, "resourceName": "Block", "valueType": "Float32Array", "value": "[0.5, -1.25]"}
                | {"tags": block_tags},
                {**reading, "resourceName": "Wave", "valueType": "Binary", "binaryValue": wave}
                | {"mediaType": "application/vnd.edgewatch.f32le"},
            ],
            "tags": {"site": {"line": 4}, "gateway": "gw-1"},
        },
    }


def body(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def pydantic_decode(data: bytes) -> AddEventRequest | None:
    """What the model gives without the fast path (None: it refuses the document)."""
    try:
        return AddEventRequest.model_validate_json(data)
    except ValidationError:
        return None


def assert_identical(got: AddEventRequest, want: AddEventRequest) -> None:
    """Same dump, same fields, same fields set, extras and parsed-value caches, model by model."""
    assert got.model_dump_json(by_alias=True) == want.model_dump_json(by_alias=True)
    assert got == want
    pairs: list[tuple[BaseModel, BaseModel]] = [(got, want), (got.event, want.event)]
    pairs += list(zip(got.event.readings, want.event.readings, strict=True))
    for a, b in pairs:
        assert type(a) is type(b)
        assert list(a.__dict__) == list(b.__dict__)
        assert a.__dict__ == b.__dict__
        assert a.model_fields_set == b.model_fields_set
        assert a.__pydantic_extra__ == b.__pydantic_extra__
        pa, pb = a.__pydantic_private__ or {}, b.__pydantic_private__ or {}
        assert pa.keys() == pb.keys()
        ta, tb = pa.get("_typed"), pb.get("_typed")
        if isinstance(tb, np.ndarray):
            assert isinstance(ta, np.ndarray) and ta.dtype == tb.dtype and not ta.flags.writeable
            assert np.array_equal(ta, tb)
        else:
            assert type(ta) is type(tb) and ta == tb


def assert_view_agrees(data: bytes) -> None:
    """The values-only view takes what the fast path takes, and reads as the models read."""
    view, fast = decode_event_view(data), decode_request_json(data)
    assert (view is None) == (fast is None)
    if view is None or fast is None:
        return
    event = fast.event
    assert (view.device_name, view.profile_name, view.origin, view.tags) == (
        event.device_name,
        event.profile_name,
        event.origin,
        event.tags,
    )
    assert len(view.readings) == len(event.readings)
    for v, r in zip(view.readings, event.readings, strict=True):
        assert (v.resource_name, v.origin, v.value_type, v.tags, v.is_null) == (
            r.resource_name,
            r.origin,
            r.value_type,
            r.tags,
            r.is_null,
        )
        assert v.media_type == (None if r.media_type is MISSING else r.media_type)
        assert v.binary_value == (None if r.binary_value is MISSING else r.binary_value)
        assert v.numeric_value() == r.numeric_value() and type(v.numeric_value()) is type(r.numeric_value())
        if r.value_type.is_numeric_array:
            assert v.array() is r.array() or np.array_equal(v.array(), r.array())
            assert v.array().dtype == r.array().dtype and not v.array().flags.writeable
        else:
            with pytest.raises(ValueFormatError):
                v.array()


def test_device_service_events_take_the_fast_path_and_equal_the_validated_models() -> None:
    data = body(request_doc())
    got, want = decode_request_json(data), pydantic_decode(data)
    assert got is not None and want is not None
    assert_identical(got, want)
    assert got.event.readings[6].binary_value == WAVE
    assert decode_add_event(data) == want  # the codec takes it
    assert_view_agrees(data)
    view = decode_event_view(data)
    assert view is not None and view.readings[6].binary_value == WAVE and view.readings[0].numeric_value() == 12.5


def test_optimized_payloads_are_refilled_from_the_event_as_the_model_does() -> None:
    doc = request_doc()
    for r in doc["event"]["readings"]:
        for key in ("id", "origin", "deviceName", "profileName"):
            del r[key]
    single = copy.deepcopy(doc)
    single["event"]["readings"] = [single["event"]["readings"][0]]
    del single["event"]["readings"][0]["resourceName"]
    del single["requestId"], single["apiVersion"], single["event"]["apiVersion"], single["event"]["tags"]
    for d in (doc, single):
        got, want = decode_request_json(body(d)), pydantic_decode(body(d))
        assert got is not None and want is not None
        assert_identical(got, want)
        assert_view_agrees(body(d))
    assert got is not None and got.event.readings[0].resource_name == "all"


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    """A change to the document: ``path`` is dotted keys/indexes from the request."""

    def apply(doc: Doc) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


_DELETE = object()


def _nested(depth: int) -> Any:
    inner: Any = 1
    for _ in range(depth):
        inner = [inner]
    return inner


CHANGES: dict[str, Callable[[Doc], None]] = {
    "key in another case": _set("event.readings.0.ValueType", "Float32"),
    "snake_case key": _set("event.device_name", "pump-2"),
    "extension key on the event": _set("event.x-ext", 1),
    "extension key on a reading": _set("event.readings.1.x-ext", "y"),
    "object reading": _set("event.readings.3", {"resourceName": "o", "valueType": "Object", "objectValue": {"a": 1}}),
    "null reading": _set("event.readings.1.value", None),
    "reading without value": _set("event.readings.1.value", _DELETE),
    "number as value": _set("event.readings.1.value", -7),
    "bad float": _set("event.readings.0.value", "not-a-float"),
    "float32 overflow": _set("event.readings.0.value", "1e39"),
    "int16 out of range": _set("event.readings.1.value", "70000"),
    "bad bool": _set("event.readings.2.value", "yes"),
    "bad array": _set("event.readings.4.value", "[1, x]"),
    "value type in lower case": _set("event.readings.0.valueType", "float32"),
    "unknown value type": _set("event.readings.0.valueType", "Float128"),
    "upper-case event id": _set("event.id", EVENT_ID.upper()),
    "event id not a uuid": _set("event.id", "abc"),
    "event id with a newline": _set("event.id", EVENT_ID + "\n"),
    "request id in braces": _set("requestId", "{" + REQUEST_ID + "}"),
    "request id not a uuid": _set("requestId", "abc"),
    "empty request id": _set("requestId", ""),
    "empty device name": _set("event.deviceName", ""),
    "origin 0": _set("event.origin", 0),
    "origin negative": _set("event.origin", -5),
    "origin as a string": _set("event.origin", "1602168089665565300"),
    "origin as a float": _set("event.origin", 1.0),
    "origin as a bool": _set("event.origin", True),
    "reading origin negative": _set("event.readings.0.origin", -1),
    "no readings": _set("event.readings", []),
    "readings not a list": _set("event.readings", {}),
    "resource name missing among several": _set("event.readings.2.resourceName", _DELETE),
    "binary without media type": _set("event.readings.6.mediaType", _DELETE),
    "binary with empty media type": _set("event.readings.6.mediaType", ""),
    "binary bad base64": _set("event.readings.6.binaryValue", "***"),
    "binary without data": _set("event.readings.6.binaryValue", _DELETE),
    "binary as a byte list": _set("event.readings.6.binaryValue", [1, 2]),
    "media type on a simple reading": _set("event.readings.0.mediaType", "text/plain"),
    "tags not a map": _set("event.tags", [1]),
    "tags at the fast path's depth": _set("event.tags.deep", _nested(MAX_TAG_DEPTH)),
    "tags deeper than the fast path's depth": _set("event.tags.deep", _nested(MAX_TAG_DEPTH + 1)),
    "tags deeper than pydantic's parser takes": _set("event.readings.0.tags", {"deep": _nested(250)}),
    "api version a number": _set("apiVersion", 3),
    "no event": _set("event", _DELETE),
    "units null": _set("event.readings.0.units", None),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_documents_the_fast_path_takes_equal_the_models_and_the_rest_go_to_pydantic(
    change: Callable[[Doc], None],
) -> None:
    doc = request_doc()
    change(doc)
    data = body(doc)
    got, want = decode_request_json(data), pydantic_decode(data)
    if got is not None:
        assert want is not None, "the fast path took a document the model refuses"
        assert_identical(got, want)
    assert_view_agrees(data)


@pytest.mark.parametrize(
    "data",
    [
        b"{",
        b"[]",
        b"",
        b'{"apiVersion":"v3","event":{}} x',
        b'{"apiVersion":"v3","apiVersion":"v3","event":{"origin":NaN}}',
        body(request_doc()).replace(b'"auto"', b'"\\ud800"'),
        body(request_doc()).replace(b'"auto"', b'"\xff"'),
        body(request_doc()).replace(b'"gw-1"', b"1e400"),
        body(request_doc()).replace(b'"gw-1"', b"123456789012345678901234567890"),
        body(request_doc()).replace(b'"requestId"', b'"event":{},"requestId"'),  # a duplicate key: the last wins
        body(request_doc()["event"]),  # a bare event (the codec wraps it)
    ],
)
def test_malformed_or_unusual_json_goes_to_pydantic_or_decodes_as_it_does(data: bytes) -> None:
    got, want = decode_request_json(data), pydantic_decode(data)
    if got is not None:
        assert want is not None
        assert_identical(got, want)
    assert_view_agrees(data)


def test_the_codec_still_names_the_field_of_a_document_the_fast_path_hands_back() -> None:
    doc = request_doc()
    doc["event"]["readings"][0]["value"] = "not-a-float"
    with pytest.raises(EventDecodeError) as info:
        decode_add_event(body(doc))
    assert info.value.field == "event.readings.0"
