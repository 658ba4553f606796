"""Packed event batches at the receiver: the pack is committed as one block and payloads are rebuilt on read,
byte for byte, in every query order, across the block cache and in a store created before packs existed."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from edgewatch.common.contracts.eventcodec import decode_add_event
from edgewatch.receiver.decode import stored_event
from edgewatch.receiver.sqlite import SqliteStore
from edgewatch.receiver.store import RecordQuery
from edgewatch.syncwire.batch import BatchHeader, DataClass, RecordRow, decode_batch_packed, encode_rows
from tests.sync.loadgen import edgex_event

STREAM = "EW_SYNC_EVENT"


def _batch(n: int, first: int, opaque: int = -1) -> tuple[BatchHeader, list[RecordRow]]:
    rows = []
    for seq in range(first, first + n):
        device = f"pump-{seq % 3}"
        payload = edgex_event(device, seq, origin=1_763_000_000_000_000_000 + seq * 977)
        if seq == opaque:  # tags: the codec cannot pack it, it travels and is stored as it is
            doc = json.loads(payload)
            doc["event"]["tags"] = {"site": "a"}
            payload = json.dumps(doc, separators=(",", ":")).encode()
        rows.append(
            RecordRow("", device, seq, f"edgex.events.device.x.pump.{device}.all", seq, 1_000 + seq, "", payload)
        )
    return BatchHeader(batch_id=f"gw/{first}", gateway="gw", data_class=DataClass.EVENT, stream=STREAM), rows


async def _ingest(store: SqliteStore, header: BatchHeader, rows: list[RecordRow]) -> int:
    h, lazy, packed = decode_batch_packed(encode_rows(header, rows))
    assert packed is not None
    return (await store.ingest(h, lazy, time.time_ns(), packed)).accepted


async def test_packed_events_are_committed_as_blocks_and_read_back_byte_identical(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "r.db")
    await store.open()
    try:
        sent: list[RecordRow] = []
        for k in range(12):  # more blocks than the reader caches
            header, rows = _batch(5, 1 + 5 * k, opaque=7)
            assert await _ingest(store, header, rows) == 5
            sent += rows
        header, rows = _batch(5, 1, opaque=7)
        replay = decode_batch_packed(encode_rows(header.model_copy(update={"batch_id": "again"}), rows))
        ack = await store.ingest(replay[0], replay[1], time.time_ns(), replay[2])
        in_order = await store.query(RecordQuery(DataClass.EVENT, newest_first=False), 0, 100)
        newest = await store.query(RecordQuery(DataClass.EVENT), 0, 100)
        paged = await store.query(RecordQuery(DataClass.EVENT, device="pump-1"), 3, 4)
        count = await store.count(RecordQuery(DataClass.EVENT))
    finally:
        await store.close()
    assert (ack.accepted, ack.duplicates) == (0, 5)
    assert [r.payload for r in in_order] == [r.payload for r in sent] and count == 60
    assert [(r.seq, r.payload) for r in newest] == [(r.seq, r.payload) for r in reversed(sent)]
    assert [r.origin_ns for r in newest] == [json.loads(r.payload)["event"]["origin"] for r in reversed(sent)]
    pump1 = [r for r in reversed(sent) if r.device == "pump-1"][3:7]
    assert [r.payload for r in paged] == [r.payload for r in pump1]
    assert stored_event(in_order[6]) == decode_add_event(sent[6].payload).event.to_dict()
    assert "tags" in stored_event(in_order[6])


async def test_a_store_from_before_packs_gains_the_block_columns_and_keeps_its_records(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    old = sqlite3.connect(db)
    old.executescript(
        "CREATE TABLE records (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, gateway TEXT NOT NULL,"
        " cls TEXT NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL, subject TEXT NOT NULL, stream TEXT NOT NULL,"
        " stream_seq INTEGER NOT NULL, ts_ns INTEGER NOT NULL, origin_ns INTEGER NOT NULL,"
        " received_ns INTEGER NOT NULL, content_type TEXT NOT NULL, payload BLOB NOT NULL);"
    )
    before = edgex_event("pump-0", 100)
    origin = json.loads(before)["event"]["origin"]
    old.execute(
        "INSERT INTO records VALUES (1,'gw/S/100','gw','event','pump-0',100,'s','S',100,1,?,1,'',?)", (origin, before)
    )
    old.commit()
    old.close()
    store = SqliteStore(db)
    await store.open()
    try:
        header, rows = _batch(4, 1)
        assert await _ingest(store, header, rows) == 4
        back = await store.query(RecordQuery(DataClass.EVENT, newest_first=False), 0, 10)
    finally:
        await store.close()
    assert [r.payload for r in back] == [before, *(r.payload for r in rows)]
