"""Store-and-forward wire models: a batch of opaque records uploaded by edgewatch-sync to the cloud receiver.

A record is the original bus payload (bytes, never re-encoded) plus a small header: data class, device key,
per-device sequence, subject, the edge JetStream stream sequence and timestamp, and an idempotency key. A batch
groups records of one class from one stream in stream order. On the wire a batch is msgpack (records as
positional arrays, sequences and timestamps as deltas from the batch base) compressed with zstd.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Final, NamedTuple

import msgpack
import zstandard
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from edgewatch.syncwire.eventpack import check_pack, pack_events, unpack_events

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
    "BatchHeader",
    "BatchTooLargeError",
    "DataClass",
    "PackedEvents",
    "RecordRow",
    "SyncBatch",
    "SyncRecord",
    "decode_batch",
    "decode_batch_packed",
    "decode_batch_rows",
    "decompress_bounded",
    "encode_batch",
    "encode_rows",
    "is_packed",
    "unpack_packed",
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
_WIRE_VERSION_PACKED: Final = 2
"""Event batches with at least one packed payload (:mod:`edgewatch.syncwire.eventpack`)."""
_Row = tuple[str, str, int, str, int, int, str, bytes]
_ROWS: Final = TypeAdapter(tuple[_Row, ...])


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

_HEAD: Final = TypeAdapter(tuple[int, str, str, DataClass, str, int, int])


class BatchDecodeError(ValueError):
    """An uploaded batch is not valid zstd/msgpack or does not match the batch schema."""


class BatchTooLargeError(BatchDecodeError):
    """An uploaded batch decompresses (or declares it does) to more than the allowed size."""


_DECOMPRESS_STEP = 1 << 20


def decompress_bounded(data: bytes, max_size: int) -> bytes | bytearray:
    """zstd ``data`` decompressed 1 MiB at a time, refused as soon as it would exceed ``max_size`` bytes.

    A frame that declares its size is decoded into a buffer of exactly that size; one that does not (a zstd bomb:
    a few KB of compressed zeros) is decoded step by step and refused at ``max_size``, so it costs at most
    ``max_size`` bytes of memory. (``decompress(max_output_size=...)`` allocates all of ``max_size`` up front.)

    Raises:
        BatchTooLargeError: the frame declares, or decompresses to, more than ``max_size`` bytes.
        BatchDecodeError: not zstd, or not the size it declares.
    """
    try:
        size = zstandard.frame_content_size(data)
        if size > max_size:
            raise BatchTooLargeError(f"body: zstd frame decodes to {size} bytes, over the {max_size} limit")
        with zstandard.ZstdDecompressor().stream_reader(data) as reader:
            if size >= 0:
                out = bytearray(size)
                view, pos = memoryview(out), 0
                while pos < size and (n := reader.readinto(view[pos : pos + _DECOMPRESS_STEP])):
                    pos += n
                view.release()
                if pos != size or reader.read(1):
                    raise BatchDecodeError(f"body: zstd frame does not decode to the {size} bytes it declares")
                return out
            chunks: list[bytes] = []
            total = 0
            while chunk := reader.read(_DECOMPRESS_STEP):
                total += len(chunk)
                if total > max_size:
                    raise BatchTooLargeError(f"body: zstd frame decodes to more than the {max_size} limit")
                chunks.append(chunk)
            return b"".join(chunks)
    except zstandard.ZstdError as e:
        raise BatchDecodeError(f"body: not a zstd frame within {max_size} bytes ({e})") from e


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
    data_class: DataClass
    stream: str = Field(..., min_length=1)
    records: list[SyncRecord] = Field(..., min_length=1)


class BatchAck(BaseModel):
    """The receiver's answer, sent only after the batch is durably committed."""

    # cache_strings off: pydantic's JSON parser otherwise keeps every string it reads (up to 16384 of them,
    # process-wide) and each ack carries a new batch id, so sync's memory rose for the ~40 minutes it took to fill.
    model_config = ConfigDict(populate_by_name=True, cache_strings=False)

    api_version: str = Field("v3", alias="apiVersion")
    status_code: int = Field(200, alias="statusCode")
    batch_id: str = Field(..., alias="batchId")
    accepted: int = Field(..., description="Records stored by this request")
    duplicates: int = Field(..., description="Records already stored (idempotent replays)")


