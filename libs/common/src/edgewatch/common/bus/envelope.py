"""EdgeX MessageEnvelope, exact keys, and the two EdgeX NATS formats (``nats`` headers / ``json`` body).

Payload forms (COMPAT.md 5.3): v3 sends ``payload`` as a base64 string; v4 embeds a JSON payload as an object
(and still uses base64 for CBOR). Decoders accept an object, a base64 string or raw bytes.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any, Literal

from nats.aio.msg import Msg
from pydantic import BaseModel, ConfigDict, Field

from edgewatch.common.bus.client import BusDecodeError
from edgewatch.common.contracts import topics

__all__ = [
    "CONTENT_CBOR",
    "CONTENT_JSON",
    "CONTENT_TEXT",
    "MessageEnvelope",
    "decode_envelope",
    "encode_envelope",
    "new_envelope",
]

CONTENT_JSON = "application/json"
CONTENT_CBOR = "application/cbor"
CONTENT_TEXT = "text/plain"

Format = Literal["nats", "json"]


class MessageEnvelope(BaseModel):
    """EdgeX ``MessageEnvelope``; ``payload`` holds the payload document's bytes (JSON, CBOR or text)."""

    model_config = ConfigDict(populate_by_name=True)

    api_version: str = Field("v3", alias="apiVersion")
    received_topic: str = Field("", alias="receivedTopic")
    correlation_id: str = Field("", alias="correlationID")
    request_id: str = Field("", alias="requestID")
    error_code: int = Field(0, alias="errorCode")
    payload: bytes = b""
    content_type: str = Field(CONTENT_JSON, alias="contentType")
    query_params: dict[str, str] = Field(default_factory=dict, alias="queryParams")

    def payload_json(self) -> Any:
        """The payload parsed as JSON.

        Raises:
            BusDecodeError: the payload is not JSON.
        """
        try:
            return json.loads(self.payload)
        except ValueError as e:
            raise BusDecodeError(f"payload is not JSON: {e}") from e


def new_envelope(
    payload: bytes,
    *,
    content_type: str = CONTENT_JSON,
    correlation_id: str = "",
    request_id: str = "",
    query_params: dict[str, str] | None = None,
    error_code: int = 0,
) -> MessageEnvelope:
    """An envelope with fresh IDs where none are given."""
    return MessageEnvelope(
        payload=payload,
        content_type=content_type,
        correlation_id=correlation_id or str(uuid.uuid4()),
        request_id=request_id or str(uuid.uuid4()),
        query_params=query_params or {},
        error_code=error_code,
    )


def encode_envelope(env: MessageEnvelope, fmt: Format = "nats", *, v4: bool = True) -> tuple[bytes, dict[str, str]]:
    """Encode for NATS: returns ``(body, headers)``.

    ``nats``: envelope fields in headers, the raw payload as body. ``json``: the whole envelope as the body; the
    payload is embedded as an object when ``v4`` and the content type is JSON, else base64 (the v3 form).
    """
    if fmt == "nats":
        headers = {
            "Content-Type": env.content_type,
            "X-Correlation-ID": env.correlation_id,
            "RequestId": env.request_id,
            "ApiVersion": env.api_version,
            "ErrorCode": str(env.error_code),
        }
        if env.query_params:
            headers["QueryParams"] = ",".join(f"{k}:{v}" for k, v in env.query_params.items())
        return env.payload, headers
    doc: dict[str, Any] = {
        "apiVersion": env.api_version,
        "receivedTopic": env.received_topic,
        "correlationID": env.correlation_id,
        "requestID": env.request_id,
        "errorCode": env.error_code,
        "contentType": env.content_type,
    }
    if v4 and env.content_type == CONTENT_JSON and env.payload:
        try:
            doc["payload"] = json.loads(env.payload)
        except ValueError:
            doc["payload"] = base64.b64encode(env.payload).decode()
    else:
        doc["payload"] = base64.b64encode(env.payload).decode() if env.payload else None
    if env.query_params:
        doc["queryParams"] = env.query_params
    return json.dumps(doc, separators=(",", ":")).encode(), {"Content-Type": CONTENT_JSON}


def _payload_bytes(value: Any, content_type: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            if content_type == CONTENT_TEXT:
                return value.encode()
            raise BusDecodeError("payload string is not base64") from None
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":")).encode()
    raise BusDecodeError(f"payload has unsupported type {type(value).__name__}")


def decode_envelope(msg: Msg) -> MessageEnvelope:
    """Decode either EdgeX NATS format; ``receivedTopic`` is set from the subject.

    Raises:
        BusDecodeError: the message is neither format.
    """
    topic = topics.subject_to_edgex(msg.subject)
    hdrs = msg.headers or {}
    if "ApiVersion" in hdrs or "RequestId" in hdrs or "X-Correlation-ID" in hdrs:
        qp: dict[str, str] = {}
        for item in filter(None, (hdrs.get("QueryParams") or "").split(",")):
            k, _, v = item.partition(":")
            qp[k] = v
        try:
            code = int(hdrs.get("ErrorCode", "0") or 0)
        except ValueError as e:
            raise BusDecodeError("ErrorCode header is not an integer") from e
        return MessageEnvelope(
            api_version=hdrs.get("ApiVersion", "v3"),
            received_topic=topic,
            correlation_id=hdrs.get("X-Correlation-ID", ""),
            request_id=hdrs.get("RequestId", ""),
            error_code=code,
            payload=msg.data,
            content_type=hdrs.get("Content-Type", CONTENT_JSON),
            query_params=qp,
        )
    try:
        doc = json.loads(msg.data)
    except ValueError as e:
        raise BusDecodeError(f"not an EdgeX envelope: {e}") from e
    if not isinstance(doc, dict) or "payload" not in doc:
        raise BusDecodeError("not an EdgeX envelope: no payload key")
    ct = str(doc.get("contentType") or CONTENT_JSON)
    try:
        return MessageEnvelope(
            api_version=str(doc.get("apiVersion") or "v3"),
            received_topic=topic,
            correlation_id=str(doc.get("correlationID") or ""),
            request_id=str(doc.get("requestID") or ""),
            error_code=int(doc.get("errorCode") or 0),
            payload=_payload_bytes(doc.get("payload"), ct),
            content_type=ct,
            query_params={str(k): str(v) for k, v in (doc.get("queryParams") or {}).items()},
        )
    except (TypeError, ValueError) as e:
        raise BusDecodeError(f"bad envelope field: {e}") from e
