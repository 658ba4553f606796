"""Decode stored payloads by class for the query APIs: events as EdgeX Event JSON, the rest via the suite codec."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from edgewatch.common.bus.eventpayload import unwrap_event
from edgewatch.common.contracts import codec
from edgewatch.common.contracts.eventcodec import decode_add_event
from edgewatch.receiver.store import StoredRecord
from edgewatch.syncwire.batch import DataClass

__all__ = ["jsonable", "record_data", "record_json", "stored_event"]


def jsonable(obj: Any) -> Any:
    """msgpack-decoded values made JSON-able: arrays -> lists, bytes -> base64, numpy scalars -> numbers."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode()
    return obj


def stored_event(rec: StoredRecord) -> dict[str, Any]:
    """The EdgeX Event JSON of an event record (its AddEventRequest or bare Event payload, or an EdgeX envelope
    carrying one, as syncs before the envelope decoding stored events of EdgeX's json format).

    Raises:
        EventDecodeError: the payload is not an EdgeX event.
    """
    payload, ctype = unwrap_event(rec.payload) or (rec.payload, rec.content_type)  # envelopes from older syncs
    return decode_add_event(payload, ctype or "application/json").event.to_dict()


def record_data(rec: StoredRecord) -> Any:
    """The decoded payload; undecodable payloads come back as ``{"raw": <base64>}`` rather than failing."""
    try:
        if rec.cls is DataClass.EVENT:
            return stored_event(rec)
        return jsonable(codec.unpack(rec.payload))
    except Exception:
        return {"raw": base64.b64encode(rec.payload).decode()}


def record_json(rec: StoredRecord) -> dict[str, Any]:
    """A stored record with its header and decoded data (the consumer API's item)."""
    return {
        "id": rec.id,
        "key": rec.key,
        "gateway": rec.gateway,
        "class": rec.cls.value,
        "device": rec.device,
        "seq": rec.seq,
        "subject": rec.subject,
        "stream": rec.stream,
        "streamSeq": rec.stream_seq,
        "tsNs": rec.ts_ns,
        "originNs": rec.origin_ns,
        "receivedNs": rec.received_ns,
        "data": record_data(rec),
    }
