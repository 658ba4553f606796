"""The EdgeX event document inside a whole-envelope message, for code that handles raw bus bytes (sync, receiver).

An EdgeX event reaches the bus in one of three forms (COMPAT.md 5.3, 5.4):

- the ``nats`` format: the envelope's fields in NATS headers, the AddEventRequest (JSON or CBOR) as the body;
- the ``json`` format: the whole MessageEnvelope as the JSON body and no envelope headers (EdgeX's NATS ``json``
  format, and the only form on MQTT, so every event of a stock EdgeX service bridged from MQTT), its payload a
  v3 base64 string (of JSON or CBOR) or a v4 embedded object;
- a whole-CBOR envelope (``EDGEX_MSG_CBOR_ENCODE``), its payload an embedded map or CBOR bytes.

Subscribers decode all three through :func:`~edgewatch.common.bus.envelope.decode_envelope`. Sync buffers raw
message bytes, so it asks :func:`unwrap_event` for the document of the last two forms (and records that,
with its content type); the receiver asks too, for records an older sync stored as envelopes. A body that
cannot be an envelope costs one substring search: the ``payload`` key is looked for before anything is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from edgewatch.common.bus.envelope import (
    CONTENT_CBOR,
    CONTENT_JSON,
    H_API_VERSION,
    H_CORRELATION_ID,
    H_ERROR_CODE,
    H_REQUEST_ID,
    decode_envelope_data,
)
from edgewatch.common.bus.errors import BusDecodeError

__all__ = ["unwrap_event"]

_JSON_KEY: Final = b'"payload"'
_CBOR_KEY: Final = b"\x67payload"  # CBOR text string of length 7


def unwrap_event(data: bytes, headers: Mapping[str, str] | None = None) -> tuple[bytes, str] | None:
    """``(document, content type)`` of an EdgeX event sent as a whole envelope (``json`` format or CBOR).

    Returns None when ``data`` already is the document (the ``nats`` format: envelope headers present), or is
    no envelope, or an envelope whose payload is not a JSON object or CBOR map (an error text). A v3 or CBOR
    payload comes back as the exact bytes the publisher encoded; a v4 embedded object as compact JSON.
    """
    if headers and (
        H_REQUEST_ID in headers or H_API_VERSION in headers or H_CORRELATION_ID in headers or H_ERROR_CODE in headers
    ):
        return None  # the nats format (what decode_envelope_data checks too): the body is the document
    if not data:
        return None
    first = data[0]
    if first in b" \t\r\n":  # rare: leading whitespace before a JSON envelope
        data = data.lstrip()
        first = data[0] if data else 0
    if not ((first == 0x7B and _JSON_KEY in data) or (0xA0 <= first <= 0xBF and _CBOR_KEY in data)):
        return None
    try:
        env = decode_envelope_data("", data, None)
    except BusDecodeError:
        return None
    content_type = env.content_type.split(";", 1)[0].strip().lower() or CONTENT_JSON
    if env.error_code or not _is_map(env.payload, content_type):
        return None
    return env.payload, content_type


def _is_map(doc: bytes, content_type: str) -> bool:
    """Whether ``doc`` is a JSON object or a CBOR map (what an AddEventRequest or Event is)."""
    head = doc.lstrip()[:1]
    if not head:
        return False
    if content_type == CONTENT_JSON:
        return head == b"{"
    return content_type == CONTENT_CBOR and 0xA0 <= head[0] <= 0xBF
