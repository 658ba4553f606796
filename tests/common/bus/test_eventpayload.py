"""unwrap_event: the EdgeX event document of a whole-envelope message (json format, CBOR), None otherwise."""

from __future__ import annotations

import base64
import json

import cbor2
import pytest

from edgewatch.common.bus.envelope import encode_envelope, new_envelope
from edgewatch.common.bus.eventpayload import unwrap_event
from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import CONTENT_CBOR, CONTENT_JSON, encode_add_event

EVENT = new_event("d", "p", "s", [Reading.simple("d", "p", "s", "Float32", 1.5, origin=7)], origin=7)
JSON_DOC = encode_add_event(AddEventRequest.of(EVENT))
CBOR_DOC = encode_add_event(AddEventRequest.of(EVENT), CONTENT_CBOR)


@pytest.mark.parametrize(
    ("doc", "content_type", "fmt", "v4"),
    [
        (JSON_DOC, CONTENT_JSON, "json", False),
        (JSON_DOC, CONTENT_JSON, "json", True),
        (CBOR_DOC, CONTENT_CBOR, "json", True),
        (JSON_DOC, CONTENT_JSON, "cbor", True),
        (CBOR_DOC, CONTENT_CBOR, "cbor", True),
        (JSON_DOC, CONTENT_JSON, "cbor", False),
    ],
)
def test_unwrap_event_returns_the_document_of_every_whole_envelope_form(
    doc: bytes, content_type: str, fmt: str, v4: bool
) -> None:
    body, headers = encode_envelope(new_envelope(doc, content_type=content_type), fmt, v4=v4)  # type: ignore[arg-type]
    got = unwrap_event(body, headers)
    assert got is not None
    payload, ct = got
    assert ct == content_type
    if content_type == CONTENT_CBOR or not v4:
        assert payload == doc  # the publisher's exact bytes
    else:
        assert json.loads(payload) == json.loads(doc)


def test_unwrap_event_leaves_what_already_is_the_document() -> None:
    body, headers = encode_envelope(new_envelope(JSON_DOC), "nats")
    assert unwrap_event(body, headers) is None  # nats format: envelope headers, the body is the document
    assert unwrap_event(JSON_DOC, {"Content-Type": CONTENT_JSON}) is None
    assert unwrap_event(CBOR_DOC) is None
    tricky = encode_add_event(
        AddEventRequest.of(new_event("d", "p", "s", [Reading.object("d", "p", "s", {"payload": "x"})]))
    )
    assert unwrap_event(tricky) is None  # a "payload" key inside the event is not an envelope
    error = {"apiVersion": "v3", "errorCode": 1, "payload": "boom", "contentType": "text/plain"}
    assert unwrap_event(json.dumps(error).encode()) is None
    assert unwrap_event(b'{"payload": "%%% not base64"}') is None
    assert unwrap_event(cbor2.dumps({"payload": 5})) is None
    assert unwrap_event(b"") is None and unwrap_event(b"   ") is None
    v3 = {"apiVersion": "v3", "payload": base64.b64encode(JSON_DOC).decode(), "contentType": CONTENT_JSON}
    assert unwrap_event(json.dumps(v3).encode(), {"Nmqtt-Pub": "1"}) == (JSON_DOC, CONTENT_JSON)  # MQTT bridged
