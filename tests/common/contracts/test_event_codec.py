"""AddEventRequest bodies in JSON and CBOR: same keys, byte strings for binaryValue, decode errors naming fields."""

from __future__ import annotations

import base64
import json
from typing import Any

import cbor2
import pytest

from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import (
    CONTENT_CBOR,
    CONTENT_JSON,
    EventDecodeError,
    content_type_for,
    decode_add_event,
    encode_add_event,
    media_type,
)
from edgewatch.common.contracts.valuetype import ValueType

EVENT_ID = "d5471d59-2810-419a-8744-18eb8fa03465"
REQUEST_ID = "e6e8a2f4-eb14-4649-9e2b-175247911369"
ORIGIN = 1602168089665565300


def mixed_request() -> AddEventRequest:
    readings = [
        Reading.simple("cam-1", "cam", "temp", ValueType.FLOAT32, 12.2, origin=ORIGIN),
        Reading.binary("cam-1", "cam", "frame", b"\x00\xff\xfe\x80jpeg", "image/jpeg", origin=ORIGIN),
        Reading.object("cam-1", "cam", "meta", {"Attr1": "yyz", "Attr2": -45, "Attr3": [255, 1, 0]}, origin=ORIGIN),
        Reading.null("cam-1", "cam", "gap", ValueType.INT32, origin=ORIGIN),
        Reading.simple("cam-1", "cam", "hist", ValueType.UINT16_ARRAY, [1, 2, 3], origin=ORIGIN, units="count"),
    ]
    event = new_event("cam-1", "cam", "snapshot", readings, origin=ORIGIN, id=EVENT_ID, tags={"site": {"line": 4}})
    return AddEventRequest.of(event, request_id=REQUEST_ID)


def key_tree(doc: Any) -> Any:
    """The key structure of a document (key order included), values dropped."""
    if isinstance(doc, dict):
        return [(key, key_tree(value)) for key, value in doc.items()]
    if isinstance(doc, list):
        return [key_tree(item) for item in doc]
    return None


def test_json_round_trip_is_byte_identical() -> None:
    request = mixed_request()
    body = encode_add_event(request, CONTENT_JSON)
    decoded = decode_add_event(body, CONTENT_JSON)
    assert decoded == request
    assert encode_add_event(decoded, CONTENT_JSON) == body


def test_cbor_round_trip_preserves_the_request_and_is_byte_identical() -> None:
    request = mixed_request()
    body = encode_add_event(request, CONTENT_CBOR)
    decoded = decode_add_event(body, CONTENT_CBOR)
    assert decoded == request
    assert decoded.to_json() == request.to_json()
    assert encode_add_event(decoded, CONTENT_CBOR) == body


def test_cbor_uses_the_json_keys_and_a_byte_string_for_binary_value() -> None:
    request = mixed_request()
    from_cbor = cbor2.loads(encode_add_event(request, CONTENT_CBOR))
    from_json = json.loads(encode_add_event(request, CONTENT_JSON))
    assert key_tree(from_cbor) == key_tree(from_json)
    frame_cbor = from_cbor["event"]["readings"][1]
    frame_json = from_json["event"]["readings"][1]
    assert isinstance(frame_cbor["binaryValue"], bytes)
    assert frame_cbor["binaryValue"] == base64.b64decode(frame_json["binaryValue"]) == b"\x00\xff\xfe\x80jpeg"
    assert from_cbor["event"]["readings"][3]["binaryValue"] is None
    assert from_cbor["event"]["origin"] == ORIGIN


def test_cbor_document_written_by_another_encoder_decodes() -> None:
    go_like = {
        "apiVersion": "v3",
        "requestId": REQUEST_ID,
        "event": {
            "apiVersion": "v3",
            "id": EVENT_ID,
            "deviceName": "cam-1",
            "profileName": "cam",
            "sourceName": "frame",
            "origin": ORIGIN,
            "readings": [
                {"resourceName": "frame", "valueType": "Binary", "binaryValue": b"\x01\x02", "mediaType": "x"}
            ],
        },
    }
    request = decode_add_event(cbor2.dumps(go_like), "application/cbor")
    reading = request.event.readings[0]
    assert reading.typed_value() == b"\x01\x02"
    assert reading.device_name == "cam-1" and reading.origin == ORIGIN  # refilled like an optimized payload


@pytest.mark.parametrize("kind", [CONTENT_JSON, CONTENT_CBOR])
def test_bare_event_documents_are_accepted_as_app_functions_sdk_does(kind: str) -> None:
    event = mixed_request().event
    body = event.to_json() if kind == CONTENT_JSON else cbor2.dumps(event.model_dump(by_alias=True))
    decoded = decode_add_event(body, kind)
    assert decoded.event == event and decoded.request_id == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("application/json; charset=utf-8", CONTENT_JSON),
        ("Application/CBOR", CONTENT_CBOR),
        ("", CONTENT_JSON),
        (None, CONTENT_JSON),
    ],
)
def test_media_type_normalises_content_type_headers(value: str | None, expected: str) -> None:
    assert media_type(value) == expected


def test_content_type_for_picks_cbor_only_for_binary_readings_or_when_forced() -> None:
    request = mixed_request()
    assert content_type_for(request.event) == CONTENT_CBOR
    plain = new_event("d", "p", "s", [Reading.simple("d", "p", "r", ValueType.BOOL, True)])
    assert content_type_for(plain) == CONTENT_JSON
    assert content_type_for(plain, cbor_all=True) == CONTENT_CBOR


@pytest.mark.parametrize(
    ("body", "kind", "field"),
    [
        (b"{", CONTENT_JSON, None),
        (b"[]", CONTENT_JSON, None),
        (b'{"event":{"id":"x"}}', CONTENT_JSON, "event.id"),
        (b"\xff\x00", CONTENT_CBOR, None),
        (cbor2.dumps([1, 2]), CONTENT_CBOR, None),
        (cbor2.dumps({"event": {"id": EVENT_ID}}), CONTENT_CBOR, "event.deviceName"),
    ],
)
def test_malformed_bodies_raise_event_decode_error_naming_the_field(body: bytes, kind: str, field: str | None) -> None:
    with pytest.raises(EventDecodeError) as info:
        decode_add_event(body, kind)
    assert info.value.status == 400
    assert info.value.field == field
    if field:
        assert field in str(info.value)


def test_invalid_reading_value_in_a_body_names_the_reading_field() -> None:
    doc = json.loads(mixed_request().to_json())
    doc["event"]["readings"][0]["value"] = "not-a-float"
    with pytest.raises(EventDecodeError) as info:
        decode_add_event(json.dumps(doc).encode())
    assert info.value.field == "event.readings.0"
    assert "Float32" in str(info.value)


def test_unsupported_content_types_are_rejected() -> None:
    with pytest.raises(EventDecodeError, match="text/xml"):
        decode_add_event(b"<event/>", "text/xml")
    with pytest.raises(ValueError, match="text/xml"):
        encode_add_event(mixed_request(), "text/xml")


def test_decode_accepts_memoryview_and_bytearray() -> None:
    body = mixed_request().to_json()
    assert decode_add_event(memoryview(body)) == decode_add_event(bytearray(body))
