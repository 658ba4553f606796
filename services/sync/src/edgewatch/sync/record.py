"""Turn a JetStream message into a SyncRecord: the payload untouched plus the small header (an EdgeX event sent
as a whole envelope, in the json format or CBOR, is recorded as the event document it carries)."""

from __future__ import annotations

from collections.abc import Mapping

from nats.aio.msg import Msg
from nats.js.api import RawStreamMsg

from edgewatch.common.bus.eventpayload import unwrap_event
from edgewatch.syncwire.batch import DEVICE_HEADER, MSG_ID_HEADER, SEQ_HEADER, DataClass, RecordRow

__all__ = ["DEFAULT_CONTENT_TYPE", "ack_position", "device_of", "stored_to_record", "to_record"]

DEFAULT_CONTENT_TYPE: dict[DataClass, str] = {
    DataClass.EVENT: "application/json",
    DataClass.FEATURE: "application/msgpack",
    DataClass.SCORE: "application/msgpack",
    DataClass.ALERT: "application/msgpack",
}
# Index of the device token in each class's subject (topics.py): edgex.events.<device|core>.<svc>.<profile>.
# <device>.<source>; edgewatch.features.vector.<device>; edgewatch.inference.score.<device>; edgewatch.rules.
# alert.<rule> (an alert's key is its rule unless the producer sets Edgewatch-Device).
_DEVICE_TOKEN = {DataClass.EVENT: 5, DataClass.FEATURE: 3, DataClass.SCORE: 3, DataClass.ALERT: 3}


def ack_position(reply: str) -> tuple[int, int]:
    """(stream sequence, store time in ns) from a JetStream ack subject (v1 and v2 token layouts)."""
    tokens = reply.split(".")
    off = 0 if len(tokens) == 9 else 2
    return int(tokens[5 + off]), int(tokens[7 + off])


def device_of(cls: DataClass, subject: str) -> str:
    """Device key from the subject; the whole subject when it does not have the expected shape."""
    tokens = subject.split(".")
    i = _DEVICE_TOKEN[cls]
    return tokens[i] if len(tokens) > i else subject


def to_record(cls: DataClass, msg: Msg, gateway: str, *, msg_id_key: bool = False) -> RecordRow:
    """Build the record of one delivered message (a plain row: trusted local input)."""
    stream_seq, ts_ns = ack_position(msg.reply)
    return _row(cls, msg.subject, msg.headers, msg.data, stream_seq, ts_ns, gateway, msg_id_key)


def stored_to_record(cls: DataClass, msg: RawStreamMsg, gateway: str, *, msg_id_key: bool = False) -> RecordRow:
    """Build the record of a message read from the stream by sequence (store time to the microsecond)."""
    ts_ns = int(msg.time.timestamp() * 1_000_000) * 1000 if msg.time else 0
    return _row(cls, msg.subject or "", msg.headers, msg.data or b"", msg.seq or 0, ts_ns, gateway, msg_id_key)


def _row(
    cls: DataClass,
    subject: str,
    headers: Mapping[str, str] | None,
    data: bytes,
    stream_seq: int,
    ts_ns: int,
    gateway: str,
    msg_id_key: bool,
) -> RecordRow:
    hdr = headers or {}
    seq_text = hdr.get(SEQ_HEADER, "")
    seq = int(seq_text) if seq_text.isdigit() else stream_seq
    msg_id = hdr.get(MSG_ID_HEADER, "") if msg_id_key else ""
    ctype = hdr.get("Content-Type", "")
    if cls is DataClass.EVENT and (inner := unwrap_event(data, hdr)) is not None:
        data, ctype = inner  # EdgeX's json format or a CBOR envelope: the record is the event, not its envelope
    return RecordRow(
        f"{gateway}/{cls.value}/{msg_id}" if msg_id else "",
        hdr.get(DEVICE_HEADER, "") or device_of(cls, subject),
        seq,
        subject,
        stream_seq,
        ts_ns,
        "" if ctype in ("", DEFAULT_CONTENT_TYPE[cls]) else ctype,
        data,
    )