def encode_batch(batch: SyncBatch, level: int = 3) -> bytes:
    """msgpack + zstd of a validated batch (see :func:`encode_rows`)."""
    header = BatchHeader(
        batch_id=batch.batch_id, gateway=batch.gateway, data_class=batch.data_class, stream=batch.stream
    )
    rows = [
        RecordRow(r.key, r.device, r.seq, r.subject, r.stream_seq, r.ts_ns, r.content_type, r.payload)
        for r in batch.records
    ]
    return encode_rows(header, rows, level)


def encode_rows(header: BatchHeader, rows: Sequence[RecordRow], level: int = 3, *, pack: bool = True) -> bytes:
    """msgpack + zstd; records are positional arrays, sequences and timestamps deltas from the first record's.

    Event batches (``pack``) become version 2: the JSON AddEventRequest payloads the columnar codec can reproduce
    byte for byte (:mod:`edgewatch.syncwire.eventpack`) travel packed, the others as they are.

    Raises:
        ValueError: ``rows`` is empty.
    """
    if not rows:
        raise ValueError("records: a batch needs at least one record")
    base_seq, base_ts = rows[0].stream_seq, rows[0].ts_ns
    packed = [False] * len(rows)
    events: Any = None
    if pack and header.data_class is DataClass.EVENT:
        packed, events = pack_events([None if r.content_type else r.payload for r in rows])
    packed_rows = [
        (
            r.key,
            r.device,
            r.seq,
            r.subject,
            r.stream_seq - base_seq,
            r.ts_ns - base_ts,
            r.content_type,
            None if p else r.payload,
        )
        for r, p in zip(rows, packed, strict=True)
    ]
    doc: tuple[Any, ...] = (
        _WIRE_VERSION if events is None else _WIRE_VERSION_PACKED,
        header.batch_id,
        header.gateway,
        header.data_class.value,
        header.stream,
        base_seq,
        base_ts,
        packed_rows,
    )
    if events is not None:
        doc = (*doc, events)
    body: bytes = msgpack.packb(doc, use_bin_type=True)
    out: bytes = zstandard.ZstdCompressor(level=level).compress(body)
    return out


def is_packed(body: bytes) -> bool:
    """Whether an encoded batch is version 2 (carries an event pack); False for anything unreadable."""
    try:
        doc = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(body), raw=False, use_list=False)
    except (zstandard.ZstdError, ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        return False
    return isinstance(doc, tuple) and doc[:1] == (_WIRE_VERSION_PACKED,)


class BatchHeader(BaseModel):
    """A decoded batch's header (the receiver's fast path keeps records as validated rows)."""

    batch_id: str = Field(..., min_length=1)
    gateway: str = Field(..., min_length=1)
    data_class: DataClass
    stream: str = Field(..., min_length=1)


class RecordRow(NamedTuple):
    """A validated record as a plain tuple, sequences and timestamps absolute."""

    key: str
    device: str
    seq: int
    subject: str
    stream_seq: int
    ts_ns: int
    content_type: str
    payload: bytes

    def resolved_key(self, gateway: str, stream: str) -> str:
        """The idempotency key the receiver deduplicates on."""
        return self.key or f"{gateway}/{stream}/{self.stream_seq}"


class PackedEvents(NamedTuple):
    """A version-2 batch's event pack, checked but not unpacked (the receiver rebuilds the payloads on read)."""

    body: bytes
    """The pack as msgpack; :func:`unpack_packed` gives its payloads."""
    rows: list[int]
    """Index of the batch row each packed event belongs to, in packing order."""
    origins: list[int]
    """``event.origin`` of each packed event, in packing order."""


def unpack_packed(body: bytes) -> list[bytes]:
    """The payloads of a :attr:`PackedEvents.body`, in packing order.

    Raises:
        ValueError: a malformed pack.
    """
    return unpack_events(msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=False))


def decode_batch_rows(data: bytes, max_size: int = 64 * 1024 * 1024) -> tuple[BatchHeader, list[RecordRow]]:
    """Decode and validate a batch into its header and record rows (no per-record model objects).

    Raises:
        BatchDecodeError: not zstd, not msgpack, too large once decompressed, or not the batch schema.
    """
    header, rows, _ = _decode(data, max_size, unpack=True)
    return header, rows


def decode_batch_packed(
    data: bytes, max_size: int = 64 * 1024 * 1024
) -> tuple[BatchHeader, list[RecordRow], PackedEvents | None]:
    """Like :func:`decode_batch_rows`, but packed events stay packed: their rows have an empty payload and the
    checked pack comes back as :class:`PackedEvents` (None for a version-1 batch).

    Raises:
        BatchDecodeError: see :func:`decode_batch_rows`; also a pack that fails :func:`check_pack`.
    """
    return _decode(data, max_size, unpack=False)


