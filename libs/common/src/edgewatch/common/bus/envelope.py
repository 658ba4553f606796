"""EdgeX MessageEnvelope, exact keys, and the EdgeX NATS formats (``nats`` headers, ``json`` body, CBOR body).

Payload forms (COMPAT.md 5.3): v3 sends ``payload`` as a base64 string (Go ``[]byte``); v4 embeds a JSON payload
as an object, an error as a plain string, and still uses base64 for CBOR. ``EDGEX_MSG_CBOR_ENCODE=true`` encodes
the whole envelope as CBOR with the same keys. Decoders accept every form; the ``nats`` format repeats the
``QueryParams`` header once per ``k:v`` pair, as go-mod-messaging's natsMarshaller does with ``Header.Add``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, Literal, NamedTuple

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.errors import BusDecodeError
from edgewatch.common.bus.headers import Headers
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.ids import random_uuid
from edgewatch.common.contracts.pydanticadapter import construct

__all__ = [
    "CONTENT_CBOR",
    "CONTENT_JSON",
    "CONTENT_TEXT",
    "EnvelopeHandler",
    "EnvelopeParts",
    "Format",
    "MessageEnvelope",
    "decode_envelope",
    "decode_envelope_data",
    "decode_envelope_parts",
    "encode_envelope",
    "new_envelope",
    "new_request_headers",
    "publish_envelope",
    "subscribe_envelopes",
]

CONTENT_JSON = "application/json"
CONTENT_CBOR = "application/cbor"
CONTENT_TEXT = "text/plain"

Format = Literal["nats", "json", "cbor"]
EnvelopeHandler = Callable[["MessageEnvelope"], Awaitable[None]]

H_CONTENT_TYPE = "Content-Type"
H_CORRELATION_ID = "X-Correlation-ID"
H_REQUEST_ID = "RequestId"
H_API_VERSION = "ApiVersion"
H_ERROR_CODE = "ErrorCode"
H_QUERY_PARAMS = "QueryParams"
_ENVELOPE_HEADERS = (H_API_VERSION, H_REQUEST_ID, H_CORRELATION_ID, H_ERROR_CODE)

_HEADER_FIELDS = ("api_version", "correlation_id", "request_id", "content_type")
_B64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_UNSET: Any = object()


def _cbor() -> ModuleType:
    """cbor2, imported at the first CBOR envelope or payload (a suite on the nats format never loads it)."""
    import cbor2

    return cbor2


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
    # The payload already parsed (a v4 embedded object, or a first payload_doc() call), to skip re-parsing.
    _doc: Any = PrivateAttr(default=None)
    _has_doc: bool = PrivateAttr(default=False)

    def payload_doc(self) -> Any:
        """The payload parsed by its content type (JSON or CBOR; text as ``str``).

        Raises:
            BusDecodeError: the payload does not parse as its content type.
        """
        if self._has_doc:
            return self._doc
        ct = self.content_type.split(";", 1)[0].strip().lower()
        try:
            if ct == CONTENT_CBOR:
                doc = _cbor().loads(self.payload)
            elif ct == CONTENT_TEXT:
                doc = self.payload.decode("utf-8")
            else:
                doc = json.loads(self.payload)
        except Exception as e:
            raise BusDecodeError(f"payload is not {ct or CONTENT_JSON}: {e}") from e
        self._doc, self._has_doc = doc, True
        return doc

    def payload_json(self) -> Any:
        """The payload parsed as JSON (or CBOR when the content type says so).

        Raises:
            BusDecodeError: the payload does not parse.
        """
        return self.payload_doc()

    def error_text(self) -> str:
        """The error string of an ``errorCode`` 1 envelope (``text/plain`` payload)."""
        return self.payload.decode("utf-8", "replace")


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
        correlation_id=correlation_id or random_uuid(),
        request_id=request_id or random_uuid(),
        query_params=query_params or {},
        error_code=error_code,
    )


_DEFAULT_API_VERSION: str = MessageEnvelope.model_fields["api_version"].default


def new_request_headers(correlation_id: str, request_id: str, content_type: str = CONTENT_JSON) -> dict[str, str]:
    """The ``nats`` format's headers of ``new_envelope(payload, content_type=..., correlation_id=...,
    request_id=...)`` with both ids given: what :func:`encode_envelope` writes for it, without building the model
    (one request per decision on rules' actuation path)."""
    return {
        H_CORRELATION_ID: correlation_id,
        H_CONTENT_TYPE: content_type,
        H_REQUEST_ID: request_id,
        H_API_VERSION: _DEFAULT_API_VERSION,
        H_ERROR_CODE: "0",
    }


# --- encoding -------------------------------------------------------------------------------------------------


def encode_envelope(env: MessageEnvelope, fmt: Format = "nats", *, v4: bool = True) -> tuple[bytes, dict[str, str]]:
    """Encode for NATS: returns ``(body, headers)``.

    ``nats``: envelope fields in headers (``QueryParams`` repeated per pair), the raw payload as body. ``json``:
    the whole envelope as a JSON body, no headers. ``cbor``: the same document CBOR-encoded
    (``EDGEX_MSG_CBOR_ENCODE``). With ``v4`` a JSON payload is embedded as an object and an error text as a
    string; without it (v3, or ``EDGEX_MSG_BASE64_PAYLOAD``) the payload is base64 (a byte string in CBOR).
    """
    if fmt == "nats":
        headers = Headers()
        headers[H_CORRELATION_ID] = env.correlation_id
        headers[H_CONTENT_TYPE] = env.content_type
        headers[H_REQUEST_ID] = env.request_id
        headers[H_API_VERSION] = env.api_version
        headers[H_ERROR_CODE] = str(env.error_code)
        for k, v in env.query_params.items():
            headers.add(H_QUERY_PARAMS, f"{k}:{v}")
        return env.payload, headers
    doc: dict[str, Any] = {
        "apiVersion": env.api_version,
        "receivedTopic": env.received_topic,
        "correlationID": env.correlation_id,
        "requestID": env.request_id,
        "errorCode": env.error_code,
        "payload": _payload_value(env, v4, binary=fmt == "cbor"),
        "contentType": env.content_type,
    }
    if env.query_params:
        doc["queryParams"] = env.query_params
    if fmt == "cbor":
        return _cbor().dumps(doc), Headers()
    if fmt != "json":
        raise ValueError(f"fmt: unknown EdgeX NATS format {fmt!r} (nats, json or cbor)")
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(), Headers()


def _payload_value(env: MessageEnvelope, v4: bool, *, binary: bool) -> Any:
    if not env.payload:
        return None
    ct = env.content_type.split(";", 1)[0].strip().lower()
    if v4 and ct == CONTENT_JSON:
        try:
            return env.payload_doc()
        except BusDecodeError:
            pass
    elif v4 and ct == CONTENT_TEXT:
        return env.payload.decode("utf-8", "replace")
    return env.payload if binary else base64.b64encode(env.payload).decode("ascii")


# --- decoding -------------------------------------------------------------------------------------------------


def decode_envelope(msg: Msg) -> MessageEnvelope:
    """Decode any EdgeX NATS format; ``receivedTopic`` is set from the subject.

    Raises:
        BusDecodeError: the message is no EdgeX envelope, or a field has the wrong type.
    """
    return decode_envelope_data(msg.subject, msg.data, msg.headers)


def decode_envelope_data(subject: str, data: bytes, headers: dict[str, str] | None) -> MessageEnvelope:
    """Decode from the parts of a message (subject, body, headers).

    Raises:
        BusDecodeError: the message is no EdgeX envelope, or a field has the wrong type.
    """
    topic = topics.subject_to_edgex(subject)
    if headers and any(h in headers for h in _ENVELOPE_HEADERS):
        return _from_headers(topic, data, headers)
    body = data.lstrip()
    if not body:
        raise BusDecodeError("not an EdgeX envelope: empty body and no envelope headers")
    first = body[0]
    try:
        if first == 0x7B:  # '{': the json format
            doc = json.loads(body)
        elif 0xA0 <= first <= 0xBF:  # a CBOR map: the whole envelope CBOR-encoded
            doc = _cbor().loads(body)
        else:
            raise BusDecodeError(f"not an EdgeX envelope: body starts with byte 0x{first:02x}")
    except BusDecodeError:
        raise
    except Exception as e:
        raise BusDecodeError(f"not an EdgeX envelope: {e}") from e
    return _from_doc(topic, doc)


class EnvelopeParts(NamedTuple):
    """What a consumer of events reads of an envelope (:func:`decode_envelope_parts`)."""

    payload: bytes
    content_type: str
    correlation_id: str


def decode_envelope_parts(msg: Msg) -> EnvelopeParts:
    """The payload, content type and correlation id :func:`decode_envelope` would give, with its errors, without
    building the envelope when the message is in the ``nats`` format (every event on the bus, and rules and features
    decode every event: about 1 instead of 4 us each).

    Raises:
        BusDecodeError: as :func:`decode_envelope`.
    """
    hdrs, data = msg.headers, msg.data
    if (
        hdrs
        and type(data) is bytes
        and (H_CORRELATION_ID in hdrs or H_REQUEST_ID in hdrs or H_API_VERSION in hdrs or H_ERROR_CODE in hdrs)
    ):
        if H_QUERY_PARAMS in hdrs:
            _header_query_params(hdrs)  # checked as the envelope checks them; nobody here reads them
        if hdrs.get(H_ERROR_CODE, "0") not in ("0", ""):
            _header_error_code(hdrs)
        ct, cid = hdrs.get(H_CONTENT_TYPE) or CONTENT_JSON, hdrs.get(H_CORRELATION_ID, "")
        if (
            type(ct) is str
            and type(cid) is str
            and type(hdrs.get(H_API_VERSION, "")) is str
            and type(hdrs.get(H_REQUEST_ID, "")) is str
        ):
            return EnvelopeParts(data, ct, cid)
    env = decode_envelope(msg)
    return EnvelopeParts(env.payload, env.content_type, env.correlation_id)


def _header_query_params(hdrs: dict[str, str]) -> dict[str, str]:
    values = hdrs.getall(H_QUERY_PARAMS) if isinstance(hdrs, Headers) else [v for v in [hdrs.get(H_QUERY_PARAMS)] if v]
    qp: dict[str, str] = {}
    for item in values:
        k, sep, v = item.partition(":")
        if not sep:
            raise BusDecodeError(f"QueryParams header {item!r} is not key:value")
        qp[k.strip()] = v.strip()
    return qp


def _header_error_code(hdrs: dict[str, str]) -> int:
    raw_code = hdrs.get(H_ERROR_CODE, "") or "0"
    try:
        return int(raw_code)
    except ValueError as e:
        raise BusDecodeError(f"ErrorCode header {raw_code!r} is not an integer") from e


def _from_headers(topic: str, data: bytes, hdrs: dict[str, str]) -> MessageEnvelope:
    qp = _header_query_params(hdrs)
    code = _header_error_code(hdrs)
    fields = {
        "api_version": hdrs.get(H_API_VERSION, ""),
        "received_topic": topic,
        "correlation_id": hdrs.get(H_CORRELATION_ID, ""),
        "request_id": hdrs.get(H_REQUEST_ID, ""),
        "error_code": code,
        "payload": data,
        "content_type": hdrs.get(H_CONTENT_TYPE) or CONTENT_JSON,
        "query_params": qp,
    }
    if type(data) is bytes and all(type(fields[k]) is str for k in _HEADER_FIELDS):
        # every field already has its type (what the bus hands over): skip validation, one per event on every
        # consumer; anything else (a caller's own header values) is validated as before
        return construct(MessageEnvelope, fields, {"_doc": None, "_has_doc": False})
    return MessageEnvelope(**fields)


def _str_field(doc: dict[str, Any], key: str, default: str = "") -> str:
    v = doc.get(key)
    if v is None:
        return default
    if not isinstance(v, str):
        raise BusDecodeError(f"{key}: must be a string, got {type(v).__name__}")
    return v


def _from_doc(topic: str, doc: Any) -> MessageEnvelope:
    if not isinstance(doc, dict) or "payload" not in doc:
        raise BusDecodeError("not an EdgeX envelope: no payload key")
    ct = _str_field(doc, "contentType", CONTENT_JSON) or CONTENT_JSON
    code = doc.get("errorCode") or 0
    if not isinstance(code, int) or isinstance(code, bool):
        raise BusDecodeError(f"errorCode: must be an integer, got {type(code).__name__}")
    qp = doc.get("queryParams") or {}
    if not isinstance(qp, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in qp.items()):
        raise BusDecodeError("queryParams: must be an object of strings")
    payload, parsed = _payload_bytes(doc["payload"], ct)
    env = MessageEnvelope(
        api_version=_str_field(doc, "apiVersion"),
        received_topic=topic,
        correlation_id=_str_field(doc, "correlationID"),
        request_id=_str_field(doc, "requestID"),
        error_code=code,
        payload=payload,
        content_type=ct,
        query_params=qp,
    )
    if parsed is not _UNSET:
        env._doc, env._has_doc = parsed, True
    return env


def _payload_bytes(value: Any, content_type: str) -> tuple[bytes, Any]:
    """The payload document's bytes from any wire form, plus the parsed document when it came embedded."""
    ct = content_type.split(";", 1)[0].strip().lower()
    if value is None:
        return b"", _UNSET
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), _UNSET
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) % 4 == 0 and _B64.fullmatch(raw):
            try:
                decoded = base64.b64decode(raw, validate=True)
            except binascii.Error:
                decoded = None
            if decoded is not None and (ct != CONTENT_TEXT or _is_utf8(decoded)):
                return decoded, _UNSET
        if ct == CONTENT_TEXT:
            return raw, value  # v4 error envelope: the error text itself
        raise BusDecodeError(f"payload: a string payload of {ct} must be base64")
    if ct == CONTENT_CBOR:
        return _cbor().dumps(value), value
    if ct in (CONTENT_JSON, ""):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), value
    raise BusDecodeError(f"payload: an embedded object needs a JSON or CBOR content type, not {ct}")


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- bus helpers ----------------------------------------------------------------------------------------------


async def publish_envelope(
    bus: NatsBus, subject: str, env: MessageEnvelope, fmt: Format = "nats", *, v4: bool = True
) -> None:
    """Encode ``env`` in ``fmt`` and publish it on ``subject``."""
    body, headers = encode_envelope(env, fmt, v4=v4)
    await bus.publish(subject, body, headers or None)


async def subscribe_envelopes(bus: NatsBus, subject: str, handler: EnvelopeHandler, *, queue: str = "") -> Subscription:
    """Subscribe and hand decoded envelopes to ``handler``; a malformed message is dead-lettered (BusDecodeError)."""

    async def on_msg(msg: Msg) -> None:
        await handler(decode_envelope(msg))

    return await bus.subscribe(subject, on_msg, queue=queue)
