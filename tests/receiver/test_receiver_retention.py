"""Receiver retention: what arrived before the cutoff is deleted (records, packed blocks, batch entries), what
arrived after is kept byte-identical and still deduplicated, and ids are never reused (cursors stay valid)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable
from pathlib import Path

from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.receiver.config import ReceiverSection
from edgewatch.receiver.retention import RetentionSweeper
from edgewatch.receiver.sqlite import SqliteStore
from edgewatch.receiver.store import RecordQuery
from edgewatch.syncwire.batch import BatchHeader, DataClass, RecordRow, decode_batch_packed, encode_rows
from tests.receiver.support import LiveReceiver
from tests.support.waiting import wait_until
from tests.sync.loadgen import edgex_event

DAY = 86_400 * 1_000_000_000
NOW = 1_790_000_000 * 1_000_000_000


def _events(first: int, n: int = 4) -> tuple[BatchHeader, list[RecordRow]]:
    rows = [
        RecordRow(
            "", "pump-1", s, "edgex.events.device.x.pump.pump-1.all", s, s, "", edgex_event("pump-1", s, origin=s)
        )
        for s in range(first, first + n)
    ]
    return BatchHeader(batch_id=f"gw/e/{first}", gateway="gw", data_class=DataClass.EVENT, stream="S@1"), rows


def _scores(first: int, n: int = 3) -> tuple[BatchHeader, list[RecordRow]]:
    rows = [
        RecordRow("", "pump-1", s, "edgewatch.inference.score.pump-1", s, s, "", b"%d" % s)
        for s in range(first, first + n)
    ]
    return BatchHeader(batch_id=f"gw/s/{first}", gateway="gw", data_class=DataClass.SCORE, stream="T@1"), rows


async def _ingest(store: SqliteStore, batch: tuple[BatchHeader, list[RecordRow]], received_ns: int) -> tuple[int, int]:
    header, rows, packed = decode_batch_packed(encode_rows(*batch))
    assert (packed is not None) == (header.data_class is DataClass.EVENT)  # events go packed, as sync sends them
    ack = await store.ingest(header, rows, received_ns, packed)
    return ack.accepted, ack.duplicates


def _table_counts(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as conn:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("records", "packed_blocks", "batches")
        )  # type: ignore[return-value]


async def test_records_received_before_the_cutoff_are_deleted_and_newer_ones_kept(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "r.db")
    await store.open()
    sweeper = RetentionSweeper(store, ReceiverSection(retention_days=3), ServiceMetrics("receiver-test"))
    try:
        assert await _ingest(store, _events(1), NOW - 10 * DAY) == (4, 0)
        assert await _ingest(store, _scores(1), NOW - 10 * DAY) == (3, 0)
        assert await _ingest(store, _events(5), NOW - 5 * DAY) == (4, 0)
        kept = _events(9)
        assert await _ingest(store, kept, NOW - 1 * DAY) == (4, 0)
        assert await _ingest(store, _scores(4), NOW - 1 * DAY) == (3, 0)
        cursor_before = max(r.id for r in await store.query(RecordQuery(DataClass.EVENT), 0, 100))
        assert await sweeper.sweep(now_ns=NOW) == 11
        events = await store.query(RecordQuery(DataClass.EVENT, newest_first=False), 0, 100)
        scores = await store.query(RecordQuery(DataClass.SCORE, newest_first=False), 0, 100)
        assert [r.seq for r in events] == [9, 10, 11, 12]
        assert [r.payload for r in events] == [r.payload for r in kept[1]]  # rebuilt from the kept block
        assert [r.payload for r in scores] == [b"4", b"5", b"6"]
        assert await _ingest(store, kept, NOW) == (0, 4)  # kept data is still deduplicated
        assert await _ingest(store, _events(13), NOW) == (4, 0)
        newer = await store.query(RecordQuery(DataClass.EVENT, after_id=cursor_before, newest_first=False), 0, 100)
        assert [r.seq for r in newer] == [13, 14, 15, 16]
        assert await sweeper.sweep(now_ns=NOW) == 0
    finally:
        await store.close()
    assert _table_counts(tmp_path / "r.db") == (4 + 3 + 4, 2, 3)


async def test_pruning_everything_keeps_the_newest_row_so_ids_and_cached_blocks_are_never_reused(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "r.db")
    await store.open()
    sweeper = RetentionSweeper(store, ReceiverSection(retention_days=1), ServiceMetrics("receiver-test"))
    try:
        await _ingest(store, _events(1), NOW - 9 * DAY)
        await _ingest(store, _events(5), NOW - 8 * DAY)
        old = await store.query(RecordQuery(DataClass.EVENT, newest_first=False), 0, 100)  # fills the block cache
        assert await sweeper.sweep(now_ns=NOW) == 7  # all but the newest row
        new = _events(101)
        await _ingest(store, new, NOW)
        rows = await store.query(RecordQuery(DataClass.EVENT, newest_first=False), 0, 100)
    finally:
        await store.close()
    assert [r.seq for r in rows] == [8, 101, 102, 103, 104]
    assert min(r.id for r in rows[1:]) > max(r.id for r in old)
    assert [r.payload for r in rows[1:]] == [r.payload for r in new[1]]


async def test_no_retention_configured_deletes_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "r.db")
    await store.open()
    try:
        await _ingest(store, _events(1), NOW - 900 * DAY)
        assert await RetentionSweeper(store, ReceiverSection(), ServiceMetrics("receiver-test")).sweep() == 0
        assert await store.count(RecordQuery(DataClass.EVENT)) == 4
    finally:
        await store.close()


async def test_the_receiver_sweeps_at_start_when_a_retention_is_configured(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "receiver" / "receiver.db")
    await store.open()
    now = time.time_ns()
    await _ingest(store, _events(1), now - 10 * DAY)
    await _ingest(store, _events(5), now - 1 * DAY)
    await store.close()
    receiver = LiveReceiver(tmp_path, RetentionDays=2)
    await receiver.start()
    try:
        async with receiver.client() as c:

            async def count() -> int:
                return int((await c.get("/api/v3/event/count")).json()["count"])

            await wait_until(lambda: _eq(count(), 4), 10, message="old records swept at start")
            metrics = (await c.get("/metrics")).text
        assert "edgewatch_receiver_retention_deleted_records_total 4.0" in metrics
    finally:
        await receiver.stop()


async def _eq(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
