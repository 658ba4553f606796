"""Test/bench load: EdgeX events and suite messages that carry device + per-device sequence."""

from __future__ import annotations

from edgewatch.common.contracts import codec, topics
from edgewatch.common.contracts.event import AddEventRequest, Reading, new_event
from edgewatch.common.contracts.eventcodec import encode_add_event
from edgewatch.syncwire.batch import MSG_ID_HEADER, SEQ_HEADER, DataClass

__all__ = ["SERVICE", "edgex_event", "message"]

SERVICE = "edgewatch-ingest"


def edgex_event(device: str, seq: int, origin: int | None = None) -> bytes:
    """An AddEventRequest JSON as ingest publishes it (Go SDK shape: UUID ids, E-notation floats)."""
    readings = [
        Reading.simple(device, "pump", "Flow", "Float32", 20.0 + (seq % 97) / 8, origin=origin),
        Reading.simple(device, "pump", "Pressure", "Float32", 3.0 + (seq % 13) / 4, origin=origin),
        Reading.simple(device, "pump", "Seq", "Uint32", seq, origin=origin),
    ]
    return encode_add_event(AddEventRequest.of(new_event(device, "pump", "all", readings, origin=origin)))


def message(cls: DataClass, device: str, seq: int) -> tuple[str, bytes, dict[str, str]]:
    """(subject, payload, headers) of message ``seq`` of ``device`` in class ``cls``."""
    headers = {SEQ_HEADER: str(seq), MSG_ID_HEADER: f"{cls.value}-{device}-{seq}"}
    if cls is DataClass.EVENT:
        subject = topics.device_event(SERVICE, "pump", device, "all")
        headers["Content-Type"] = "application/json"
        return subject, edgex_event(device, seq), headers
    payload = codec.pack({"device": device, "seq": seq, "value": seq * 0.5})
    subject = {
        DataClass.FEATURE: topics.feature_vector(device),
        DataClass.SCORE: topics.score(device),
        DataClass.ALERT: topics.alert(f"rule-{device}"),
    }[cls]
    if cls is DataClass.ALERT:
        headers["Edgewatch-Device"] = device
    return subject, payload, headers
