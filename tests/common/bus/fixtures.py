"""EdgeX MessageEnvelope fixtures shaped exactly as go-mod-messaging and the device SDKs emit them."""

from __future__ import annotations

import base64
import json
from typing import Any

import cbor2

CORRELATION_ID = "7c8c0e4e-5b64-4e0b-9d3c-1f2a3b4c5d6e"
REQUEST_ID = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
SUBJECT = "edgex.events.device.device-modbus.pump.pump-1.FlowRate"
TOPIC = "edgex/events/device/device-modbus/pump/pump-1/FlowRate"

# AddEventRequest as core-contracts marshals it (Go json.Marshal: struct field order, Float32 in "%e" form)
ADD_EVENT: dict[str, Any] = {
    "apiVersion": "v3",
    "requestId": REQUEST_ID,
    "event": {
        "apiVersion": "v3",
        "id": "6f1b5c0e-2d3a-4b5c-8d7e-9f0a1b2c3d4e",
        "deviceName": "pump-1",
        "profileName": "pump",
        "sourceName": "FlowRate",
        "origin": 1700000000000000000,
        "readings": [
            {
                "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                "origin": 1700000000000000000,
                "deviceName": "pump-1",
                "resourceName": "FlowRate",
                "profileName": "pump",
                "valueType": "Float32",
                "value": "3.950000e+01",
            }
        ],
    },
}
ADD_EVENT_JSON = json.dumps(ADD_EVENT, separators=(",", ":")).encode()
ADD_EVENT_CBOR = cbor2.dumps(ADD_EVENT)


def go_json_envelope(
    payload: Any, *, content_type: str = "application/json", error_code: int = 0, **extra: Any
) -> bytes:
    """json.Marshal(types.MessageEnvelope): Versionable first, then the struct's fields in order."""
    doc: dict[str, Any] = {
        "apiVersion": "v3",
        "receivedTopic": "",
        "correlationID": CORRELATION_ID,
        "requestID": REQUEST_ID,
        "errorCode": error_code,
        "payload": payload,
        "contentType": content_type,
    }
    doc.update(extra)
    return json.dumps(doc, separators=(",", ":")).encode()


def b64(data: bytes) -> str:
    """Go's encoding of a []byte field in JSON."""
    return base64.b64encode(data).decode()


def nats_headers(content_type: str = "application/json", error_code: int = 0) -> list[tuple[str, str]]:
    """natsMarshaller.Marshal: Header.Set in this order, then one Header.Add("QueryParams", "k:v") per param."""
    return [
        ("X-Correlation-ID", CORRELATION_ID),
        ("Content-Type", content_type),
        ("RequestId", REQUEST_ID),
        ("ApiVersion", "v3"),
        ("ErrorCode", str(error_code)),
    ]
