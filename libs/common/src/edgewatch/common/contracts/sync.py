"""Store-and-forward wire models: a batch of opaque records uploaded by edgewatch-sync to the cloud receiver.

A record is the original bus payload (bytes, never re-encoded) plus a small header: data class, device key,
per-device sequence, subject, the edge JetStream stream sequence and timestamp, and an idempotency key. A batch
groups records of one class from one stream in stream order. On the wire a batch is msgpack (records as
positional arrays, sequences and timestamps as deltas from the batch base) compressed with zstd.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

import msgpack
import zstandard
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BATCH_CONTENT_TYPE",
    "BATCH_ENCODING",
    "DEVICE_HEADER",
    "IDEMPOTENCY_HEADER",
    "MSG_ID_HEADER",
    "PRIORITY",
    "SEQ_HEADER",
    "BatchAck",
    "BatchDecodeError",
    "DataClass",
    "SyncBatch",
    "SyncRecord",
    "decode_batch",
    "encode_batch",
]

BATCH_CONTENT_TYPE: Final = "application/vnd.edgewatch.sync-batch+msgpack"
BATCH_ENCODING: Final = "zstd"
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
SEQ_HEADER: Final = "Edgewatch-Seq"
"""Optional per-device sequence a producer may set on a bus message (else the stream sequence is used)."""
DEVICE_HEADER: Final = "Edgewatch-Device"
"""Optional device key a producer may set (else it is taken from the subject)."""
MSG_ID_HEADER: Final = "Nats-Msg-Id"
"""A producer's unique message id; when present it is the record's idempotency key (dedup beyond 2 min)."""

_WIRE_VERSION: Final = 1


class DataClass(StrEnum):
    """The data classes sync buffers in separate streams, in upload priority order (alerts first)."""

    ALERT = "alert"
    SCORE = "score"
    FEATURE = "feature"
    EVENT = "event"


PRIORITY: Final[dict[DataClass, int]] = {
    DataClass.ALERT: 0,
    DataClass.SCORE: 1,
    DataClass.FEATURE: 2,
    DataClass.EVENT: 3,
}
"""Lower uploads first."""


class BatchDecodeError(ValueError):
    """An uploaded batch is not valid zstd/msgpack or does not match the batch schema."""


class SyncRecord(BaseModel):
    """One buffered bus message."""

    model_config = ConfigDict(frozen=True)

    key: str = Field("", description="Idempotency key; empty = '<gateway>/<stream>/<stream_seq>'")
    device: str = Field(..., description="Device key (alerts: the rule name unless the producer sets one)")
    seq: int = Field(..., ge=0, description="Per-device sequence (producer's Edgewatch-Seq or the stream seq)")
    subject: str
    stream_seq: int = Field(..., ge=1, description="Sequence in the edge JetStream stream")
    ts_ns: int = Field(..., ge=0, description="Edge JetStream store time, Unix ns")
    content_type: str = Field("", description="Payload content type when not the class default")
    payload: bytes

    def resolved_key(self, gateway: str, stream: str) -> str:
        """The idempotency key the receiver deduplicates on."""
        return self.key or f"{gateway}/{stream}/{self.stream_seq}"


class SyncBatch(BaseModel):
    """Records of one class, from one edge stream, in stream order."""

    batch_id: str = Field(..., min_length=1, description="Idempotency key of the batch")
    gateway: str = Field(..., min_length=1)
    cls: DataClass
    stream: str = Field(..., min_length=1)
    records: list[SyncRecord] = Field(..., min_length=1)


class BatchAck(BaseModel):
    """The receiver's answer, sent only after the batch is durably committed."""

    model_config = ConfigDict(populate_by_name=True)

    api_version: str = Field("v3", alias="apiVersion")
    status_code: int = Field(200, alias="statusCode")
    batch_id: str = Field(..., alias="batchId")
    accepted: int = Field(..., description="Records stored by this request")
    duplicates: int = Field(..., description="Records already stored (idempotent replays)")


def encode_batch(batch: SyncBatch, level: int = 3) -> bytes:
    """msgpack + zstd; sequences and timestamps are deltas from the first record's."""
    recs = batch.records
    base_seq, base_ts = recs[0].stream_seq, recs[0].ts_ns
    rows = [
        [r.key, r.device, r.seq, r.subject, r.stream_seq - base_seq, r.ts_ns - base_ts, r.content_type, r.payload]
        for r in recs
    ]
    doc = [_WIRE_VERSION, batch.batch_id, batch.gateway, batch.cls.value, batch.stream, base_seq, base_ts, rows]
    packed: bytes = msgpack.packb(doc, use_bin_type=True)
    out: bytes = zstandard.ZstdCompressor(level=level).compress(packed)
    return out


def decode_batch(data: bytes, max_size: int = 64 * 1024 * 1024) -> SyncBatch:
    """Inverse of :func:`encode_batch`.

    Raises:
        BatchDecodeError: not zstd, not msgpack, too large once decompressed, or not the batch schema.
    """
    try:
        raw = zstandard.ZstdDecompressor().decompress(data, max_output_size=max_size)
    except zstandard.ZstdError as e:
        raise BatchDecodeError(f"body: not a zstd frame ({e})") from e
    try:
        doc: Any = msgpack.unpackb(raw, raw=False, strict_map_key=True)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as e:
        raise BatchDecodeError(f"body: not msgpack ({e})") from e
    if not isinstance(doc, list) or len(doc) != 8 or doc[0] != _WIRE_VERSION:
        raise BatchDecodeError("body: not a version-1 sync batch")
    _, batch_id, gateway, cls, stream, base_seq, base_ts, rows = doc
    if not isinstance(rows, list) or not isinstance(base_seq, int) or not isinstance(base_ts, int):
        raise BatchDecodeError("body: records/base fields have the wrong type")
    try:
        records = [
            SyncRecord(
                key=r[0],
                device=r[1],
                seq=r[2],
                subject=r[3],
                stream_seq=base_seq + r[4],
                ts_ns=base_ts + r[5],
                content_type=r[6],
                payload=r[7],
            )
            for r in rows
        ]
        return SyncBatch(batch_id=batch_id, gateway=gateway, cls=cls, stream=stream, records=records)
    except (TypeError, IndexError, ValueError) as e:
        raise BatchDecodeError(f"records: {e}".replace("\n", " ")[:500]) from e
