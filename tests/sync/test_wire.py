"""The sync batch wire format (syncwire.batch): lossless round trip, compactness, strict decoding."""

from __future__ import annotations

import msgpack
import pytest
import zstandard

from edgewatch.sync.record import ack_position, device_of
from edgewatch.syncwire.batch import (
    BatchDecodeError,
    DataClass,
    SyncBatch,
    SyncRecord,
    decode_batch,
    decode_batch_rows,
    encode_batch,
)


def _batch(n: int = 3) -> SyncBatch:
    records = [
        SyncRecord(
            key="" if i % 2 else f"gw/event/id-{i}",
            device="pump-1",
            seq=10 + i,
            subject="edgex.events.device.edgewatch-ingest.pump.pump-1.all",
            stream_seq=500 + i,
            ts_ns=1_763_000_000_000_000_000 + i * 1_000,
            content_type="application/cbor" if i == 1 else "",
            payload=bytes([i]) * 40,
        )
        for i in range(n)
    ]
    return SyncBatch(
        batch_id="gw/EW_SYNC_EVENT/500-502",
        gateway="gw",
        data_class=DataClass.EVENT,
        stream="EW_SYNC_EVENT",
        records=records,
    )


def test_batch_round_trips_losslessly() -> None:
    batch = _batch()
    assert decode_batch(encode_batch(batch)) == batch


def test_record_key_defaults_to_gateway_stream_and_sequence() -> None:
    rec = _batch().records[1]
    assert rec.resolved_key("gw", "EW_SYNC_EVENT") == "gw/EW_SYNC_EVENT/501"
    assert _batch().records[0].resolved_key("gw", "EW_SYNC_EVENT") == "gw/event/id-0"


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ((2, "b", "gw", "event", "S", 1, 1, ()), "version-1"),
        ((1, "b", "gw", "nope", "S", 1, 1, ()), "header.class"),
        ((1, "b", "gw", "event", "S", 1, 1, ()), "empty"),
        ((1, "b", "gw", "event", "S", 1, 1, (("", "d", 1, "s", 0, 0, "", "text, not bytes"),)), "records.0.payload"),
        ((1, "b", "gw", "event", "S", 1, 1, (("", "d", -1, "s", 0, 0, "", b"x"),)), "negative"),
    ],
)
def test_decoding_rejects_batches_off_the_schema(doc: tuple, needle: str) -> None:
    body = zstandard.compress(msgpack.packb(doc, use_bin_type=True))
    with pytest.raises(BatchDecodeError, match=needle):
        decode_batch_rows(body)


def test_decoding_refuses_a_bomb_beyond_the_size_limit() -> None:
    body = zstandard.compress(
        msgpack.packb([1, "b", "gw", "event", "S", 1, 1, [["", "d", 1, "s", 0, 0, "", bytes(10_000)]]])
    )
    with pytest.raises(BatchDecodeError, match="over the 1000 limit"):
        decode_batch_rows(body, max_size=1_000)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("$JS.ACK.EW_SYNC_EVENT.UP.1.42.40.1763000000000000001.0", (42, 1763000000000000001)),
        ("$JS.ACK.edge.ACCHASH.EW_SYNC_EVENT.UP.1.42.40.1763000000000000001.0.rand", (42, 1763000000000000001)),
    ],
)
def test_ack_subject_gives_stream_sequence_and_store_time(reply: str, expected: tuple[int, int]) -> None:
    assert ack_position(reply) == expected


@pytest.mark.parametrize(
    ("cls", "subject", "device"),
    [
        (DataClass.EVENT, "edgex.events.device.edgewatch-ingest.pump.pump-1.all", "pump-1"),
        (DataClass.FEATURE, "edgewatch.features.vector.pump-2", "pump-2"),
        (DataClass.SCORE, "edgewatch.inference.score.pump-3", "pump-3"),
        (DataClass.ALERT, "edgewatch.rules.alert.overpressure", "overpressure"),
        (DataClass.EVENT, "odd", "odd"),
    ],
)
def test_device_key_comes_from_the_class_subject(cls: DataClass, subject: str, device: str) -> None:
    assert device_of(cls, subject) == device