def _decode(data: bytes, max_size: int, *, unpack: bool) -> tuple[BatchHeader, list[RecordRow], PackedEvents | None]:
    raw = decompress_bounded(data, max_size)
    try:
        doc: Any = msgpack.unpackb(raw, raw=False, strict_map_key=True, use_list=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as e:
        raise BatchDecodeError(f"body: not msgpack ({e})") from e
    if not isinstance(doc, tuple) or (doc[:1], len(doc)) not in (((_WIRE_VERSION,), 8), ((_WIRE_VERSION_PACKED,), 9)):
        raise BatchDecodeError("body: not a version-1 or version-2 sync batch")
    try:
        _, batch_id, gateway, cls, stream, base_seq, base_ts = _HEAD.validate_python(doc[:7])
        header = BatchHeader(batch_id=batch_id, gateway=gateway, data_class=cls, stream=stream)
    except ValidationError as e:
        raise BatchDecodeError(f"header.{_first_error(e, _HEAD_FIELDS)}") from e
    packed: PackedEvents | None = None
    if len(doc) == 8:
        raw_rows = doc[7]
    elif unpack:
        raw_rows = _unpacked_rows(doc[7], doc[8])
    else:
        raw_rows, packed = _packed_rows(doc[7], doc[8])
    try:
        rows = _ROWS.validate_python(raw_rows, strict=True)
    except ValidationError as e:
        raise BatchDecodeError(f"records.{_first_error(e, _ROW_FIELDS)}") from e
    if not rows:
        raise BatchDecodeError("records: must not be empty")
    out = [RecordRow(k, d, q, s, base_seq + n, base_ts + t, c, p) for k, d, q, s, n, t, c, p in rows]
    if any(r.seq < 0 or r.stream_seq < 1 or r.ts_ns < 0 for r in out):
        raise BatchDecodeError("records: negative sequence or timestamp")
    return header, out, packed


def decode_batch(data: bytes, max_size: int = 64 * 1024 * 1024) -> SyncBatch:
    """Inverse of :func:`encode_batch`, as a validated model.

    Raises:
        BatchDecodeError: see :func:`decode_batch_rows`.
    """
    header, rows = decode_batch_rows(data, max_size)
    try:
        return SyncBatch(
            batch_id=header.batch_id,
            gateway=header.gateway,
            data_class=header.data_class,
            stream=header.stream,
            records=[SyncRecord(**r._asdict()) for r in rows],
        )
    except ValidationError as e:
        raise BatchDecodeError(f"records: {_first_error(e)}") from e


def _unpacked_rows(rows: Any, pack: Any) -> tuple[Any, ...]:
    """Version 2: rows whose payload is nil take the next payload unpacked from the event pack, in order."""
    try:
        payloads = unpack_events(pack)
        if sum(1 for r in rows if r[7] is None) != len(payloads):
            raise ValueError("the number of packed events does not match the rows without payload")
        it = iter(payloads)
        return tuple(r if r[7] is not None else (*r[:7], next(it)) for r in rows)
    except (ValueError, TypeError, IndexError) as e:
        raise BatchDecodeError(f"events: {e}"[:300]) from e


def _packed_rows(rows: Any, pack: Any) -> tuple[tuple[Any, ...], PackedEvents]:
    """Version 2 without unpacking: rows whose payload is nil get an empty one and a place in the pack."""
    try:
        origins = check_pack(pack)
        where = [i for i, r in enumerate(rows) if r[7] is None]
        if len(where) != len(origins):
            raise ValueError("the number of packed events does not match the rows without payload")
        out = tuple(r if r[7] is not None else (*r[:7], b"") for r in rows)
        body: bytes = msgpack.packb(pack, use_bin_type=True)
        return out, PackedEvents(body, where, origins)
    except (ValueError, TypeError, IndexError) as e:
        raise BatchDecodeError(f"events: {e}"[:300]) from e


_HEAD_FIELDS = ("version", "batchId", "gateway", "class", "stream", "baseSeq", "baseTs")
_ROW_FIELDS = ("key", "device", "seq", "subject", "streamSeq", "tsNs", "contentType", "payload")


def _first_error(e: ValidationError, names: tuple[str, ...] = ()) -> str:
    """``<index>.<field>: <message>`` of the first error, positional indexes named where known."""
    err = e.errors()[0]
    loc = list(err.get("loc", ()))
    if names and loc and isinstance(loc[-1], int) and loc[-1] < len(names):
        loc[-1] = names[loc[-1]]
    return f"{'.'.join(str(p) for p in loc)}: {err.get('msg')}"[:300]
